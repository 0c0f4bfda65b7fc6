"""Tables owned by the CRM sync plugin; their names start with ``crm_sync_``.

A customer is matched to the CRM only through :class:`CrmLink` (connector, remote type, remote id),
never by email: an email changed in the CRM updates the same customer, and a merge in the CRM moves
the loser's task links to the survivor.
"""
from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, JSONField, TextField

from workdesk import BaseModel, UTCDateTimeField, notifications, utcnow

KINDS = ("company", "contact")


class Customer(BaseModel):
    """A company or a contact, as the CRM last described it (plus the fields Workdesk owns)."""
    kind = CharField(max_length=16, default="contact")
    name = CharField(max_length=300, default="")
    emails = JSONField(default=list)
    phones = JSONField(default=list)
    company = ForeignKeyField("self", null=True, backref="contacts", on_delete="SET NULL")
    owner = CharField(max_length=200, default="")
    custom = JSONField(default=dict)
    notes = TextField(default="")
    # lower-cased name, emails and digits of phones: what ``q`` searches, one LIKE on one column
    search_text = TextField(default="")
    # {field: ISO instant}: fields changed here since the CRM last sent them (the conflict rule reads it)
    local_changes = JSONField(default=dict)
    deleted_at = UTCDateTimeField(null=True, index=True)
    merged_into = ForeignKeyField("self", null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "crm_sync_customer"


class CustomerEmail(BaseModel):
    """One email of a customer, lower-cased: how a task's reporter or text finds a contact."""
    customer = ForeignKeyField(Customer, backref="email_rows", on_delete="CASCADE")
    email = CharField(max_length=254, index=True)

    class Meta:
        table_name = "crm_sync_customer_email"
        indexes = ((("customer", "email"), True),)


class CrmLink(BaseModel):
    """The CRM's record behind a customer: matched by remote id, with the version last applied."""
    customer = ForeignKeyField(Customer, backref="links", on_delete="CASCADE")
    connector = CharField(max_length=40)
    remote_type = CharField(max_length=16)
    remote_id = CharField(max_length=100)
    remote_version = CharField(max_length=64, default="")  # sortable text: newer versions compare greater
    remote_hash = CharField(max_length=64, default="")  # of the content last applied (equal versions)
    merged_into_remote_id = CharField(max_length=100, null=True)  # the survivor when the CRM merged this record
    deleted = BooleanField(default=False)
    seen_run = IntegerField(default=0)  # the last full reconcile that saw it

    class Meta:
        table_name = "crm_sync_link"
        indexes = ((("connector", "remote_type", "remote_id"), True),)


class TaskCustomer(BaseModel):
    """A task's customer (a company or a contact) and contact; one row per task."""
    task_id = IntegerField(unique=True)
    customer = ForeignKeyField(Customer, null=True, backref="task_rows", on_delete="SET NULL")
    contact = ForeignKeyField(Customer, null=True, backref="contact_task_rows", on_delete="SET NULL")
    linked_by = CharField(max_length=16, default="manual")  # manual or auto
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "crm_sync_task_customer"


class SyncState(BaseModel):
    """Where the pull of one connector's resource stands: the committed cursor, the last run, its counts."""
    connector = CharField(max_length=40)
    resource = CharField(max_length=40)
    cursor = TextField(null=True)  # committed with each page's changes: a crash resumes from here
    full_cursor = TextField(null=True)  # the position of a full reconcile in progress
    full_run = IntegerField(default=0)  # the number of the full reconcile in progress or last finished
    full_running = BooleanField(default=False)
    last_run_at = UTCDateTimeField(null=True)
    last_success_at = UTCDateTimeField(null=True)
    last_full_at = UTCDateTimeField(null=True)
    last_error = TextField(null=True)
    counts = JSONField(default=dict)  # of the last run: created, updated, unchanged, deleted, merged
    progress_done = IntegerField(default=0)
    progress_total = IntegerField(null=True)

    class Meta:
        table_name = "crm_sync_state"
        indexes = ((("connector", "resource"), True),)


class InboundDelivery(BaseModel):
    """A webhook delivery applied once: its id is inserted in the transaction of its change."""
    connector = CharField(max_length=40)
    delivery_id = CharField(max_length=200)
    received_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "crm_sync_inbound"
        indexes = ((("connector", "delivery_id"), True),)


class CrmPush(notifications.delivery.DeliveryRecord):
    """One activity sent to the CRM for one task event.

    The shared delivery ledger's row: ``notification_id`` holds the outbox event's id (one activity per
    event and connector, so a redelivered event never writes a second row) and ``destination`` the
    connector. ``idempotency_key`` is sent with every attempt, so the CRM recognises a repeat.
    """
    task_id = IntegerField(null=True, index=True)
    customer_id = IntegerField(null=True, index=True)
    kind = CharField(max_length=32, default="")
    subject = CharField(max_length=300, default="")
    body = TextField(default="")
    idempotency_key = CharField(max_length=100, default="")
    remote_id = CharField(max_length=100, null=True)

    class Meta:
        table_name = "crm_sync_push"


MODELS = [Customer, CustomerEmail, CrmLink, TaskCustomer, SyncState, InboundDelivery, CrmPush]
