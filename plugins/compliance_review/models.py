"""Tables owned by the compliance review plugin; their names start with ``compliance_review_``.

A **policy** says which tasks need review and holds the workflow: stages grouped in ordered steps
(the stages of one step run in parallel). When a task matches, its **review** copies the policy's
stages, so editing a policy later never changes a review under way. Each active stage has one
**approver** row per person asked (the slot a vote fills); the **decision** log keeps every vote,
automatic action, override and expedite for the audit trail and the auditors' export.
"""
from __future__ import annotations

from peewee import BooleanField, CharField, FloatField, ForeignKeyField, IntegerField, JSONField, TextField

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow

APPROVER_KINDS = ("people", "role", "task_department_head", "department_head", "department_members",
                  "reporter_manager", "top_department_head")
PASS_RULES = ("all", "any", "count", "percentage")
TIMEOUT_ACTIONS = ("notify_escalate", "reassign", "approve", "reject")
RESTART_MODES = ("first_stage", "rejecting_stage")
BEHALF_REASONS = ("absent", "escalated", "reassigned")
REVIEW_STATUSES = ("in_review", "approved", "rejected")
STAGE_STATES = ("waiting", "active", "approved", "rejected", "skipped", "cancelled")
DECISIONS = ("approve", "reject")


class Policy(BaseModel):
    """Which tasks need review (every non-empty criterion must match) and how they are reviewed."""
    name = CharField(max_length=200, unique=True)
    description = TextField(default="")
    active = BooleanField(default=True)
    position = IntegerField(default=0)  # policies are tried in this order; the first that matches wins
    match_types = JSONField(default=list)
    match_department_ids = JSONField(default=list)  # a department matches its sub-departments too
    match_priorities = JSONField(default=list)
    match_impacts = JSONField(default=list)
    match_fields = JSONField(default=dict)  # {custom field: [accepted values]}
    restart_from = CharField(max_length=16, default="first_stage")
    distinct_approvers = BooleanField(default=True)
    template = CharField(max_length=64, null=True)  # the ready template it was installed from
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "compliance_review_policy"

    def __str__(self) -> str:
        return self.name


class PolicyStage(BaseModel):
    """One stage of a policy's workflow: who approves, when it passes, its deadline."""
    policy = ForeignKeyField(Policy, backref="stages", on_delete="CASCADE")
    step = IntegerField(default=1)
    name = CharField(max_length=200)
    approver_kind = CharField(max_length=32)
    approver_user_ids = JSONField(default=list)
    approver_role = CharField(max_length=64, null=True)
    approver_department = ForeignKeyField(Department, null=True, backref="+", on_delete="SET NULL")
    pass_rule = CharField(max_length=16, default="all")
    pass_count = IntegerField(null=True)
    pass_percentage = IntegerField(null=True)
    deadline_hours = FloatField(null=True)  # working hours of the task's department calendar
    timeout_action = CharField(max_length=16, null=True)
    skippable_when_urgent = BooleanField(default=False)

    class Meta:
        table_name = "compliance_review_policy_stage"

    def __str__(self) -> str:
        return self.name


class Review(BaseModel):
    """The review of one task. ``task_id`` is a plain column: a review and its log outlive the task."""
    task_id = IntegerField(unique=True)
    task_number = IntegerField()
    policy_id = IntegerField(null=True)
    policy_name = CharField(max_length=200)
    restart_from = CharField(max_length=16)
    distinct_approvers = BooleanField()
    status = CharField(max_length=16, default="in_review", index=True)
    round = IntegerField(default=1)  # counts submissions: 2 after the first resubmission
    current_step = IntegerField(default=0)
    rejected_stage_id = IntegerField(null=True)
    started_at = UTCDateTimeField(default=utcnow)
    completed_at = UTCDateTimeField(null=True)
    task_deleted_at = UTCDateTimeField(null=True)
    # Bumped first by every change: the row lock that serialises two reviewers deciding at once.
    version = IntegerField(default=1)

    class Meta:
        table_name = "compliance_review_review"


class ReviewStage(BaseModel):
    """A stage of one review, copied from the policy when the review started."""
    review = ForeignKeyField(Review, backref="stages", on_delete="CASCADE")
    step = IntegerField()
    name = CharField(max_length=200)
    approver_kind = CharField(max_length=32)
    approver_user_ids = JSONField(default=list)
    approver_role = CharField(max_length=64, null=True)
    approver_department_id = IntegerField(null=True)
    pass_rule = CharField(max_length=16)
    pass_count = IntegerField(null=True)
    pass_percentage = IntegerField(null=True)
    deadline_hours = FloatField(null=True)
    timeout_action = CharField(max_length=16, null=True)
    skippable_when_urgent = BooleanField(default=False)
    state = CharField(max_length=16, default="waiting", index=True)
    round = IntegerField(default=0)  # the review round it last started in; its approver rows carry it
    started_at = UTCDateTimeField(null=True)
    due_at = UTCDateTimeField(null=True, index=True)
    timed_out_at = UTCDateTimeField(null=True)  # the deadline's action ran (once per round)
    decided_at = UTCDateTimeField(null=True)
    outcome = CharField(max_length=16, null=True)  # votes | timeout | expedite

    class Meta:
        table_name = "compliance_review_stage"


class Approver(BaseModel):
    """One person asked to decide a stage in one round: the slot their vote fills.

    ``user`` holds the slot; ``on_behalf_of`` is the person the policy named when a delegate or their
    head holds it instead; ``escalated_to`` (the holder's head after a missed deadline) may fill it too.
    A slot handed on is kept, inactive: the named person's own slot while their delegate holds it during
    their absence (active again when they are back and it is still undecided), or after a reassignment.
    """
    stage = ForeignKeyField(ReviewStage, backref="approvers", on_delete="CASCADE")
    round = IntegerField()
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    on_behalf_of = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reason = CharField(max_length=16, default="policy")  # policy | delegate | reassigned | fallback
    active = BooleanField(default=True)  # False once reassigned to someone else
    escalated_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decision = CharField(max_length=8, null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    comment = TextField(default="")
    decided_at = UTCDateTimeField(null=True)
    override = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "compliance_review_approver"
        indexes = ((("stage", "round", "user"), True),)


class Decision(BaseModel):
    """The append-only log of a review: every vote, stage outcome, automatic action, override, expedite.

    Names are copied in, so the log reads the same after people, tasks or policies are gone.
    ``outcome_key`` is set on the row that ends a stage in a round: its uniqueness is the database's
    guarantee that a stage never passes (or fails) twice.
    """
    at = UTCDateTimeField(default=utcnow, index=True)
    review_id = IntegerField(index=True)
    task_id = IntegerField()
    task_number = IntegerField()
    task_title = CharField(max_length=200)
    policy_name = CharField(max_length=200)
    round = IntegerField()
    stage_id = IntegerField(null=True)
    stage_name = CharField(max_length=200, default="")
    action = CharField(max_length=24)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=200, default="")
    on_behalf_of_id = IntegerField(null=True)
    on_behalf_of_name = CharField(max_length=200, default="")
    on_behalf_reason = CharField(max_length=16, default="")  # why the actor stood in: absent | escalated | reassigned
    automatic = BooleanField(default=False)
    override = BooleanField(default=False)
    expedite = BooleanField(default=False)
    comment = TextField(default="")
    reason = TextField(default="")  # the written reason of an override or an expedite
    outcome_key = CharField(max_length=64, null=True, unique=True)

    class Meta:
        table_name = "compliance_review_decision"


MODELS = [Policy, PolicyStage, Review, ReviewStage, Approver, Decision]
