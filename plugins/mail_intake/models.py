"""The mail_intake plugin's tables: the read position of each mailbox and the ledger of every message."""
from __future__ import annotations

from peewee import BigIntegerField, CharField, IntegerField, TextField

from workdesk import BaseModel, UTCDateTimeField, utcnow

# What became of a message (the intake log's status column).
STATUSES = ("accepted", "threaded", "ignored", "refused", "throttled", "failed")


class MailboxCursor(BaseModel):
    """The highest UID taken in from a mailbox folder, valid while the folder keeps its UIDVALIDITY."""
    mailbox = CharField(max_length=64, unique=True)
    uidvalidity = BigIntegerField(default=0)
    last_uid = BigIntegerField(default=0)
    checked_at = UTCDateTimeField(null=True)
    last_error = TextField(null=True)

    class Meta:
        table_name = "mail_intake_cursor"


class IntakeMessage(BaseModel):
    """One message handled, written in the same transaction as its task or comment: the unique
    (mailbox, message_id) makes a second take-in of the same message (a crash before the cursor moved,
    a second worker) fail instead of filing twice."""
    mailbox = CharField(max_length=64)
    message_id = CharField(max_length=255)
    uidvalidity = BigIntegerField()
    uid = BigIntegerField()
    sender = CharField(max_length=254, index=True)
    subject = CharField(max_length=300, default="")
    status = CharField(max_length=16, index=True)
    reason = CharField(max_length=300, default="")
    verified = IntegerField(default=0)  # 1: filed or commented as the sender (the mailbox trusts its addresses)
    task_id = IntegerField(null=True, index=True)
    comment_id = IntegerField(null=True)
    original_id = IntegerField(null=True)  # the attachment holding the message as received (.eml)
    size = IntegerField(default=0)
    received_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "mail_intake_message"
        indexes = ((("mailbox", "message_id"), True), (("mailbox", "sender", "received_at"), False))


MODELS = [MailboxCursor, IntakeMessage]
