"""Marshmallow schemas: the plugin's settings and the API's input and output.

Input schemas check shapes at the edge with the core's field types (bounded ids, storable text); the
services judge the meaning (a role that grants ``compliance.review``, a department that exists).
"""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import PRIORITIES, STATUSES, Id, Instant, JsonObject, PageQuerySchema, StrictBoolean, Text, page_schema

from .models import APPROVER_KINDS, DECISIONS, PASS_RULES, RESTART_MODES, REVIEW_STATUSES, STAGE_STATES, TIMEOUT_ACTIONS


class ComplianceSettings(Schema):
    blocked_statuses = mf.List(
        mf.String(validate=validate.OneOf(STATUSES)), load_default=lambda: ["resolved", "closed"],
        validate=validate.Length(min=1),
        metadata={"title": "Statuses a task cannot enter while its review is incomplete",
                  "description": "One status per line, e.g. resolved and closed."})


# -- policies -------------------------------------------------------------------------------------

class StageInput(Schema):
    name = Text(required=True, min_length=1, max_length=200)
    approver_kind = mf.String(required=True, validate=validate.OneOf(APPROVER_KINDS))
    approver_user_ids = mf.List(Id(), metadata={"description": "For kind people"})
    approver_role = Text(max_length=64, allow_none=True, metadata={"description": "For kind role"})
    approver_department_id = Id(allow_none=True,
                                metadata={"description": "For kinds department_head and department_members"})
    pass_rule = mf.String(validate=validate.OneOf(PASS_RULES))
    pass_count = mf.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=1000))
    pass_percentage = mf.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=100))
    deadline_hours = mf.Float(allow_none=True, validate=validate.Range(min=0, max=10000, min_inclusive=False),
                              metadata={"description": "Working hours of the task's department calendar"})
    timeout_action = mf.String(allow_none=True, validate=validate.OneOf(TIMEOUT_ACTIONS))
    skippable_when_urgent = StrictBoolean()


class StageOutput(StageInput):
    id = mf.Integer(required=True)
    step = mf.Integer(required=True)


class StepInput(Schema):
    stages = mf.List(mf.Nested(StageInput), required=True, validate=validate.Length(min=1, max=50),
                     metadata={"description": "Stages of one step run in parallel"})


class StepOutput(Schema):
    stages = mf.List(mf.Nested(StageOutput), required=True)


class MatchSchema(Schema):
    types = mf.List(Text(min_length=1, max_length=64))
    department_ids = mf.List(Id(), metadata={"description": "A department matches its sub-departments too"})
    priorities = mf.List(mf.String(validate=validate.OneOf(PRIORITIES)))
    impacts = mf.List(Text(min_length=1, max_length=64))
    fields = JsonObject(metadata={"description": "{custom field: [accepted values]}"})


class PolicyInput(Schema):
    name = Text(required=True, min_length=1, max_length=200)
    description = Text(max_length=5000)
    active = StrictBoolean()
    position = mf.Integer(strict=True, validate=validate.Range(min=-100000, max=100000),
                          metadata={"description": "Policies are tried in this order; the first that matches wins"})
    match = mf.Nested(MatchSchema)
    restart_from = mf.String(validate=validate.OneOf(RESTART_MODES))
    distinct_approvers = StrictBoolean()
    steps = mf.List(mf.Nested(StepInput), validate=validate.Length(min=1, max=50),
                    metadata={"description": "Ordered steps; replaces every stage when given"})


class PolicyOutput(Schema):
    id = mf.Integer(required=True)
    name = mf.String(required=True)
    description = mf.String(required=True)
    active = mf.Boolean(required=True)
    position = mf.Integer(required=True)
    restart_from = mf.String(required=True)
    distinct_approvers = mf.Boolean(required=True)
    template = mf.String(required=True, allow_none=True)
    match = mf.Nested(MatchSchema, required=True)
    steps = mf.List(mf.Nested(StepOutput), required=True)
    created_at = mf.String(required=True, allow_none=True)
    updated_at = mf.String(required=True, allow_none=True)


class PolicyList(Schema):
    items = mf.List(mf.Nested(PolicyOutput), required=True)


class TemplateOutput(PolicyOutput):
    created_departments = mf.List(mf.String(), required=True,
                                  metadata={"description": "Departments the template had to create"})


# -- reviews --------------------------------------------------------------------------------------

class ApproverOutput(Schema):
    user_id = mf.Integer(required=True)
    name = mf.String(required=True)
    on_behalf_of_id = mf.Integer(required=True, allow_none=True)
    on_behalf_of_name = mf.String(required=True, allow_none=True)
    reason = mf.String(required=True, metadata={
        "description": "Why this person holds the slot: policy, delegate (for on_behalf_of, who is absent), "
                       "reassigned (at a deadline) or fallback (nobody the policy names could decide)"})
    active = mf.Boolean(required=True)
    handed_to_name = mf.String(required=True, allow_none=True, metadata={
        "description": "For a slot no longer active: who holds it now (the delegate, the head it was reassigned to)"})
    handed_to_reason = mf.String(required=True, allow_none=True, metadata={
        "description": "delegate (this approver is away) or reassigned (at the deadline); null when not handed on"})
    escalated_to_id = mf.Integer(required=True, allow_none=True)
    escalated_to_name = mf.String(required=True, allow_none=True)
    decision = mf.String(required=True, allow_none=True, validate=validate.OneOf(DECISIONS))
    decided_by_id = mf.Integer(required=True, allow_none=True)
    decided_by_name = mf.String(required=True, allow_none=True)
    comment = mf.String(required=True)
    decided_at = mf.String(required=True, allow_none=True)
    override = mf.Boolean(required=True)


class ReviewStageOutput(Schema):
    id = mf.Integer(required=True)
    step = mf.Integer(required=True)
    name = mf.String(required=True)
    state = mf.String(required=True, validate=validate.OneOf(STAGE_STATES))
    approver_kind = mf.String(required=True)
    pass_rule = mf.String(required=True)
    pass_count = mf.Integer(required=True, allow_none=True)
    pass_percentage = mf.Integer(required=True, allow_none=True)
    needed = mf.Integer(required=True, allow_none=True, metadata={"description": "Approvals that pass the stage"})
    skippable_when_urgent = mf.Boolean(required=True)
    started_at = mf.String(required=True, allow_none=True)
    due_at = mf.String(required=True, allow_none=True)
    decided_at = mf.String(required=True, allow_none=True)
    outcome = mf.String(required=True, allow_none=True)
    approvers = mf.List(mf.Nested(ApproverOutput), required=True)
    waiting_for = mf.List(mf.String(), required=True)


class ReviewOutput(Schema):
    task_id = mf.Integer(required=True)
    policy_id = mf.Integer(required=True, allow_none=True)
    policy = mf.String(required=True)
    status = mf.String(required=True, validate=validate.OneOf(REVIEW_STATUSES))
    round = mf.Integer(required=True)
    current_step = mf.Integer(required=True)
    restart_from = mf.String(required=True)
    distinct_approvers = mf.Boolean(required=True)
    started_at = mf.String(required=True, allow_none=True)
    completed_at = mf.String(required=True, allow_none=True)
    rejected_stage_id = mf.Integer(required=True, allow_none=True)
    stages = mf.List(mf.Nested(ReviewStageOutput), required=True)
    waiting_for = mf.List(mf.String(), required=True)
    you_decide = mf.List(mf.Integer(), metadata={"description": "Stages that wait for your decision"})
    you_may_resubmit = mf.Boolean()
    you_may_expedite = mf.Boolean()


class DecisionInput(Schema):
    decision = mf.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = Text(max_length=5000, metadata={"description": "Required when rejecting"})
    stage_id = Id(allow_none=True, metadata={"description": "Needed only when several stages wait for you"})
    override_reason = Text(max_length=5000, metadata={
        "description": "An admin's written reason to override separation of duties"})


class ExpediteInput(Schema):
    reason = Text(required=True, min_length=1, max_length=5000)


class DecisionOutput(Schema):
    id = mf.Integer(required=True)
    at = mf.String(required=True)
    task_id = mf.Integer(required=True)
    task_number = mf.Integer(required=True)
    task_title = mf.String(required=True)
    policy = mf.String(required=True)
    round = mf.Integer(required=True)
    stage_id = mf.Integer(required=True, allow_none=True)
    stage = mf.String(required=True)
    action = mf.String(required=True)
    actor_id = mf.Integer(required=True, allow_none=True)
    actor = mf.String(required=True)
    on_behalf_of_id = mf.Integer(required=True, allow_none=True)
    on_behalf_of = mf.String(required=True)
    on_behalf_reason = mf.String(required=True, metadata={
        "description": "Why the actor decided for on_behalf_of: absent (their delegate), escalated or reassigned "
                       "(a deadline passed); empty when nobody was stood in for"})
    automatic = mf.Boolean(required=True)
    override = mf.Boolean(required=True)
    expedite = mf.Boolean(required=True)
    comment = mf.String(required=True)
    reason = mf.String(required=True)


DecisionPage = page_schema("ComplianceDecisionPage", DecisionOutput)


class DecisionQuery(PageQuerySchema):
    since = Instant(required=True, format="iso", default_timezone=dt.timezone.utc,
                    metadata={"description": "Start of the period (inclusive), ISO 8601 with offset"})
    until = Instant(required=True, format="iso", default_timezone=dt.timezone.utc,
                    metadata={"description": "End of the period (exclusive), ISO 8601 with offset"})


class QueueItem(Schema):
    task_id = mf.Integer(required=True)
    task_number = mf.Integer(required=True)
    task_title = mf.String(required=True)
    priority = mf.String(required=True)
    policy = mf.String(required=True)
    stage_id = mf.Integer(required=True)
    stage = mf.String(required=True)
    step = mf.Integer(required=True)
    since = mf.String(required=True, allow_none=True)
    due_at = mf.String(required=True, allow_none=True)
    escalated = mf.Boolean(required=True, metadata={"description": "It reached you because a deadline passed"})
    on_behalf_of = mf.String(required=True, allow_none=True)
    on_behalf_reason = mf.String(required=True, allow_none=True, metadata={
        "description": "absent (you are their delegate), escalated or reassigned; null when it is yours"})


class QueueOutput(Schema):
    items = mf.List(mf.Nested(QueueItem), required=True)
