"""Admin views: the intake log (every message and what became of it) and each mailbox's read position."""
from __future__ import annotations

from flask_admin.contrib.peewee import ModelView
from flask_babel import lazy_gettext as _l

from workdesk import WorkdeskForm

from .models import IntakeMessage, MailboxCursor


class IntakeLogView(ModelView):
    """Every message taken in, read-only: accepted, threaded, ignored, refused or throttled, and why."""
    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = True
    column_list = ("id", "mailbox", "received_at", "sender", "subject", "status", "reason", "verified", "task_id",
                   "comment_id")
    column_labels = {"mailbox": _l("Mailbox"), "received_at": _l("Taken in (UTC)"), "sender": _l("Sender"),
                     "subject": _l("Subject"), "status": _l("Outcome"), "reason": _l("Why"),
                     "verified": _l("Sender verified"), "task_id": _l("Task id"), "comment_id": _l("Comment id")}
    column_filters = (IntakeMessage.status, IntakeMessage.mailbox, IntakeMessage.sender)
    column_searchable_list = (IntakeMessage.sender, IntakeMessage.subject)
    column_sortable_list = ("id", "received_at", "status", "sender")
    column_default_sort = ("id", True)
    page_size = 50


class CursorView(ModelView):
    """Where each mailbox stands: its UIDVALIDITY, the last UID taken in, the last check and error."""
    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    column_list = ("mailbox", "uidvalidity", "last_uid", "checked_at", "last_error")
    column_labels = {"mailbox": _l("Mailbox"), "last_uid": _l("Last UID taken in"),
                     "checked_at": _l("Last checked (UTC)"), "last_error": _l("Last error")}


def admin_views() -> list:
    return [IntakeLogView(IntakeMessage, name=_l("Intake log"), endpoint="mail_intake_log",
                          url="/admin/mail-intake/log"),
            CursorView(MailboxCursor, name=_l("Mailboxes"), endpoint="mail_intake_mailboxes",
                       url="/admin/mail-intake/mailboxes")]
