"""Marshmallow schemas: the plugin's settings and the API's input and output.

Shapes are checked here with the core's field types; :mod:`.policies` judges the meaning (a department,
calendar, role or person that exists) and answers 422 naming the field.
"""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import PRIORITIES, STATUSES, Id, Instant, JsonObject, StrictBoolean, Text

from .models import ACTION_TYPES, RECIPIENTS, REOPEN_MODES, TARGET_KINDS, TIME_MODES


class EscalationSettings(Schema):
    default_calendar = Text(max_length=100, load_default="", metadata={
        "title": "Default calendar",
        "description": "Name of the working calendar for policies and departments that have none "
                       "(empty: around the clock)"})
    reminder_minutes = mf.List(mf.Integer(strict=True, validate=validate.Range(min=1, max=60 * 24 * 60)),
                               load_default=lambda: [1440, 60], validate=validate.Length(max=10), metadata={
                                   "title": "Due-date reminders (minutes before)",
                                   "description": "For tasks with a due date and no SLA policy, e.g. 1440 and 60"})


class MatchSchema(Schema):
    department_ids = mf.List(Id())
    include_subdepartments = StrictBoolean()
    types = mf.List(Text(min_length=1, max_length=64))
    priorities = mf.List(mf.String(validate=validate.OneOf(PRIORITIES)))
    impacts = mf.List(Text(min_length=1, max_length=64))
    fields = JsonObject(metadata={"description": "{custom field: [accepted values]}"})


class TargetSchema(Schema):
    kind = mf.String(required=True, validate=validate.OneOf(TARGET_KINDS))
    # From 36 seconds: a shorter target means nothing, and PostgreSQL's real column cannot hold 1e-184.
    hours = mf.Float(required=True, validate=validate.Range(min=0.01, max=100000))
    status = mf.String(validate=validate.OneOf(STATUSES), metadata={"description": "For status_time"})
    on_reopen = mf.String(validate=validate.OneOf(REOPEN_MODES))


class ActionSchema(Schema):
    type = mf.String(required=True, validate=validate.OneOf(ACTION_TYPES))
    to = mf.List(mf.String(validate=validate.OneOf(RECIPIENTS)),
                 metadata={"description": "Who: assignee, head, parent_head, hierarchy (one step further up "
                                          "per level), role, people"})
    role = Text(max_length=64)
    user_ids = mf.List(Id())
    body = Text(max_length=5000, metadata={"description": "For comment: the internal note"})


class LevelSchema(Schema):
    delay_minutes = mf.Integer(strict=True, validate=validate.Range(min=0, max=60 * 24 * 365))
    working_hours_only = StrictBoolean()
    actions = mf.List(mf.Nested(ActionSchema), required=True, validate=validate.Length(min=1, max=20))


class PolicyInput(Schema):
    name = Text(required=True, min_length=1, max_length=200)
    position = mf.Integer(strict=True, validate=validate.Range(min=-100000, max=100000))
    active = StrictBoolean()
    match = mf.Nested(MatchSchema)
    time_mode = mf.String(validate=validate.OneOf(TIME_MODES))
    calendar_id = Id(allow_none=True)
    pausing_statuses = mf.List(mf.String(validate=validate.OneOf(STATUSES)))
    warn_percent = mf.Integer(strict=True, validate=validate.Range(min=0, max=99),
                              metadata={"description": "Warn at this share of a target (0: no warning)"})
    targets = mf.List(mf.Nested(TargetSchema), validate=validate.Length(min=1, max=20))
    levels = mf.List(mf.Nested(LevelSchema), validate=validate.Length(max=20))


class PolicyOutput(PolicyInput):
    id = mf.Integer(required=True)
    revision = mf.Integer()


class PolicyList(Schema):
    items = mf.List(mf.Nested(PolicyOutput))


class CycleOutput(Schema):
    id = mf.Integer()
    target = mf.String()
    status = mf.String()
    number = mf.Integer()
    state = mf.String()
    at_risk = mf.Boolean()
    started_at = mf.String()
    stopped_at = mf.String(allow_none=True)
    due_at = mf.String(allow_none=True)
    warn_at = mf.String(allow_none=True)
    breached_at = mf.String(allow_none=True)
    remaining_seconds = mf.Float(allow_none=True)
    pauses = mf.List(mf.List(mf.String(allow_none=True)))


class FiringOutput(Schema):
    cycle_id = mf.Integer()
    step = mf.Integer()
    fired_at = mf.String()
    actions = mf.List(mf.Dict())


class ClocksOutput(Schema):
    task_id = mf.Integer()
    policy = mf.Dict(allow_none=True)
    clocks = mf.List(mf.Nested(CycleOutput))
    cycles = mf.List(mf.Nested(CycleOutput))
    firings = mf.List(mf.Nested(FiringOutput))


class PreviewInput(Schema):
    task_id = Id(allow_none=True)
    department_id = Id(allow_none=True)
    type = Text(max_length=64)
    priority = mf.String(validate=validate.OneOf(PRIORITIES))
    impact = Text(max_length=64)
    fields = JsonObject()
    created_at = Instant(allow_none=True)


class PreviewOutput(Schema):
    policy = mf.Dict(allow_none=True)
    steps = mf.List(mf.Dict())
