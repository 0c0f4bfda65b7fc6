"""JSON API under /api/v1/mail-intake: the intake log and the state of each mailbox."""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import (NotFound, PageQuerySchema, Text, api_blueprint, api_operation, keyset_page, load_query,
                      page_schema, require, require_api_user)

from . import services
from .models import STATUSES, IntakeMessage, MailboxCursor

blueprint = api_blueprint("mail_intake_api", __name__, url_prefix="/api/v1/mail-intake")
TAGS = ("mail_intake",)
PERMISSION = "mail_intake.manage"


class MessageOutput(Schema):
    id = mf.Integer()
    mailbox = mf.String()
    message_id = mf.String()
    uid = mf.Integer()
    sender = mf.String()
    subject = mf.String()
    status = mf.String(metadata={"description": "accepted, threaded, ignored, refused or throttled"})
    reason = mf.String()
    verified = mf.Boolean()
    task_id = mf.Integer(allow_none=True)
    comment_id = mf.Integer(allow_none=True)
    received_at = mf.String()


class MessageQuery(PageQuerySchema):
    status = mf.String(validate=validate.OneOf(STATUSES))
    mailbox = Text(max_length=64)


class MailboxOutput(Schema):
    name = mf.String()
    enabled = mf.Boolean()
    host = mf.String()
    folder = mf.String()
    department_id = mf.Integer()
    uidvalidity = mf.Integer(allow_none=True)
    last_uid = mf.Integer(allow_none=True)
    checked_at = mf.String(allow_none=True)
    last_error = mf.String(allow_none=True)
    counts = mf.Dict(keys=mf.String(), values=mf.Integer())


class MailboxList(Schema):
    items = mf.List(mf.Nested(MailboxOutput))


def message_to_dict(row: IntakeMessage) -> dict:
    return {"id": row.id, "mailbox": row.mailbox, "message_id": row.message_id, "uid": row.uid, "sender": row.sender,
            "subject": row.subject, "status": row.status, "reason": row.reason, "verified": bool(row.verified),
            "task_id": row.task_id, "comment_id": row.comment_id, "received_at": row.received_at.isoformat()}


def mailbox_to_dict(mailbox: dict, cursors: dict[str, MailboxCursor]) -> dict:
    # Never the password nor the user name: this is a status view.
    cursor = cursors.get(mailbox["name"])
    return {"name": mailbox["name"], "enabled": mailbox["enabled"], "host": mailbox["host"],
            "folder": mailbox["folder"], "department_id": mailbox["department_id"],
            "uidvalidity": cursor.uidvalidity if cursor else None, "last_uid": cursor.last_uid if cursor else None,
            "checked_at": cursor.checked_at.isoformat() if cursor and cursor.checked_at else None,
            "last_error": cursor.last_error if cursor else None, "counts": services.status_counts(mailbox["name"])}


@blueprint.get("/messages")
@api_operation("List the intake log", tags=TAGS, query=MessageQuery,
               response=page_schema("MailIntakeMessagePage", MessageOutput))
def list_messages():
    """Every message taken in, newest first; ``status`` and ``mailbox`` narrow the list."""
    require(require_api_user(), PERMISSION)
    query = load_query(MessageQuery)
    select = IntakeMessage.select()
    if query.get("status"):
        select = select.where(IntakeMessage.status == query["status"])
    if query.get("mailbox"):
        select = select.where(IntakeMessage.mailbox == query["mailbox"])
    rows, next_cursor = keyset_page(select, IntakeMessage.id, query["limit"], query.get("cursor"))
    return {"items": [message_to_dict(row) for row in rows], "next_cursor": next_cursor}


@blueprint.get("/mailboxes")
@api_operation("List the mailboxes and where each stands", tags=TAGS, response=MailboxList)
def list_mailboxes():
    require(require_api_user(), PERMISSION)
    cursors = {cursor.mailbox: cursor for cursor in MailboxCursor.select()}
    return {"items": [mailbox_to_dict(mailbox, cursors) for mailbox in services.settings()["mailboxes"]]}


def _managed_mailbox(name: str) -> dict:
    """The configured mailbox ``name`` for a user allowed to manage mail intake, else 403/404."""
    require(require_api_user(), PERMISSION)
    mailbox = services.mailbox_named(name)
    if mailbox is None:
        raise NotFound(_("No such mailbox."))
    return mailbox


@blueprint.get("/mailboxes/<name>")
@api_operation("Show one mailbox", tags=TAGS, response=MailboxOutput)
def show_mailbox(name: str):
    mailbox = _managed_mailbox(name)
    return mailbox_to_dict(mailbox, {c.mailbox: c for c in MailboxCursor.select().where(MailboxCursor.mailbox == name)})


class CheckOutput(Schema):
    ok = mf.Boolean()
    problem = mf.String(metadata={"description": "Why the mailbox cannot be read (empty when it can)"})


class RetryOutput(Schema):
    retried = mf.Integer()


@blueprint.post("/mailboxes/<name>/check")
@api_operation("Test a mailbox's connection", tags=TAGS, response=CheckOutput)
def check_mailbox(name: str):
    """Log in and select the folder, now; the password is never part of the answer."""
    problem = services.check_connection(_managed_mailbox(name))
    return {"ok": not problem, "problem": problem}


@blueprint.post("/messages/<id:message_id>/retry")
@api_operation("Retry a failed message", tags=TAGS, response=RetryOutput)
def retry_message(message_id: int):
    """A message that failed is taken in again by the next run; any other is a 404."""
    require(require_api_user(), PERMISSION)
    if not services.retry_failed([message_id]):
        raise NotFound(_("No such failed message."))
    return {"retried": 1}
