"""Tables owned by the duty roster plugin; their names start with ``duty_roster_``."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, ForeignKeyField, IntegerField, JSONField, TextField

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow


class Rotation(BaseModel):
    """Ordered members taking turns on duty for a department, in an IANA zone (see schedule.py)."""

    department = ForeignKeyField(Department, backref="+", on_delete="CASCADE")
    name = CharField(max_length=100)
    layer = IntegerField(default=0)  # a higher layer overrides a lower one where it has shifts
    member_ids = JSONField(default=list)  # user ids in order; null is a deliberate "nobody" slot
    shift_length = IntegerField(default=1)
    shift_unit = CharField(max_length=8, default="weeks")  # hours, days or weeks
    handoff_time = CharField(max_length=5, default="09:00")  # local "HH:MM"
    handoff_weekday = IntegerField(null=True)  # ISO 1 = Monday: the first hand-off is on this weekday
    timezone = CharField(max_length=64, default="UTC")
    start_date = DateField()
    # [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]: covered only inside these.
    restrictions = JSONField(default=list)
    # With restrictions: "windows" passes the turn only at hand-offs that open restricted time,
    # "calendar" at every hand-off (schedule.py). 0005 keeps the rotations made before it on "calendar".
    advance = CharField(max_length=8, default="windows")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_roster_rotation"

    def __str__(self) -> str:
        return self.name


class Override(BaseModel):
    """Someone (or deliberately nobody, when ``user`` is null) covers a rotation for a period."""

    rotation = ForeignKeyField(Rotation, backref="overrides", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_roster_override"
        indexes = ((("rotation", "starts_at"), False),)


class DepartmentSettings(BaseModel):
    """Per-department switches of the roster."""

    department = ForeignKeyField(Department, unique=True, backref="+", on_delete="CASCADE")
    # New unassigned tasks of the department go to whoever is on duty (after dispatch rules).
    auto_assign = BooleanField(default=False)

    class Meta:
        table_name = "duty_roster_department"


class Feed(BaseModel):
    """A secret iCalendar feed URL: a person's own shifts, or a department's roster (``department`` set).
    Only the token's SHA-256 is stored; revoking sets ``revoked_at``."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, backref="+", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "duty_roster_feed"


HANDOVER_STATUSES = ("open", "submitted", "acknowledged")


class Handover(BaseModel):
    """The record the outgoing person completes when a shift ends and the incoming one acknowledges.
    One per rotation and shift (the unique index keeps a job that runs twice from making two)."""

    department = ForeignKeyField(Department, backref="+", on_delete="CASCADE")
    rotation = ForeignKeyField(Rotation, backref="+", on_delete="CASCADE")
    shift_start = UTCDateTimeField()
    shift_end = UTCDateTimeField()
    outgoing = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    incoming = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    status = CharField(max_length=16, default="open")
    task_ids = JSONField(default=list)  # the open tasks of the shift, listed automatically
    notes = TextField(default="")
    incidents = JSONField(default=list)  # short texts, one per incident
    due_at = UTCDateTimeField()  # the outgoing person should have submitted it by then
    submitted_at = UTCDateTimeField(null=True)
    acknowledged_at = UTCDateTimeField(null=True)
    missing_flagged_at = UTCDateTimeField(null=True)
    unacknowledged_flagged_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_roster_handover"
        indexes = ((("rotation", "shift_start"), True),)


class LogEntry(BaseModel):
    """One timestamped event of the duty log, optionally about a task."""

    department = ForeignKeyField(Department, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    at = UTCDateTimeField(index=True)
    text = TextField()
    task_id = IntegerField(null=True)  # plain column: the entry stays when the task is deleted
    on_duty = BooleanField(default=False)  # whether its author was on duty at ``at``
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_roster_log_entry"


SWAP_STATUSES = ("pending", "accepted", "declined", "cancelled", "expired")


class Swap(BaseModel):
    """A request that ``target`` takes ``requester``'s duty on a rotation for a period (and, optionally,
    that the requester takes the target's in return), answered by the target before ``expires_at``.
    Accepting creates the overrides."""

    rotation = ForeignKeyField(Rotation, backref="+", on_delete="CASCADE")
    requester = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    target = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    return_starts_at = UTCDateTimeField(null=True)
    return_ends_at = UTCDateTimeField(null=True)
    note = TextField(default="")
    status = CharField(max_length=16, default="pending", index=True)
    expires_at = UTCDateTimeField()
    decided_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_roster_swap"


MODELS = [Rotation, Override, DepartmentSettings, Feed, Handover, LogEntry, Swap]
