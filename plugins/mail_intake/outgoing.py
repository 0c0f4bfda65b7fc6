"""Mail to external requesters (people who wrote in but are not users): the acknowledgement of their
request and each later public comment on it, in the mailbox's language, with a reply token in the
Reply-To so that their answer threads into the task.

Sent from the event handlers (``on_task_created``, ``on_task_commented``) on a worker, through the
SMTP server of the ``email`` plugin's settings (read with ``workdesk.plugin_settings``; nothing is
sent while that plugin is disabled). ``OutgoingMail`` keeps each message once by what it is about,
so a redelivered event does not send again.
"""
from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from flask_babel import gettext as _

from workdesk import Comment, Task, get_registry, notifications, outbound, plugin_settings, utcnow, write_transaction

from . import tokens
from .models import IntakeMessage, OutgoingMail, Requester

log = logging.getLogger("workdesk.mail_intake")


class _Reader:
    """Who reads the message, for ``notifications.in_language_of``: only the language matters."""

    def __init__(self, locale: str):
        self.locale = locale or None


def _mailbox(name: str) -> dict | None:
    from .services import mailbox_named
    return mailbox_named(name)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # header values never hold line breaks (titles come from people)


def acknowledge(task: Task) -> str | None:
    """Tell the external requester of ``task`` that it was filed; returns the status, or None when the
    task has none."""
    requester = Requester.get_or_none(Requester.task_id == task.id)
    if requester is None:
        return None
    mailbox = _mailbox(requester.mailbox)
    if mailbox is None or not mailbox["acknowledge"]:
        return None
    with notifications.in_language_of(_Reader(mailbox["language"])):
        subject = _("[#%(number)s] %(title)s", number=task.number, title=task.title)
        text = "\n\n".join([
            _("We have received your request and filed it as #%(number)s: %(title)s", number=task.number,
              title=task.title),
            _("Reply to this message to add anything to it; we will write to you here when there is news."),
        ])
    return _send(f"ack:{task.id}", task, requester, mailbox, subject, text)


def comment_added(task: Task, comment: Comment) -> str | None:
    """Mail a public comment on ``task`` to its external requester (not their own, which came by mail)."""
    requester = Requester.get_or_none(Requester.task_id == task.id)
    if requester is None or comment.internal:
        return None
    from .services import EXTERNAL_REPLY
    if IntakeMessage.select().where(IntakeMessage.comment_id == comment.id,
                                    (IntakeMessage.sender == requester.email) |
                                    IntakeMessage.reason.startswith(EXTERNAL_REPLY)).exists():
        return None  # the requester's own reply: not sent back to them
    mailbox = _mailbox(requester.mailbox)
    if mailbox is None:
        return None
    with notifications.in_language_of(_Reader(mailbox["language"])):
        subject = _("Re: [#%(number)s] %(title)s", number=task.number, title=task.title)
        text = "\n\n".join([
            _("%(name)s wrote on your request #%(number)s:", name=comment.author.name, number=task.number),
            comment.body,
            _("Reply to this message to answer."),
        ])
    return _send(f"comment:{comment.id}", task, requester, mailbox, subject, text)


def _send(key: str, task: Task, requester: Requester, mailbox: dict, subject: str, text: str) -> str:
    with write_transaction():
        OutgoingMail.insert(key=key, task_id=task.id, recipient=requester.email).on_conflict_ignore().execute()
    row = OutgoingMail.get(OutgoingMail.key == key)
    if row.status != "pending":
        return row.status  # a redelivered event: already sent
    registry = get_registry()
    if "email" not in registry.plugins or not registry.is_enabled("email"):
        log.info("mail_intake: no mail to %s about task %s: the email plugin is disabled", requester.email, task.id)
        return "pending"
    current = plugin_settings("email")
    address = mailbox["address"].lower()
    domain = address.rpartition("@")[2]
    message = EmailMessage()
    message["Subject"] = _one_line(subject)[:250]
    message["From"] = formataddr((mailbox["name"], address))
    message["To"] = requester.email
    message["Reply-To"] = tokens.plus_address(address, tokens.make(task.id, "c", requester.id))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<mail-intake-{row.id}@{domain}>"
    root = f"<workdesk-task-{task.id}@{domain}>"
    message["In-Reply-To"] = requester.message_id or root
    message["References"] = " ".join(filter(None, (requester.message_id, root)))
    # RFC 3834: an automatic answer; other responders must not answer it (no loops).
    message["Auto-Submitted"] = "auto-replied" if key.startswith("ack:") else "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    send(message, current)
    with write_transaction():
        OutgoingMail.update(status="sent", sent_at=utcnow()).where(OutgoingMail.id == row.id,
                                                                    OutgoingMail.status == "pending").execute()
    return "sent"


def send(message: EmailMessage, current: dict) -> None:
    """Hand ``message`` to the SMTP server of the email plugin's settings (certificates verified)."""
    outbound.send_mail(message, current)