"""SLA policies: building them (validated, 422 naming the field), matching a task, and the calendar a
policy counts on."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from workdesk import (Calendar, Department, NotFound, Role, Task, User, ValidationFailed, WorkingTime,
                      plugin_settings, require, utcnow, write_transaction)

from .clocks import CalendarTime, Measure, TargetSpec, WorkingHours
from .models import Level, Policy, Target

PERMISSION_MANAGE = "escalation.manage"
MATCHING = {"match", "active", "position"}  # what decides which tasks a policy applies to
DEFAULTS: dict[str, Any] = {"position": 0, "active": True, "match": {}, "time_mode": "working", "calendar_id": None,
                            "pausing_statuses": ["waiting"], "warn_percent": 80}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Invalid policy."), {field: [message]})


def _check(values: dict[str, Any]) -> None:
    """Meaning checks the schema cannot make: referenced rows exist, targets and actions are complete."""
    match = values.get("match") or {}
    for index, dept_id in enumerate(match.get("department_ids") or []):
        if Department.get_or_none(Department.id == dept_id) is None:
            raise _invalid(f"match.department_ids.{index}", _("No such department."))
    if values.get("calendar_id") is not None and Calendar.get_or_none(Calendar.id == values["calendar_id"]) is None:
        raise _invalid("calendar_id", _("No such calendar."))
    kinds = set()
    for index, target in enumerate(values.get("targets") or []):
        if target["kind"] == "status_time" and not target.get("status"):
            raise _invalid(f"targets.{index}.status", _("A time-in-status target names its status."))
        key = (target["kind"], target.get("status", "") if target["kind"] == "status_time" else "")
        if key in kinds:
            raise _invalid(f"targets.{index}.kind", _("This target is given twice."))
        kinds.add(key)
    for index, level in enumerate(values.get("levels") or []):
        for number, action in enumerate(level["actions"]):
            where = f"levels.{index}.actions.{number}"
            recipients = action.get("to") or []
            if action["type"] in ("notify", "add_watchers") and not (recipients or action.get("user_ids")):
                raise _invalid(f"{where}.to", _("Say whom this action concerns."))
            if "role" in recipients or action["type"] == "notify" and action.get("role"):
                if Role.get_or_none(Role.name == (action.get("role") or "")) is None:
                    raise _invalid(f"{where}.role", _("No such role."))
            if "people" in recipients and not action.get("user_ids"):
                raise _invalid(f"{where}.user_ids", _("Name the people."))
            if action["type"] == "reassign" and not ({"head"} & set(recipients) or action.get("user_ids")):
                raise _invalid(f"{where}.to", _("Reassign to the department head or a named person."))
            if action["type"] == "comment" and not (action.get("body") or "").strip():
                raise _invalid(f"{where}.body", _("Write the internal note."))
            for person, user_id in enumerate(action.get("user_ids") or []):
                if User.get_or_none((User.id == user_id) & (User.is_active == True)) is None:  # noqa: E712
                    raise _invalid(f"{where}.user_ids.{person}", _("No such person."))


def list_policies(actor: User | None) -> list[Policy]:
    if actor is not None:
        require(actor, PERMISSION_MANAGE)
    return list(Policy.select().order_by(Policy.position, Policy.id))


def get_policy(actor: User | None, policy_id: int) -> Policy:
    if actor is not None:
        require(actor, PERMISSION_MANAGE)
    policy = Policy.get_or_none(Policy.id == policy_id)
    if policy is None:
        raise NotFound(_("No such policy."))
    return policy


def _write_parts(policy: Policy, values: dict[str, Any]) -> None:
    if "targets" in values:
        Target.delete().where(Target.policy_id == policy.id).execute()
        for target in values["targets"]:
            Target.create(policy_id=policy.id, kind=target["kind"], hours=target["hours"],
                          status=target.get("status", "") if target["kind"] == "status_time" else "",
                          on_reopen=target.get("on_reopen", "continue"))
    if "levels" in values:
        Level.delete().where(Level.policy_id == policy.id).execute()
        for position, level in enumerate(values["levels"], start=1):
            Level.create(policy_id=policy.id, position=position, delay_minutes=level.get("delay_minutes", 0),
                         working_hours_only=level.get("working_hours_only", False),
                         actions=[dict(action) for action in level["actions"]])


def create_policy(actor: User | None, values: dict[str, Any]) -> Policy:
    """A new policy from validated input (``targets`` required)."""
    if actor is not None:
        require(actor, PERMISSION_MANAGE)
    if not values.get("targets"):
        raise _invalid("targets", _("A policy needs at least one target."))
    _check(values)
    with write_transaction():
        fields = {**DEFAULTS, **{k: v for k, v in values.items() if k in DEFAULTS or k == "name"}}
        policy = Policy.create(**fields)
        _write_parts(policy, values)
        _policy_changed(policy, _("created"), scope="open")
    return policy


def update_policy(actor: User | None, policy_id: int, values: dict[str, Any]) -> Policy:
    """Change a policy; running clocks are recomputed on a worker, stopped cycles stay as they were."""
    policy = get_policy(actor, policy_id)
    if "targets" in values and not values["targets"]:
        raise _invalid("targets", _("A policy needs at least one target."))
    _check(values)
    with write_transaction():
        for key, value in values.items():
            if key in DEFAULTS or key == "name":
                setattr(policy, key, value)
        policy.revision += 1
        policy.updated_at = utcnow()
        policy.save()
        _write_parts(policy, values)
        # Which tasks it applies to may have changed: open tasks without a running clock may gain one.
        _policy_changed(policy, _("changed"), scope="open" if MATCHING & set(values) else "running")
    return policy


def delete_policy(actor: User | None, policy_id: int) -> None:
    policy = get_policy(actor, policy_id)
    with write_transaction():
        Target.delete().where(Target.policy_id == policy.id).execute()
        Level.delete().where(Level.policy_id == policy.id).execute()
        policy.delete_instance()
        _policy_changed(policy, _("deleted"))


def _policy_changed(policy: Policy, what: str, scope: str = "running") -> None:
    """Queue the recompute: ``running`` (tasks with a running clock) when only the counting changed,
    ``open`` (every open task) when the policy may now apply to tasks that have no clock yet. Either way
    stopped cycles keep their outcome."""
    from .recompute import request_recompute
    request_recompute(f"{policy.name}: {what}", scope=scope)


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    targets = Target.select().where(Target.policy_id == policy.id).order_by(Target.id)
    levels = Level.select().where(Level.policy_id == policy.id).order_by(Level.position)
    return {"id": policy.id, "name": policy.name, "position": policy.position, "active": policy.active,
            "match": policy.match or {}, "time_mode": policy.time_mode, "calendar_id": policy.calendar_id,
            "pausing_statuses": list(policy.pausing_statuses or []), "warn_percent": policy.warn_percent,
            "revision": policy.revision,
            "targets": [{"kind": t.kind, "hours": t.hours, "on_reopen": t.on_reopen,
                         **({"status": t.status} if t.kind == "status_time" else {})} for t in targets],
            "levels": [{"delay_minutes": lv.delay_minutes, "working_hours_only": lv.working_hours_only,
                        "actions": lv.actions} for lv in levels]}


# -- matching --------------------------------------------------------------------------------------

def _ancestors(department_id: int) -> list[int]:
    """The department and every parent above it (loop-safe)."""
    chain: list[int] = []
    current = Department.get_or_none(Department.id == department_id)
    while current is not None and current.id not in chain:
        chain.append(current.id)
        current = current.parent
    return chain


def matches(policy: Policy, task: Task) -> bool:
    match = policy.match or {}
    wanted = match.get("department_ids") or []
    if wanted:
        inside = _ancestors(task.department_id) if match.get("include_subdepartments") else [task.department_id]
        if not set(wanted) & set(inside):
            return False
    for key, value in (("types", task.type), ("priorities", task.priority), ("impacts", task.impact)):
        if match.get(key) and value not in match[key]:
            return False
    for name, accepted in (match.get("fields") or {}).items():
        accepted = accepted if isinstance(accepted, list) else [accepted]
        if (task.fields or {}).get(name) not in accepted:
            return False
    return True


def policy_for(task: Task) -> Policy | None:
    """The first active policy, in order, that matches the task."""
    for policy in Policy.select().where(Policy.active == True).order_by(Policy.position, Policy.id):  # noqa: E712
        if matches(policy, task):
            return policy
    return None


def target_specs(policy: Policy) -> list[TargetSpec]:
    return [TargetSpec(t.kind, t.hours * 3600, t.status, t.on_reopen, t.id)
            for t in Target.select().where(Target.policy_id == policy.id).order_by(Target.id)]


def levels_of(policy: Policy | None) -> list[Level]:
    if policy is None:
        return []
    return list(Level.select().where(Level.policy_id == policy.id).order_by(Level.position))


def calendar_for(policy: Policy | None, department_id: int | None) -> WorkingTime | None:
    """The policy's calendar, else the task department's (or its nearest ancestor's), else the default."""
    if policy is not None and policy.calendar_id is not None:
        calendar = Calendar.get_or_none(Calendar.id == policy.calendar_id)
        if calendar is not None:
            return WorkingTime.of(calendar)
    if department_id is not None:
        found = WorkingTime.for_department(Department.get_or_none(Department.id == department_id))
        if found is not None:
            return found
    name = plugin_settings("escalation").get("default_calendar") or ""
    calendar = Calendar.get_or_none(Calendar.name == name) if name else None
    return WorkingTime.of(calendar) if calendar is not None else None


def measure_for(policy: Policy | None, department_id: int | None) -> Measure:
    calendar = calendar_for(policy, department_id)
    if calendar is None or policy is not None and policy.time_mode == "calendar":
        return CalendarTime(calendar)
    return WorkingHours(calendar)


__all__ = ["list_policies", "get_policy", "create_policy", "update_policy", "delete_policy", "policy_to_dict",
           "policy_for", "matches", "measure_for", "calendar_for"]
