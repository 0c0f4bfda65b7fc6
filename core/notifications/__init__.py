"""In-app notifications: the one path by which the core and every plugin reach a person.

``notify()`` stores the notification in the recipient's inbox inside the caller's transaction and
emits a ``notification.created`` outbox event; delivery plugins (email, webhooks, ...) receive it on a
worker after commit through the ``deliver_notification`` hook.
"""
from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from .. import outbox
from ..db import BaseModel, UTCDateTimeField, utcnow, write_transaction
from ..models import Task, User


class Notification(BaseModel):
    recipient = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=64)
    subject = CharField(max_length=300)
    body = TextField(default="")
    task_id = IntegerField(null=True, index=True)  # plain column: the note outlives a deleted task
    created_at = UTCDateTimeField(default=utcnow, index=True)
    read_at = UTCDateTimeField(null=True)
    is_read = BooleanField(default=False, index=True)

    class Meta:
        table_name = "core_notification"


MODELS = [Notification]


def notify(recipient: User, kind: str, subject: str, body: str = "", task: Task | None = None) -> Notification | None:
    """Put a notification in ``recipient``'s inbox and hand it to every enabled delivery plugin after commit.

    :param kind: a dotted name (``task.assigned``, ``recurring.failed``) that preferences refer to.
    :return: the stored notification, or None when the recipient is inactive.
    """
    if recipient is None or not recipient.is_active:
        return None
    with write_transaction():
        note = Notification.create(recipient=recipient, kind=kind, subject=subject[:300], body=body or "",
                                   task_id=task.id if task is not None else None)
        outbox.emit("notification.created", {"notification_id": note.id})
    return note


def _delivery_kwargs(event) -> dict | None:
    note = Notification.get_or_none(Notification.id == event.payload["notification_id"])
    return {"notification": note} if note is not None else None


outbox.register_event_kind("notification.created", "deliver_notification", _delivery_kwargs)
