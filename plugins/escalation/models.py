"""The escalation tables: policies with their targets and chain levels, the clocks (cycles) of each task,
the steps fired (one row per cycle and step, enforced by a unique index), the notices waiting to be sent in
one message per person, due-date reminders, and recompute runs."""
from __future__ import annotations

from peewee import BooleanField, CharField, FloatField, IntegerField, JSONField, TextField

from workdesk import BaseModel, UTCDateTimeField, utcnow

TARGET_KINDS = ("first_response", "update", "resolution", "status_time")
REOPEN_MODES = ("continue", "new_cycle")
TIME_MODES = ("working", "calendar")
CYCLE_STATES = ("running", "paused", "met", "breached", "cancelled")
ACTION_TYPES = ("notify", "reassign", "raise_priority", "add_watchers", "comment")
RECIPIENTS = ("assignee", "head", "parent_head", "hierarchy", "role", "people")


class Policy(BaseModel):
    name = CharField(max_length=200)
    position = IntegerField(default=0, index=True)
    active = BooleanField(default=True)
    # {"department_ids": [], "include_subdepartments": bool, "types": [], "priorities": [], "impacts": [],
    #  "fields": {name: [values]}}; an empty list matches everything.
    match = JSONField(default=dict)
    time_mode = CharField(max_length=16, default="working")
    calendar_id = IntegerField(null=True)
    pausing_statuses = JSONField(default=lambda: ["waiting"])
    warn_percent = IntegerField(default=80)
    revision = IntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "escalation_policy"


class Target(BaseModel):
    policy_id = IntegerField(index=True)
    kind = CharField(max_length=32)
    hours = FloatField()
    status = CharField(max_length=32, default="")  # for status_time
    on_reopen = CharField(max_length=16, default="continue")

    class Meta:
        table_name = "escalation_target"


class Level(BaseModel):
    policy_id = IntegerField(index=True)
    position = IntegerField()  # 1, 2, ...
    delay_minutes = IntegerField(default=0)
    working_hours_only = BooleanField(default=False)
    actions = JSONField(default=list)

    class Meta:
        table_name = "escalation_level"


class Cycle(BaseModel):
    """One cycle of one target of one task: derived from the task's audit trail, kept once stopped."""
    task_id = IntegerField()
    policy_id = IntegerField(null=True)
    target_id = IntegerField(null=True)
    kind = CharField(max_length=32)
    status = CharField(max_length=32, default="")
    number = IntegerField(default=1)
    budget_seconds = IntegerField()
    state = CharField(max_length=16, default="running")
    started_at = UTCDateTimeField()
    stopped_at = UTCDateTimeField(null=True)
    pauses = JSONField(default=list)  # [[start ISO, end ISO or null], ...]
    consumed_seconds = FloatField(default=0)  # counted time up to segment_start (or the pause / stop)
    segment_start = UTCDateTimeField(null=True)  # when counting resumed; None while paused or stopped
    due_at = UTCDateTimeField(null=True)
    warn_at = UTCDateTimeField(null=True)
    breached_at = UTCDateTimeField(null=True)
    department_id = IntegerField(null=True)
    assignee_id = IntegerField(null=True)
    next_step = IntegerField(default=0)  # 0: the warning, 1: the breach, 1 + n: chain level n
    next_check_at = UTCDateTimeField(null=True, index=True)  # the scan's index
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "escalation_cycle"
        indexes = ((("task_id", "kind", "status", "number"), True), (("due_at",), False),
                   (("stopped_at",), False))


class TaskClock(BaseModel):
    """One row per task: its policy and nearest running deadline (the list sort joins it)."""
    task_id = IntegerField(unique=True)
    policy_id = IntegerField(null=True)
    next_due_at = UTCDateTimeField(null=True, index=True)

    class Meta:
        table_name = "escalation_task_clock"


class Firing(BaseModel):
    """A step that fired: the warning (0), the breach (1) or chain level n (1 + n). The unique index makes
    each fire once per cycle, whatever number of scans run."""
    cycle_id = IntegerField()
    task_id = IntegerField(index=True)
    step = IntegerField()
    fired_at = UTCDateTimeField()
    actions = JSONField(default=list)  # what was done, for the API and the audit trail

    class Meta:
        table_name = "escalation_firing"
        indexes = ((("cycle_id", "step"), True),)


class Notice(BaseModel):
    """Someone to tell about a firing; notices are sent grouped per person (one digest, never a storm)."""
    firing_id = IntegerField(null=True)
    reminder_id = IntegerField(null=True)
    recipient_id = IntegerField()
    task_id = IntegerField()
    kind = CharField(max_length=16)  # warning | breach | escalated | reminder
    batch = CharField(max_length=40, null=True)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "escalation_notice"
        indexes = ((("firing_id", "recipient_id"), True), (("reminder_id", "recipient_id"), True),
                   (("batch", "recipient_id"), False))


class Reminder(BaseModel):
    """A due-date reminder sent for a task without a policy: once per task, due instant and offset."""
    task_id = IntegerField()
    due_at = UTCDateTimeField()
    offset_minutes = IntegerField()
    sent_at = UTCDateTimeField()

    class Meta:
        table_name = "escalation_reminder"
        indexes = ((("task_id", "due_at", "offset_minutes"), True),)


class Recompute(BaseModel):
    """A recompute of running clocks after a policy or calendar change, with its progress."""
    reason = TextField(default="")
    scope = CharField(max_length=16, default="running")  # running: tasks with a running clock; open: open tasks
    total = IntegerField(default=0)
    done = IntegerField(default=0)
    cursor = IntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "escalation_recompute"


class State(BaseModel):
    """Small key/value state (the calendars' fingerprint)."""
    key = CharField(max_length=64, primary_key=True)
    value = TextField(default="")

    class Meta:
        table_name = "escalation_state"


MODELS = [Policy, Target, Level, Cycle, TaskClock, Firing, Notice, Reminder, Recompute, State]
