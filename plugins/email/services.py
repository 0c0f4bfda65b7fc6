"""Composing and sending notification emails, and recording each attempt in the delivery log."""
from __future__ import annotations

import datetime as dt
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from flask_babel import gettext, ngettext
from jinja2 import Environment, PackageLoader, select_autoescape

from workdesk import Notification, Task, notifications, outbound, plugin_settings, utcnow

from .models import EmailDelivery

CHANNEL = "email"
delivery = notifications.delivery

templates = Environment(loader=PackageLoader("workdesk.plugins.email", "templates"), autoescape=select_autoescape(["html"]),
                        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
templates.install_gettext_callables(gettext, ngettext, newstyle=True)


def settings() -> dict:
    return plugin_settings("email")


def policy(current: dict | None = None) -> delivery.RetryPolicy:
    current = current or settings()
    return delivery.RetryPolicy.from_settings(current)


def _one_line(text: str) -> str:
    # Header values may not hold line breaks (header injection); titles come from users.
    return " ".join(text.split())


def message_id(row: EmailDelivery, current: dict) -> str:
    """The ``Message-ID`` of the ledger row ``row``: the same on every attempt, so that a receiver (or a
    mail client) can drop the repeat that at-least-once delivery may send after a lost reply."""
    domain = current["from_address"].rsplit("@", 1)[-1]
    return f"<delivery-{row.id}.{row.notification_id}@{domain}>"


def thread_root(task_id: int, current: dict) -> str:
    """The Message-ID every message about task ``task_id`` answers (``In-Reply-To``, ``References``): one
    stable id per task, so mail clients show all of a task's notifications as one conversation."""
    domain = current["from_address"].rsplit("@", 1)[-1]
    return f"<workdesk-task-{task_id}@{domain}>"


_OWN_ID = re.compile(r"<delivery-(\d{1,18})\.(\d{1,18})@([^>]+)>")


def mark_bounced(message_id: str, reason: str) -> bool | None:
    """The ``delivery_bounced`` hook: mark the delivery row a bounced Message-ID of ours names."""
    found = _OWN_ID.fullmatch(message_id.strip())
    if not found or found.group(3).lower() != settings()["from_address"].rsplit("@", 1)[-1].lower():
        return None
    return delivery.mark_bounced(EmailDelivery, int(found.group(1)), int(found.group(2)), reason) or None


def build_message(note: Notification, to: str, current: dict, message_id: str) -> EmailMessage:
    """The plain-text and HTML message for ``note`` (a digest lists its items, each with its link)."""
    is_digest = note.kind == notifications.DIGEST_KIND
    items = notifications.digest_items(note, CHANNEL) if is_digest else []
    context = {
        "note": note, "is_digest": is_digest, "task_url": notifications.task_url(note.task_id),
        "items": [(item, notifications.task_url(item.task_id)) for item in items],
        "inbox_url": notifications.inbox_url(), "recipient": note.recipient,
    }
    message = EmailMessage()
    message["Subject"] = _one_line(note.subject)[:250]
    message["From"] = current["from_address"]
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Workdesk-Notification"] = str(note.id)
    if note.task_id is not None:
        root = thread_root(note.task_id, current)
        message["In-Reply-To"] = root
        message["References"] = root
        task = Task.get_or_none(Task.id == note.task_id)
        # Replies go where a plugin that takes mail in says (mail_intake: a plus-address with a signed
        # reply token naming the task and the recipient), asked through the hook: no import of it here.
        reply_to = notifications.reply_address(task, note.recipient) if task is not None else None
        if reply_to:
            message["Reply-To"] = _one_line(reply_to)
    with notifications.in_language_of(note.recipient):  # the reader's language, whoever caused the note
        text = templates.get_template("email/notification.txt").render(context)
        html = templates.get_template("email/notification.html").render(context)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


PERMANENT_CODES = range(500, 600)


def send_message(message: EmailMessage, current: dict) -> None:
    """Hand ``message`` to the configured SMTP server; a 5xx refusal of the message is permanent."""
    try:
        outbound.send_mail(message, current)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reason in exc.recipients.values()]
        if all(code in PERMANENT_CODES for code in codes):
            raise delivery.PermanentDeliveryError(f"the server refused the recipient: {exc.recipients}") from None
        raise
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        if exc.smtp_code in PERMANENT_CODES:
            raise delivery.PermanentDeliveryError(
                f"the server refused the message: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}") from None
        raise


def _send_row(row: EmailDelivery, current: dict, note: Notification | None = None) -> None:
    note = note or Notification.get_or_none(Notification.id == row.notification_id)
    if note is None:
        raise delivery.PermanentDeliveryError("the notification was deleted")
    send_message(build_message(note, row.destination, current, message_id(row, current)), current)


def deliver(note: Notification) -> str | None:
    """Called for each new notification: record it in the log and send it now if the recipient wants it.

    Returns the row's status, or None when nothing is to be sent by email.
    """
    if not notifications.should_deliver(note, CHANNEL) or not note.recipient.email:
        return None
    current = settings()
    (row,) = delivery.record(EmailDelivery, note.id, [note.recipient.email])
    if row.status != "pending":
        return row.status  # a redelivered event: this message was already handled
    return delivery.attempt(row, lambda r: _send_row(r, current, note), policy(current), fresh=True)


def deliver_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Retry the messages whose backoff has passed as of ``now``; returns how many were sent."""
    current = settings()
    return delivery.retry_due(EmailDelivery, lambda r: _send_row(r, current), policy(current), now)


def retry_dead_letters(ids) -> int:
    """An admin's retry: the dead messages go out with the next retry run."""
    return delivery.retry_dead(EmailDelivery, ids, utcnow())
