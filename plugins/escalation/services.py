"""Following tasks' clocks: deriving each task's cycles from its audit trail into the cycle table, and the
instants of each cycle's next step (the warning, then each chain level) that the scan looks for."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context, request

from workdesk import Task, TaskEvent, utcnow, write_transaction

from . import policies
from .clocks import Happening, Measure, counted_until, derive
from .models import Cycle, Firing, Level, Policy, TaskClock

UTC = dt.timezone.utc


def trail_of(task: Task) -> list[Happening]:
    """The entries of the task's audit trail that move clocks, oldest first. An internal note is not among
    them: it answers nobody, so it neither meets a first response nor counts as an update (a public comment
    or a status change does)."""
    happenings: list[Happening] = []
    rows = (TaskEvent.select(TaskEvent.at, TaskEvent.kind, TaskEvent.changes, TaskEvent.actor)
            .where((TaskEvent.task_id == task.id) & TaskEvent.kind.in_(("created", "updated", "commented")))
            .order_by(TaskEvent.at, TaskEvent.id))
    for row in rows:
        changes = row.changes or {}
        if row.kind == "commented":
            if changes.get("internal"):  # recorded as {"internal": [None, True]} by add_comment(internal=True)
                continue
            happenings.append(Happening(row.at, row.actor_id, commented=True))
        elif row.kind == "created":
            status = (changes.get("status") or [None, "new"])[1]
            happenings.append(Happening(row.at, row.actor_id, status=status))
        elif "status" in changes:
            old, new = changes["status"]
            happenings.append(Happening(row.at, row.actor_id, status=new, old_status=old))
    if not happenings or happenings[0].status is None:  # a trail without its creation (imported data)
        happenings.insert(0, Happening(task.created_at, None, status="new"))
    return happenings


def step_instant(cycle: Cycle, step: int, policy: Policy | None, levels: list[Level], measure: Measure
                 ) -> dt.datetime | None:
    """When step ``step`` of a running cycle is due: 0 the warning, 1 the breach, 1 + n the chain's level n."""
    if step == 0:
        return cycle.warn_at
    base = cycle.breached_at or cycle.due_at
    if step == 1 or base is None:
        return base
    if step - 1 > len(levels):
        return None
    level = levels[step - 2]
    at = base + dt.timedelta(minutes=level.delay_minutes)
    return measure.next_counting_instant(at) if level.working_hours_only else at


def next_check(cycle: Cycle, policy: Policy | None, levels: list[Level], measure: Measure) -> dt.datetime | None:
    """The instant the scan should look at this cycle again, or None (stopped, paused, nothing left)."""
    if cycle.stopped_at is not None or cycle.segment_start is None:
        return None
    step = cycle.next_step
    if step == 0 and (policy is None or not policy.warn_percent or cycle.warn_at is None):
        step = 1
    at = step_instant(cycle, step, policy, levels, measure)
    if at is None and step == 0:
        return None
    return at


def sync_task(task_id: int) -> None:
    """Bring a task's cycles in line with its trail and its current policy. Stopped cycles are kept as they
    were (a breach stays a breach); running ones are recomputed. Idempotent."""
    with write_transaction():
        task = Task.get_or_none(Task.id == task_id)
        if task is None:
            return
        policy = policies.policy_for(task)
        existing = {(c.kind, c.status, c.number): c for c in Cycle.select().where(Cycle.task_id == task.id)}
        clock = TaskClock.get_or_none(TaskClock.task_id == task.id)
        if policy is None:
            _detach(existing.values())
            if clock is not None:
                clock.delete_instance()
            return
        measure = policies.measure_for(policy, task.department_id)
        levels = policies.levels_of(policy)
        derived = derive(trail_of(task), task.reporter_id, policies.target_specs(policy), measure,
                         policy.pausing_statuses or [], (policy.warn_percent or 0) / 100)
        now = utcnow()
        seen = set()
        for cycle in derived:
            key = (cycle.kind, cycle.status, cycle.number)
            seen.add(key)
            row = existing.get(key)
            if row is not None and row.stopped_at is not None and row.state != "cancelled" \
                    and cycle.stopped_at is not None:
                continue  # a finished cycle keeps its outcome
            if row is None:
                row = Cycle(task_id=task.id, kind=cycle.kind, status=cycle.status, number=cycle.number)
            row.policy_id, row.target_id, row.budget_seconds = policy.id, cycle.target_id, int(cycle.budget)
            row.started_at, row.stopped_at, row.segment_start = cycle.started_at, cycle.stopped_at, cycle.segment_start
            row.pauses = [[_iso(s), _iso(e)] for s, e in cycle.pauses]
            row.consumed_seconds, row.due_at, row.warn_at = cycle.consumed, cycle.due_at, cycle.warn_at
            if cycle.breached_at is not None and row.breached_at is None:
                row.breached_at = cycle.breached_at
            row.state = "breached" if cycle.stopped_at is not None and row.breached_at is not None else cycle.state
            row.department_id, row.assignee_id, row.updated_at = task.department_id, task.assignee_id, now
            row.next_check_at = next_check(row, policy, levels, measure)
            row.save()
        _detach(row for key, row in existing.items() if key not in seen)
        nearest = (Cycle.select(Cycle.due_at).where((Cycle.task_id == task.id) & Cycle.stopped_at.is_null()
                                                    & Cycle.segment_start.is_null(False))
                   .order_by(Cycle.due_at).limit(1).first())
        TaskClock.insert(task_id=task.id, policy_id=policy.id, next_due_at=nearest.due_at if nearest else None) \
            .on_conflict(conflict_target=[TaskClock.task_id],
                         update={TaskClock.policy_id: policy.id,
                                 TaskClock.next_due_at: nearest.due_at if nearest else None}).execute()


def _detach(rows) -> None:
    """Cycles of a target the task no longer has (another policy, none): stop them without an outcome."""
    for row in rows:
        if row.stopped_at is None:
            row.state, row.stopped_at, row.segment_start, row.next_check_at = "cancelled", utcnow(), None, None
            row.save()


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def forget_task(task_id: int) -> None:
    with write_transaction():
        Cycle.delete().where(Cycle.task_id == task_id).execute()
        TaskClock.delete().where(TaskClock.task_id == task_id).execute()


# -- reading clocks --------------------------------------------------------------------------------

def cycle_to_dict(cycle: Cycle, now: dt.datetime, measure: Measure | None = None) -> dict[str, Any]:
    running = cycle.stopped_at is None and cycle.segment_start is not None
    state = cycle.state
    remaining = None
    if cycle.stopped_at is None and state != "cancelled":
        counted = counted_until(cycle.consumed_seconds, cycle.segment_start, now, measure) if (
            measure is not None and running) else cycle.consumed_seconds
        remaining = max(cycle.budget_seconds - counted, 0.0)
        if running and cycle.due_at is not None and cycle.due_at <= now:
            state = "breached"
    at_risk = bool(running and cycle.warn_at is not None and cycle.warn_at <= now
                   and (cycle.due_at is None or now < cycle.due_at))
    return {"id": cycle.id, "target": cycle.kind, "status": cycle.status, "number": cycle.number, "state": state,
            "at_risk": at_risk, "started_at": _iso(cycle.started_at), "stopped_at": _iso(cycle.stopped_at),
            "due_at": _iso(cycle.due_at), "warn_at": _iso(cycle.warn_at), "breached_at": _iso(cycle.breached_at),
            "remaining_seconds": remaining, "pauses": cycle.pauses or []}


def _request_cached(key: tuple, compute):
    """Policies and calendars are few and a task list shows many tasks: read each once per request (kept on
    the request itself, so that nothing outlives it)."""
    if not has_request_context():
        return compute()
    cache = request.environ.setdefault("workdesk.escalation.cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def clocks_of(task: Task, now: dt.datetime | None = None, firings: bool = True) -> dict[str, Any]:
    """The task's policy, its current clock per target (every target, not only the nearest), every cycle and
    (with ``firings``) every step fired."""
    now = now or utcnow()
    clock = TaskClock.get_or_none(TaskClock.task_id == task.id)
    if clock is None:
        return {"task_id": task.id, "policy": None, "clocks": [], "cycles": [], "firings": []}
    policy = _request_cached(("policy", clock.policy_id), lambda: Policy.get_or_none(Policy.id == clock.policy_id))
    measure = _request_cached(("measure", clock.policy_id, task.department_id),
                              lambda: policies.measure_for(policy, task.department_id)) if policy else None
    cycles = list(Cycle.select().where(Cycle.task_id == task.id).order_by(Cycle.kind, Cycle.status, Cycle.number))
    as_dicts = [cycle_to_dict(c, now, measure) for c in cycles]
    latest: dict[tuple[str, str], dict] = {}
    for item in as_dicts:
        if item["state"] != "cancelled":
            latest[(item["target"], item["status"])] = item
    fired = (Firing.select().where(Firing.task_id == task.id).order_by(Firing.fired_at, Firing.id)
             if firings else [])
    return {"task_id": task.id,
            "policy": {"id": policy.id, "name": policy.name} if policy is not None else None,
            "clocks": list(latest.values()), "cycles": as_dicts,
            "firings": [{"cycle_id": f.cycle_id, "step": f.step, "fired_at": _iso(f.fired_at), "actions": f.actions}
                        for f in fired]}


# -- "what would happen" ------------------------------------------------------------------------------

def preview(task: Task | None = None, hypothetical: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every deadline and every escalation step with its instant, for a task (from its trail as it stands)
    or for a hypothetical one filed at ``created_at`` and left untouched. Writes nothing."""
    if task is None:
        values = hypothetical or {}
        created = values.get("created_at") or utcnow()
        task = Task(department=values.get("department_id"), type=values.get("type") or "task",
                    priority=values.get("priority") or "normal", impact=values.get("impact") or "",
                    fields=values.get("fields") or {}, status="new", created_at=created)
        trail = [Happening(created, None, status="new")]
        reporter_id = None
    else:
        trail, reporter_id = trail_of(task), task.reporter_id
    policy = policies.policy_for(task)
    if policy is None:
        return {"policy": None, "steps": []}
    measure = policies.measure_for(policy, task.department_id)
    levels = policies.levels_of(policy)
    cycles = derive(trail, reporter_id, policies.target_specs(policy), measure, policy.pausing_statuses or [],
                    (policy.warn_percent or 0) / 100)
    steps = []
    for derived in cycles:
        row = Cycle(kind=derived.kind, status=derived.status, number=derived.number, due_at=derived.due_at,
                    warn_at=derived.warn_at, breached_at=derived.breached_at, stopped_at=derived.stopped_at,
                    segment_start=derived.segment_start)
        if derived.stopped_at is not None:
            steps.append({"target": derived.kind, "status": derived.status, "cycle": derived.number,
                          "step": "stopped", "at": _iso(derived.stopped_at), "state": derived.state})
            continue
        last = 1 + len(levels)
        for step in range(0 if policy.warn_percent else 1, last + 1):
            at = step_instant(row, step, policy, levels, measure)
            if at is None:
                continue
            name = "warning" if step == 0 else "breach" if step == 1 else f"level {step - 1}"
            actions = [a["type"] for a in levels[step - 2].actions] if step > 1 else []
            steps.append({"target": derived.kind, "status": derived.status, "cycle": derived.number,
                          "step": name, "at": _iso(at), "actions": actions})
    steps.sort(key=lambda item: item["at"] or "")
    return {"policy": {"id": policy.id, "name": policy.name}, "steps": steps}
