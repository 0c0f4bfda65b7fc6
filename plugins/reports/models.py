"""Tables owned by the reports plugin; their names start with ``reports_``."""
from __future__ import annotations

from peewee import BigIntegerField, CharField, DateField, ForeignKeyField, IntegerField, TextField

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


MODELS = [Rating, Schedule, WorkInterval, CalendarCover]
