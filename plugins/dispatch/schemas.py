"""Marshmallow schemas of the dispatch API: what requests may carry and what answers look like. The
services check references and the rules across fields."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import PRIORITIES, Id, Instant, JsonObject, StrictBoolean, Text

from .batch import PER
from .models import POOLS, STRATEGIES


def _names(description: str) -> mf.List:
    return mf.List(Text(min_length=1, max_length=64), validate=validate.Length(max=50),
                   metadata={"description": description})


class DispatchRuleInput(Schema):
    """A rule as the API accepts it (on PATCH send only what changes)."""
    name = Text(required=True, min_length=1, max_length=100)
    position = mf.Integer(strict=True, validate=validate.Range(min=0, max=100000),
                          metadata={"description": "Lower rules are tried first (default 100)"})
    enabled = StrictBoolean()
    department_id = Id(allow_none=True, metadata={"description": "Matches tasks of this department (null: any)"})
    types = _names("Matches these task types (empty: any)")
    priorities = mf.List(mf.String(validate=validate.OneOf(PRIORITIES)),
                         metadata={"description": "Matches these priorities (empty: any)"})
    impacts = _names("Matches these impacts (empty: any)")
    fields = JsonObject(metadata={"description": "Custom fields the task must hold with exactly these values"})
    pool = mf.String(validate=validate.OneOf(POOLS), metadata={"description": "Whom the rule picks from"})
    pool_department_id = Id(allow_none=True, metadata={"description": "department pool: this department "
                                                                      "(null: the task's)"})
    include_subdepartments = StrictBoolean(metadata={"description": "department pool: with its sub-departments"})
    pool_role_id = Id(allow_none=True, metadata={"description": "role pool: the role"})
    pool_user_ids = mf.List(Id(), validate=validate.Length(max=1000), metadata={"description": "people pool"})
    skills = _names("skills pool: any of these tags; best skill match ranks by them")
    strategy = mf.String(validate=validate.OneOf(STRATEGIES))
    cap = mf.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=10000),
                     metadata={"description": "At most this many open tasks per person (null: no cap)"})
    on_duty_only = StrictBoolean(metadata={"description": "Only people on duty (when a roster keeps the department)"})
    hand_back = StrictBoolean(metadata={"description": "Open tasks come back when their assignee goes away or "
                                                       "is deactivated"})


class DispatchRuleOutput(DispatchRuleInput):
    id = mf.Integer()
    created_at = mf.String()
    updated_at = mf.String()


class DispatchRuleList(Schema):
    items = mf.List(mf.Nested(DispatchRuleOutput))


class DispatchPreviewInput(Schema):
    """The task to try the rules on."""
    department_id = Id(required=True)
    type = Text(max_length=64)
    priority = mf.String(validate=validate.OneOf(PRIORITIES))
    impact = Text(max_length=64)
    fields = JsonObject()
    at = Instant(metadata={"description": "When (default now): who is away or on duty then"})


class DispatchCandidate(Schema):
    user_id = mf.Integer()
    name = mf.String()
    open_tasks = mf.Integer()
    load = mf.Integer(metadata={"description": "Open tasks weighted by priority (low 1, normal 2, high 3, urgent 5)"})
    skill_match = mf.Integer()
    last_assigned_at = mf.String(allow_none=True)
    filtered = mf.String(allow_none=True, metadata={"description": "Why left out: inactive, not_allowed, absent, "
                                                                   "off_duty, at_cap (null: could be chosen)"})
    filtered_text = mf.String(allow_none=True)


class DispatchPreviewOutput(Schema):
    at = mf.String()
    rule = mf.Dict(allow_none=True)
    strategy = mf.String(allow_none=True)
    chosen = mf.Dict(allow_none=True)
    reason = mf.String(allow_none=True, metadata={"description": "Why nobody: no_pool, absent, off_duty, at_cap, "
                                                                 "mixed"})
    reason_text = mf.String(allow_none=True)
    candidates = mf.List(mf.Nested(DispatchCandidate))


class DispatchTemplate(Schema):
    """The task each batch files. With ``template_id`` the task template fills in what is left empty."""
    title = Text(max_length=200, metadata={"description": "Required unless template_id is given (then the "
                                                          "template's title pattern makes the title)"})
    description = Text(max_length=20000)
    priority = mf.String(validate=validate.OneOf(PRIORITIES))
    type = Text(max_length=64)
    impact = Text(max_length=64)
    fields = JsonObject()
    due_in_hours = mf.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=8760))
    template_id = Id(allow_none=True, metadata={"description": "File from this task template (templates plugin): "
                                                            "passed to the tasks as fields.template_id"})


class DispatchBatchInput(Schema):
    """One task per member (assigned to them; people away are skipped), per team (assigned by the rules) or
    per shift group on duty (assigned to whoever covers it)."""
    template = mf.Nested(DispatchTemplate, required=True)
    department_ids = mf.List(Id(), required=True, validate=validate.Length(min=1, max=500))
    per = mf.String(validate=validate.OneOf(PER), load_default="member",
                    metadata={"description": "member: each member; team: each department; shift: each shift group "
                                             "on duty (duty_roster)"})
    include_subdepartments = StrictBoolean(load_default=False)


class DispatchBatchOutput(Schema):
    created = mf.List(mf.Dict())
    skipped = mf.List(mf.Dict(), metadata={"description": "department_id, user_id and reason: absent, not_allowed, "
                                                          "no_roster or nobody_on_duty"})


class DispatchSavedBatchInput(Schema):
    name = Text(required=True, min_length=1, max_length=100)
    template = mf.Nested(DispatchTemplate, required=True)
    department_ids = mf.List(Id(), required=True, validate=validate.Length(min=1, max=500))
    per = mf.String(validate=validate.OneOf(PER))
    include_subdepartments = StrictBoolean()
    daily_at = Text(allow_none=True, max_length=5, metadata={"description": "Local HH:MM to run every day (null: "
                                                                             "by hand only)"})
    weekdays = mf.List(mf.Integer(strict=True, validate=validate.Range(min=1, max=7)), validate=validate.Length(max=7),
                       metadata={"description": "ISO days of the week it runs on, 1 Monday to 7 Sunday (empty: "
                                                "every day)"})
    timezone = Text(max_length=64)
    enabled = StrictBoolean()


class DispatchSavedBatchOutput(DispatchSavedBatchInput):
    id = mf.Integer()
    last_run_on = mf.String(allow_none=True)


class DispatchSavedBatchList(Schema):
    items = mf.List(mf.Nested(DispatchSavedBatchOutput))
