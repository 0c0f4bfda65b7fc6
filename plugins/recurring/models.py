"""Tables owned by the recurring plugin; their names start with ``recurring_``."""
from __future__ import annotations

from peewee import (BooleanField, CharField, ForeignKeyField, IntegerField, JSONField, TextField)

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow

ASSIGN_MODES = ("fixed", "round_robin", "proposal", "each_member")
CATCH_UP_POLICIES = ("all", "latest", "none")
ANCHORS = ("schedule", "completion")
NON_WORKING_DAY_POLICIES = ("create", "skip", "previous", "next")
RULE_STATUSES = ("active", "paused", "ended")


class Rule(BaseModel):
    """A task template plus an RFC 5545 recurrence in an IANA zone."""

    # -- the task template --
    title = CharField(max_length=200)
    description = TextField(default="")
    # SET NULL, not RESTRICT: deleting a department must stay possible; the rule then records an error.
    department = ForeignKeyField(Department, null=True, backref="+", on_delete="SET NULL")
    priority = CharField(max_length=16, default="normal")
    type = CharField(max_length=64, default="task")
    fields = JSONField(default=dict)
    watcher_ids = JSONField(default=list)
    due_after_minutes = IntegerField(null=True)  # "due 2 days after it appears" = 2880

    # -- who gets it --
    assign_mode = CharField(max_length=16, default="proposal")
    assignee_ids = JSONField(default=list)  # fixed: one id; round_robin: the rotation
    round_robin_position = IntegerField(default=0)

    # -- when --
    timezone = CharField(max_length=64, default="UTC")
    dtstart = CharField(max_length=19)  # local wall time "YYYY-MM-DDTHH:MM:SS" in ``timezone``
    rrule = TextField()  # "FREQ=WEEKLY;BYDAY=MO" (the RRULE value, without "RRULE:")
    exdates = JSONField(default=list)  # local wall times like dtstart
    anchor = CharField(max_length=16, default="schedule")
    catch_up = CharField(max_length=16, default="latest")
    catch_up_limit = IntegerField(default=10)
    skip_if_open = BooleanField(default=False)
    non_working_day = CharField(max_length=16, default="create")

    # -- state --
    status = CharField(max_length=16, default="active")
    # Occurrences scheduled at or before cursor_at are settled (created, skipped or failed).
    cursor_at = UTCDateTimeField(null=True)
    # The next occurrence: its scheduled instant (its identity) and when it is created (after a
    # non-working-day move). next_run_at is NULL unless a tick has work to do for this rule; the
    # job's query reads only this indexed column, so an idle tick costs the same for any number of rules.
    next_occurrence_at = UTCDateTimeField(null=True)
    next_run_at = UTCDateTimeField(null=True, index=True)
    last_occurrence_at = UTCDateTimeField(null=True)
    last_effective_at = UTCDateTimeField(null=True)
    occurrences_created = IntegerField(default=0)
    last_error = TextField(null=True)
    last_error_at = UTCDateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "recurring_rule"

    def __str__(self) -> str:
        return self.title


class Occurrence(BaseModel):
    """One created task of a rule. The unique index is the exactly-once guarantee."""

    rule_id = IntegerField()  # plain column: a task keeps its link after the rule is deleted
    occurrence_at = UTCDateTimeField()  # the scheduled instant (identity), before any working-day move
    effective_at = UTCDateTimeField()  # when it was due to appear
    member_id = IntegerField(default=0)  # the member for "one task per member", else 0 (NULLs never collide)
    # None once the task is deleted: the occurrence stays, so it is never filed again (migration 0002).
    task_id = IntegerField(unique=True, null=True)
    task_deleted_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "recurring_occurrence"
        indexes = ((("rule_id", "occurrence_at", "member_id"), True),)


MODELS = [Rule, Occurrence]
