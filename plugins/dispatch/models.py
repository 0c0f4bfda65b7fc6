"""Tables owned by the dispatch plugin; their names start with ``dispatch_``."""
from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, JSONField

from workdesk import BaseModel, Department, Role, User, UTCDateTimeField, utcnow

STRATEGIES = ("least_loaded", "round_robin", "best_skill", "longest_idle")
POOLS = ("department", "role", "people", "skills")


class Rule(BaseModel):
    """Which tasks it matches (empty criteria match everything), whom it picks from (its pool) and how
    (its strategy). Rules are tried in ``position`` order; the first that matches decides."""

    name = CharField(max_length=100)
    position = IntegerField(default=100, index=True)
    enabled = BooleanField(default=True)
    # What it matches: a department (None: any), and lists of types, priorities and impacts (empty: any),
    # and custom fields that must hold exactly these values.
    department = ForeignKeyField(Department, null=True, backref="+", on_delete="CASCADE")
    types = JSONField(default=list)
    priorities = JSONField(default=list)
    impacts = JSONField(default=list)
    fields = JSONField(default=dict)
    # Whom it picks from.
    pool = CharField(max_length=16, default="department")
    pool_department = ForeignKeyField(Department, null=True, backref="+", on_delete="CASCADE")
    include_subdepartments = BooleanField(default=False)
    pool_role = ForeignKeyField(Role, null=True, backref="+", on_delete="CASCADE")
    pool_user_ids = JSONField(default=list)
    skills = JSONField(default=list)  # the skill tags of a "skills" pool, and what "best skill match" ranks by
    # How it picks.
    strategy = CharField(max_length=16, default="least_loaded")
    cap = IntegerField(null=True)  # at most this many open tasks per person; None: no cap
    on_duty_only = BooleanField(default=False)
    hand_back = BooleanField(default=False)  # open tasks of someone who goes away or is deactivated come back
    cursor = IntegerField(null=True)  # round-robin: the user id chosen last (persisted, shared by every worker)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "dispatch_rule"

    def __str__(self) -> str:
        return self.name


class Decision(BaseModel):
    """One decision of dispatch about one task: whom a rule chose, or why nobody, with the figures.

    Written in the transaction that files the task (when only its number is known); the task's audit
    trail entry and, for nobody, the head's notice follow on the worker (``recorded_at``)."""

    task_number = IntegerField(index=True)
    task_id = IntegerField(null=True, index=True)
    department_id = IntegerField()
    rule = ForeignKeyField(Rule, null=True, backref="+", on_delete="SET NULL")
    rule_name = CharField(max_length=100)
    origin = CharField(max_length=16, default="created")  # created | hand_back
    assignee_id = IntegerField(null=True)
    reason = CharField(max_length=16, default="")  # why nobody: see services.REASONS
    details = JSONField(default=dict)  # strategy, figures per candidate, who was filtered out and why
    decided_at = UTCDateTimeField(default=utcnow, index=True)
    recorded_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "dispatch_decision"


class Activity(BaseModel):
    """When each person last received a task, for "longest idle"."""

    user_id = IntegerField(primary_key=True)
    last_assigned_at = UTCDateTimeField()

    class Meta:
        table_name = "dispatch_activity"


class Load(BaseModel):
    """Each person's open tasks and their weighted load, kept by database triggers on the task table
    (``load.py``), so a decision reads a thousand people's figures by key instead of grouping every open
    task, and every path that changes a task (the API, the admin panel, bulk updates) keeps them exact."""

    user_id = IntegerField(primary_key=True)
    open_tasks = IntegerField(default=0)
    load = IntegerField(default=0)

    class Meta:
        table_name = "dispatch_load"


class Lock(BaseModel):
    """One row every decision locks (``FOR UPDATE`` on PostgreSQL), so concurrent creators see each other's
    assignments: loads, caps and the round-robin cursor stay right across processes."""

    name = CharField(max_length=16, primary_key=True)

    class Meta:
        table_name = "dispatch_lock"


class Batch(BaseModel):
    """A saved batch: routine work sent to teams, by hand or every day at a local time."""

    name = CharField(max_length=100)
    template = JSONField(default=dict)  # title, description, priority, type, impact, fields, due_in_hours
    department_ids = JSONField(default=list)
    per = CharField(max_length=16, default="member")  # member | team
    include_subdepartments = BooleanField(default=False)
    daily_at = CharField(max_length=5, null=True)  # local "HH:MM"; None: only when run by hand
    weekdays = JSONField(default=list)  # ISO weekdays (1 Monday .. 7 Sunday) a daily batch runs on; empty: every day
    timezone = CharField(max_length=64, default="UTC")
    enabled = BooleanField(default=True)
    last_run_on = CharField(max_length=10, null=True)  # the local date of the last daily run
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "dispatch_batch"

    def __str__(self) -> str:
        return self.name


MODELS = (Rule, Decision, Activity, Load, Lock, Batch)
