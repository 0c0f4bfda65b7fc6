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
    verified = IntegerField(default=0)  # 1: filed or commented as the sender (a reply token, or DKIM of a trusted domain)
    task_id = IntegerField(null=True, index=True)
    comment_id = IntegerField(null=True)
    original_id = IntegerField(null=True)  # the attachment holding the message as received (.eml)
    size = IntegerField(default=0)
    received_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "mail_intake_message"
        indexes = ((("mailbox", "message_id"), True), (("mailbox", "sender", "received_at"), False))


class Requester(BaseModel):
    """The external requester of a task filed from mail by someone who is not an active user: told by
    e-mail that their request was received and of later public comments, and able to reply (by the
    reply token in those messages, kind "c" with this row's id)."""
    task_id = IntegerField(unique=True)
    email = CharField(max_length=254, index=True)
    name = CharField(max_length=200, default="")
    mailbox = CharField(max_length=64)
    message_id = CharField(max_length=255, default="")  # the request's own Message-ID (our answers refer to it)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "mail_intake_requester"


class OutgoingMail(BaseModel):
    """One message to an external requester, keyed by what it is about ("ack:<task id>",
    "comment:<comment id>"): the event that sends it may be delivered more than once, the mail is sent
    once it is "sent" here (at least once: a crash between sending and recording repeats it, with
    the same Message-ID)."""
    key = CharField(max_length=100, unique=True)
    task_id = IntegerField(index=True)
    recipient = CharField(max_length=254)
    status = CharField(max_length=16, default="pending")  # pending, sent, bounced
    reason = CharField(max_length=300, default="")
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "mail_intake_outgoing"


MODELS = [MailboxCursor, IntakeMessage, Requester, OutgoingMail]
