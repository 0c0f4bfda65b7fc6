"""Tables owned by the reports plugin; their names start with ``reports_``."""
from __future__ import annotations

from peewee import BigIntegerField, CharField, DateField, DoubleField, ForeignKeyField, IntegerField, TextField

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow

FREQUENCIES = ("weekly", "monthly")


class Rating(BaseModel):
    """A reporter's satisfaction with one resolution of a task (1-5, an optional comment).

    ``resolution_event_id`` is the audit-trail row of the resolution the link was sent for: unique,
    so each link works once, and a task reopened and resolved again can be rated again.
    """
    task_id = IntegerField(index=True)  # plain column: the rating outlives a deleted task
    resolution_event_id = IntegerField(unique=True)
    rater = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    score = IntegerField()
    comment = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "reports_rating"


class Schedule(BaseModel):
    """A report e-mailed (through the notification path) to ``recipient`` every week or month."""
    recipient = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    frequency = CharField(max_length=8, default="weekly")
    department = ForeignKeyField(Department, null=True, backref="+", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    # The start (recipient's local date) of the last period sent: a job that runs twice sends once.
    last_period = DateField(null=True)

    class Meta:
        table_name = "reports_schedule"


class WorkInterval(BaseModel):
    """A calendar's working intervals as epoch seconds, with the working seconds before each one.

    Working time between two instants is then ``W(end) - W(start)`` where ``W(t)`` is read from the
    interval holding or preceding ``t``: one indexed lookup per instant, inside the SQL that aggregates.
    Rebuilt from ``workdesk.WorkingTime`` when the calendar changes (see ``worktime.py``).
    """
    calendar_id = IntegerField()
    start_s = BigIntegerField()
    end_s = BigIntegerField()
    cum_s = BigIntegerField()

    class Meta:
        table_name = "reports_work_interval"
        indexes = ((("calendar_id", "start_s"), True),)


class CalendarCover(BaseModel):
    """Which days of a calendar ``reports_work_interval`` covers, and for which version of it."""
    calendar_id = IntegerField(primary_key=True)
    fingerprint = CharField(max_length=64)
    first_day = DateField()
    last_day = DateField()

    class Meta:
        table_name = "reports_calendar_cover"




class TaskFact(BaseModel):
    """One row per task: what the reports need of its trail, read once (see ``facts.py``).

    The task's own fields are copied as they are now (a task counts for the department it belongs to
    now); the instants and counts are derived from its audit trail: the first response, the last
    entry into done, the last move to closed, reopens, transfers and reassignments (with the first of
    each, so "at least one before the period's end" is an indexed comparison).
    """
    task_id = IntegerField(primary_key=True)
    department_id = IntegerField(index=True)
    type = CharField(max_length=64)
    priority = CharField(max_length=16)
    status = CharField(max_length=32)
    assignee_id = IntegerField(null=True, index=True)
    reporter_id = IntegerField()
    created_at = UTCDateTimeField()
    first_response_at = UTCDateTimeField(null=True)
    resolved_at = UTCDateTimeField(null=True)  # the last entry into done (kept after a reopen)
    closed_at = UTCDateTimeField(null=True)
    reopen_count = IntegerField(default=0)
    transfer_count = IntegerField(default=0)
    first_transfer_at = UTCDateTimeField(null=True)
    reassignment_count = IntegerField(default=0)
    first_reassignment_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "reports_task_fact"
        # By creation, with what tells the tasks still alive at an instant (see metrics._alive) read
        # from the index itself.
        indexes = ((("created_at", "status", "resolved_at"), False),)


class StatusInterval(BaseModel):
    """A stretch of a task's life with one status and one department: it starts at the task's creation
    or at a row of the trail that changes its status or department, and ends at the next such row
    (``ended_at`` NULL: still running). ``status_changed`` marks a start that changed the status, from
    ``from_status`` (as recorded) to ``status``; ``moved`` one that was a transfer."""
    task_id = IntegerField()
    event_id = IntegerField()
    status = CharField(max_length=32, null=True)
    department_id = IntegerField(null=True)
    from_status = CharField(max_length=32, null=True)
    status_changed = IntegerField(default=0)
    moved = IntegerField(default=0)
    started_at = UTCDateTimeField()  # indexed with the status changes only: see migration 0002
    ended_at = UTCDateTimeField(null=True)
    # The same instants as epoch seconds: time in status adds up clipped stretches without converting
    # two timestamps per row (SQLite's julianday parses text).
    start_s = DoubleField()
    end_s = DoubleField(null=True)
    seconds = DoubleField(null=True)  # calendar seconds; NULL while running

    class Meta:
        table_name = "reports_status_interval"
        indexes = ((("task_id", "event_id"), True),)


class Assignment(BaseModel):
    """A row of the trail that gave a task to a person (at creation or later)."""
    task_id = IntegerField()
    event_id = IntegerField()
    at = UTCDateTimeField()
    assignee_id = IntegerField()

    class Meta:
        table_name = "reports_assignment"
        # (at, assignee_id, task_id) covers the week-by-week read: no row is looked up.
        indexes = ((("task_id", "event_id"), True), (("at", "assignee_id", "task_id"), False))


MODELS = [Rating, Schedule, WorkInterval, CalendarCover, TaskFact, StatusInterval, Assignment]
FACT_MODELS = [TaskFact, StatusInterval, Assignment]
