"""Review policies: validation, create/change/delete, matching tasks, and the ready "Change request" template.

The API, the admin panel and the template installer all go through these functions, so a policy is
judged by the same rules wherever it is edited. Reviews copy a policy's stages when they start: a
change here applies to reviews started afterwards.
"""
from __future__ import annotations

from typing import Any

import peewee
from flask_babel import gettext as _

from workdesk import (PRIORITIES, Conflict, Department, NotFound, Role, Task, User, ValidationFailed, db, require,
                      services, utcnow, write_transaction, parse_id)

from .models import APPROVER_KINDS, PASS_RULES, RESTART_MODES, TIMEOUT_ACTIONS, Policy, PolicyStage
from .people import PERMISSION_MANAGE, PERMISSION_REVIEW, grants

POLICY_FIELDS = ("name", "description", "active", "position", "match", "restart_from", "distinct_approvers", "steps")
MATCH_FIELDS = ("types", "department_ids", "priorities", "impacts", "fields")
STAGE_FIELDS = ("name", "approver_kind", "approver_user_ids", "approver_role", "approver_department_id",
                "pass_rule", "pass_count", "pass_percentage", "deadline_hours", "timeout_action",
                "skippable_when_urgent")
STAGE_DEFAULTS: dict[str, Any] = {"approver_user_ids": [], "approver_role": None, "approver_department_id": None,
                                  "pass_rule": "all", "pass_count": None, "pass_percentage": None,
                                  "deadline_hours": None, "timeout_action": None, "skippable_when_urgent": False}
MAX_DEADLINE_HOURS = 10000
MAX_STAGES = 50


def _fail(field: str, message: str) -> None:
    raise ValidationFailed(_("Invalid value."), {field: [message]})


def _manager(actor: User | None) -> None:
    if actor is not None:
        require(actor, PERMISSION_MANAGE)


# -- reading --------------------------------------------------------------------------------------

def get_policy(actor: User | None, policy_id: Any) -> Policy:
    _manager(actor)
    policy_id = parse_id(policy_id)
    policy = Policy.get_or_none(Policy.id == policy_id) if policy_id is not None else None
    if policy is None:
        raise NotFound(_("No such review policy."))
    return policy


def list_policies(actor: User | None) -> list[Policy]:
    _manager(actor)
    return list(Policy.select().order_by(Policy.position, Policy.id))


def stages_of(policy: Policy) -> list[PolicyStage]:
    return list(PolicyStage.select().where(PolicyStage.policy == policy).order_by(PolicyStage.step, PolicyStage.id))


# -- validation -----------------------------------------------------------------------------------

def _text(value: Any, field: str, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        _fail(field, _("Must be text."))
    value = value.strip()
    if required and not value:
        _fail(field, _("Must not be empty."))
    if len(value) > max_length:
        _fail(field, _("At most %(max)s characters.", max=max_length))
    return value


def _texts(value: Any, field: str, max_length: int = 64) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        _fail(field, _("Must be a list."))
    return list(dict.fromkeys(_text(item, field, max_length) for item in value))


def _ids(value: Any, field: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        _fail(field, _("Must be a list of ids."))
    return list(dict.fromkeys(value))


def validated_match(match: Any) -> dict[str, Any]:
    if match is None:
        match = {}
    if not isinstance(match, dict):
        _fail("match", _("Must be an object."))
    unknown = sorted(set(match) - set(MATCH_FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {f"match.{k}": [_("Unknown field.")] for k in unknown})
    clean = {"types": _texts(match.get("types"), "match.types"),
             "department_ids": _ids(match.get("department_ids"), "match.department_ids"),
             "priorities": _texts(match.get("priorities"), "match.priorities"),
             "impacts": _texts(match.get("impacts"), "match.impacts"),
             "fields": {}}
    known = {d.id for d in Department.select(Department.id).where(Department.id.in_(clean["department_ids"]))}
    for department_id in clean["department_ids"]:
        if department_id not in known:
            _fail("match.department_ids", _("No department with id %(id)s.", id=department_id))
    for priority in clean["priorities"]:
        if priority not in PRIORITIES:
            _fail("match.priorities", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
    fields = match.get("fields") or {}
    if not isinstance(fields, dict):
        _fail("match.fields", _("Must be an object of field names and lists of accepted values."))
    for name, accepted in fields.items():
        name = _text(name, "match.fields", 64)
        if not isinstance(accepted, list) or not accepted or not all(
                isinstance(v, (str, int, float, bool)) for v in accepted):
            _fail("match.fields", _("%(field)s: give a non-empty list of accepted values (text, numbers, true or "
                                    "false).", field=name))
        clean["fields"][name] = list(accepted)
    return clean


def validated_stage(data: Any, field: str = "stage") -> dict[str, Any]:
    """A stage's definition checked and normalised; ``field`` prefixes the names in error messages."""
    if not isinstance(data, dict):
        _fail(field, _("Must be an object."))
    unknown = sorted(set(data) - set(STAGE_FIELDS) - {"step", "id"})
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {f"{field}.{k}": [_("Unknown field.")] for k in unknown})
    values = {**STAGE_DEFAULTS, **{k: v for k, v in data.items() if k in STAGE_FIELDS}}
    values["name"] = _text(values.get("name"), f"{field}.name", 200)
    kind = values.get("approver_kind")
    if kind not in APPROVER_KINDS:
        _fail(f"{field}.approver_kind", _("Must be one of: %(choices)s.", choices=", ".join(APPROVER_KINDS)))
    user_ids = _ids(values["approver_user_ids"], f"{field}.approver_user_ids")
    if kind == "people":
        if not user_ids:
            _fail(f"{field}.approver_user_ids", _("Name at least one person."))
        found = {u.id: u for u in User.select().where(User.id.in_(user_ids))}
        for user_id in user_ids:
            if user_id not in found:
                _fail(f"{field}.approver_user_ids", _("No user with id %(id)s.", id=user_id))
            if not found[user_id].is_active:
                _fail(f"{field}.approver_user_ids", _("User %(id)s is deactivated.", id=user_id))
    elif user_ids:
        _fail(f"{field}.approver_user_ids", _("Only for approvers of the kind “people”."))
    values["approver_user_ids"] = user_ids if kind == "people" else []
    role = values.get("approver_role")
    if kind == "role":
        role_row = Role.get_or_none(Role.name == _text(role, f"{field}.approver_role", 64))
        if role_row is None:
            _fail(f"{field}.approver_role", _("No role named %(name)s.", name=role))
        if not grants(role_row, PERMISSION_REVIEW):
            _fail(f"{field}.approver_role", _("The role %(name)s does not grant %(permission)s; add it to the role "
                                              "first.", name=role_row.name, permission=PERMISSION_REVIEW))
        values["approver_role"] = role_row.name
    elif role:
        _fail(f"{field}.approver_role", _("Only for approvers of the kind “role”."))
    else:
        values["approver_role"] = None
    department_id = values.get("approver_department_id")
    if kind in ("department_head", "department_members"):
        if not isinstance(department_id, int) or isinstance(department_id, bool) or \
                Department.get_or_none(Department.id == department_id) is None:
            _fail(f"{field}.approver_department_id", _("No department with id %(id)s.", id=department_id))
    elif department_id is not None:
        _fail(f"{field}.approver_department_id", _("Only for a named department's head or members."))
    rule = values.get("pass_rule")
    if rule not in PASS_RULES:
        _fail(f"{field}.pass_rule", _("Must be one of: %(choices)s.", choices=", ".join(PASS_RULES)))
    count, percentage = values.get("pass_count"), values.get("pass_percentage")
    if rule == "count":
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            _fail(f"{field}.pass_count", _("Give how many approvals pass the stage (1 or more)."))
        if kind == "people" and count > len(user_ids):
            _fail(f"{field}.pass_count", _("More approvals than people named (%(count)s).", count=len(user_ids)))
    elif count is not None:
        _fail(f"{field}.pass_count", _("Only for the pass rule “count”."))
    if rule == "percentage":
        if not isinstance(percentage, int) or isinstance(percentage, bool) or not 1 <= percentage <= 100:
            _fail(f"{field}.pass_percentage", _("Give a whole percentage from 1 to 100."))
    elif percentage is not None:
        _fail(f"{field}.pass_percentage", _("Only for the pass rule “percentage”."))
    hours, action = values.get("deadline_hours"), values.get("timeout_action")
    if hours is not None:
        if not isinstance(hours, (int, float)) or isinstance(hours, bool) or not 0 < hours <= MAX_DEADLINE_HOURS:
            _fail(f"{field}.deadline_hours", _("Between 0 and %(max)s working hours.", max=MAX_DEADLINE_HOURS))
        if action not in TIMEOUT_ACTIONS:
            _fail(f"{field}.timeout_action", _("Choose what happens at the deadline: %(choices)s.",
                                               choices=", ".join(TIMEOUT_ACTIONS)))
        values["deadline_hours"] = float(hours)
    elif action is not None:
        _fail(f"{field}.timeout_action", _("A timeout action needs a deadline."))
    if not isinstance(values.get("skippable_when_urgent"), bool):
        _fail(f"{field}.skippable_when_urgent", _("Must be true or false."))
    return values


def validated_policy(data: dict[str, Any], policy: Policy | None = None) -> dict[str, Any]:
    unknown = sorted(set(data) - set(POLICY_FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown})
    values: dict[str, Any] = {"name": _text(data.get("name"), "name", 200),
                              "description": _text(data.get("description"), "description", 5000, required=False),
                              "active": data.get("active", True), "position": data.get("position", 0),
                              "restart_from": data.get("restart_from", "first_stage"),
                              "distinct_approvers": data.get("distinct_approvers", True),
                              "match": validated_match(data.get("match"))}
    for name in ("active", "distinct_approvers"):
        if not isinstance(values[name], bool):
            _fail(name, _("Must be true or false."))
    if not isinstance(values["position"], int) or isinstance(values["position"], bool) or \
            not -100000 <= values["position"] <= 100000:
        _fail("position", _("A whole number from -100000 to 100000."))
    if values["restart_from"] not in RESTART_MODES:
        _fail("restart_from", _("Must be one of: %(choices)s.", choices=", ".join(RESTART_MODES)))
    clash = Policy.select().where(Policy.name == values["name"])
    if policy is not None:
        clash = clash.where(Policy.id != policy.id)
    if clash.exists():
        _fail("name", _("A policy with this name exists already."))
    if "steps" in data:
        steps = data["steps"]
        if not isinstance(steps, list) or not steps:
            _fail("steps", _("Give at least one step, each with at least one stage."))
        stages = []
        for s, step in enumerate(steps):
            if not isinstance(step, dict) or set(step) - {"stages"} or not isinstance(step.get("stages"), list) \
                    or not step["stages"]:
                _fail(f"steps.{s}", _("A step is an object with a non-empty list of stages."))
            for n, stage in enumerate(step["stages"]):
                stages.append({**validated_stage(stage, f"steps.{s}.stages.{n}"), "step": s + 1})
        if len(stages) > MAX_STAGES:
            _fail("steps", _("At most %(max)s stages.", max=MAX_STAGES))
        values["stages"] = stages
    return values


# -- changes --------------------------------------------------------------------------------------

def _apply(policy: Policy, values: dict[str, Any]) -> None:
    match = values["match"]
    policy.name, policy.description = values["name"], values["description"]
    policy.active, policy.position = values["active"], values["position"]
    policy.restart_from, policy.distinct_approvers = values["restart_from"], values["distinct_approvers"]
    policy.match_types, policy.match_department_ids = match["types"], match["department_ids"]
    policy.match_priorities, policy.match_impacts, policy.match_fields = (match["priorities"], match["impacts"],
                                                                         match["fields"])
    policy.updated_at = utcnow()


def _save_stages(policy: Policy, stages: list[dict[str, Any]]) -> None:
    PolicyStage.delete().where(PolicyStage.policy == policy).execute()
    for stage in stages:
        _create_stage(policy, stage)


def _create_stage(policy: Policy, stage: dict[str, Any]) -> PolicyStage:
    values = {k: stage[k] for k in STAGE_FIELDS if k != "approver_department_id"}
    return PolicyStage.create(policy=policy, step=stage["step"], approver_department=stage["approver_department_id"],
                              **values)


def _save(policy: Policy) -> None:
    try:
        with db.atomic():
            policy.save()
    except peewee.IntegrityError:  # a concurrent save took the name meanwhile
        _fail("name", _("A policy with this name exists already."))


def create_policy(actor: User | None, data: dict[str, Any]) -> Policy:
    """Create a policy; ``steps`` (a list of ``{"stages": [...]}``) may be given now or stages added later."""
    _manager(actor)
    with write_transaction():
        values = validated_policy(dict(data))
        policy = Policy(created_by=actor, created_at=utcnow())
        _apply(policy, values)
        _save(policy)
        _save_stages(policy, values.get("stages", []))
    return policy


def update_policy(actor: User | None, policy_id: Any, changes: dict[str, Any]) -> Policy:
    """Change a policy; ``steps``, when given, replaces every stage. Reviews under way keep their copy."""
    with write_transaction():
        policy = get_policy(actor, policy_id)
        current = policy_to_dict(policy)
        merged = {k: current[k] for k in POLICY_FIELDS if k != "steps"}
        merged.update({k: v for k, v in changes.items() if k != "match"})
        if "match" in changes:
            merged["match"] = {**current["match"], **(changes["match"] or {})} \
                if isinstance(changes["match"], dict) else changes["match"]
        values = validated_policy(merged, policy)
        _apply(policy, values)
        _save(policy)
        if "stages" in values:
            _save_stages(policy, values["stages"])
    return policy


def delete_policy(actor: User | None, policy_id: Any) -> None:
    """Delete a policy and its stages; reviews it started keep their copy and go on."""
    with write_transaction():
        get_policy(actor, policy_id).delete_instance(recursive=False)


def add_stage(actor: User | None, policy_id: Any, data: dict[str, Any]) -> PolicyStage:
    """Add one stage to a policy at ``step`` (stages with the same step run in parallel)."""
    with write_transaction():
        policy = get_policy(actor, policy_id)
        values = {**validated_stage(data), "step": _step(data.get("step", 1))}
        if PolicyStage.select().where(PolicyStage.policy == policy).count() >= MAX_STAGES:
            _fail("step", _("At most %(max)s stages.", max=MAX_STAGES))
        return _create_stage(policy, values)


def update_stage(actor: User | None, stage_id: Any, data: dict[str, Any]) -> PolicyStage:
    with write_transaction():
        stage = get_stage(actor, stage_id)
        current = stage_to_dict(stage)
        values = validated_stage({**{k: current[k] for k in STAGE_FIELDS}, **{k: v for k, v in data.items()
                                                                            if k != "step"}})
        stage.step = _step(data.get("step", stage.step))
        for key in STAGE_FIELDS:
            if key != "approver_department_id":
                setattr(stage, key, values[key])
        stage.approver_department = values["approver_department_id"]
        stage.save()
        Policy.update(updated_at=utcnow()).where(Policy.id == stage.policy_id).execute()
    return stage


def delete_stage(actor: User | None, stage_id: Any) -> None:
    with write_transaction():
        get_stage(actor, stage_id).delete_instance()


def get_stage(actor: User | None, stage_id: Any) -> PolicyStage:
    _manager(actor)
    stage_id = parse_id(stage_id)
    stage = PolicyStage.get_or_none(PolicyStage.id == stage_id) if stage_id is not None else None
    if stage is None:
        raise NotFound(_("No such stage."))
    return stage


def _step(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STAGES:
        _fail("step", _("A whole number from 1 to %(max)s.", max=MAX_STAGES))
    return value


# -- matching -------------------------------------------------------------------------------------

def _ancestor_ids(department: Department | None) -> set[int]:
    found: set[int] = set()
    while department is not None and department.id not in found:
        found.add(department.id)
        department = department.parent
    return found


def _accepts(accepted: list, value: Any) -> bool:
    if isinstance(value, list):
        return any(_accepts(accepted, item) for item in value)
    return value in accepted or str(value) in {str(a) for a in accepted}


def matches(policy: Policy, task: Task, department_ids: set[int] | None = None) -> bool:
    """Whether every criterion the policy sets holds for ``task`` (an empty criterion holds for any task)."""
    if policy.match_types and task.type not in policy.match_types:
        return False
    if policy.match_department_ids:
        ids = department_ids if department_ids is not None else _ancestor_ids(task.department)
        if not ids & set(policy.match_department_ids):
            return False
    if policy.match_priorities and task.priority not in policy.match_priorities:
        return False
    if policy.match_impacts and task.impact not in policy.match_impacts:
        return False
    values = task.fields or {}
    return all(name in values and values[name] is not None and _accepts(accepted, values[name])
               for name, accepted in (policy.match_fields or {}).items())


def matching_policy(task: Task) -> Policy | None:
    """The first active policy, in order, that matches ``task`` and has at least one stage."""
    with_stages = PolicyStage.select(PolicyStage.policy).distinct()
    candidates = Policy.select().where((Policy.active == True) & Policy.id.in_(with_stages))  # noqa: E712
    department_ids = _ancestor_ids(task.department)
    for policy in candidates.order_by(Policy.position, Policy.id):
        if matches(policy, task, department_ids):
            return policy
    return None


# -- representation -------------------------------------------------------------------------------

def stage_to_dict(stage: PolicyStage) -> dict[str, Any]:
    return {"id": stage.id, "step": stage.step, "name": stage.name, "approver_kind": stage.approver_kind,
            "approver_user_ids": list(stage.approver_user_ids or []), "approver_role": stage.approver_role,
            "approver_department_id": stage.approver_department_id, "pass_rule": stage.pass_rule,
            "pass_count": stage.pass_count, "pass_percentage": stage.pass_percentage,
            "deadline_hours": stage.deadline_hours, "timeout_action": stage.timeout_action,
            "skippable_when_urgent": stage.skippable_when_urgent}


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    steps: dict[int, list] = {}
    for stage in stages_of(policy):
        steps.setdefault(stage.step, []).append(stage_to_dict(stage))
    return {"id": policy.id, "name": policy.name, "description": policy.description, "active": policy.active,
            "position": policy.position, "restart_from": policy.restart_from,
            "distinct_approvers": policy.distinct_approvers, "template": policy.template,
            "match": {"types": list(policy.match_types or []), "department_ids": list(policy.match_department_ids or []),
                      "priorities": list(policy.match_priorities or []), "impacts": list(policy.match_impacts or []),
                      "fields": dict(policy.match_fields or {})},
            "steps": [{"stages": steps[step]} for step in sorted(steps)],
            "created_at": policy.created_at.isoformat() if policy.created_at else None,
            "updated_at": policy.updated_at.isoformat() if policy.updated_at else None}


# -- the ready template ---------------------------------------------------------------------------

CHANGE_REQUEST = "change_request"
CHANGE_REQUEST_TYPE = "change_request"


def _department_named(names: tuple[str, ...], created: list[str]) -> Department:
    for name in names:
        found = Department.get_or_none(peewee.fn.LOWER(Department.name) == name.lower())
        if found is not None:
            return found
    created.append(names[0])
    return services.users.create_department(None, name=names[0])


def install_change_request(actor: User | None) -> tuple[Policy, list[str]]:
    """Install the "Change request" policy for tasks of type ``change_request``:

    technical assessment (head of IT) → cost review (any member of Finance) → management approval
    (head of the task's top-level department); then the work is carried out. Departments IT and
    Finance are found by name and created when missing (their names are returned). Everything can
    be edited afterwards like any policy.
    """
    _manager(actor)
    name = _("Change request")
    with write_transaction():
        if Policy.select().where(Policy.name == name).exists():
            raise Conflict(_("A policy named “%(name)s” exists already; edit it, or rename it to install the "
                             "template again.", name=name))
        created: list[str] = []
        it = _department_named(("IT", "Information technology"), created)
        finance = _department_named(("Finance",), created)
        policy = create_policy(actor, {
            "name": name,
            "description": _("Changes are assessed technically by the head of IT, reviewed for cost by Finance "
                             "and approved by management before they are carried out."),
            "match": {"types": [CHANGE_REQUEST_TYPE]},
            "restart_from": "rejecting_stage",
            "distinct_approvers": True,
            "steps": [
                {"stages": [{"name": _("Technical assessment"), "approver_kind": "department_head",
                             "approver_department_id": it.id, "pass_rule": "all", "deadline_hours": 16,
                             "timeout_action": "notify_escalate"}]},
                {"stages": [{"name": _("Cost review"), "approver_kind": "department_members",
                             "approver_department_id": finance.id, "pass_rule": "any", "deadline_hours": 16,
                             "timeout_action": "notify_escalate", "skippable_when_urgent": True}]},
                {"stages": [{"name": _("Management approval"), "approver_kind": "top_department_head",
                             "pass_rule": "all", "deadline_hours": 24, "timeout_action": "notify_escalate"}]},
            ]})
        policy.template = CHANGE_REQUEST
        policy.save()
    return policy, created
