"""The scan: set-based, on the ``next_check_at`` index. It asks the database for the cycles whose next step
is due, fires each step once (the unique ``(cycle, step)`` index decides between concurrent scans), and then
tells people: one message per person and kind listing every task, never one per task.
"""
from __future__ import annotations

import datetime as dt
import uuid
from contextlib import nullcontext
from typing import Any, Iterable

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from workdesk import (OPEN_STATUSES, PRIORITIES, Department, LocalInstant, MessageLines, Role, Task, TaskEvent, User,
                      WorkdeskError, access, can_see, db, insert_rows, notify, plugin_settings, services, update_rows,
                      write_transaction)

from . import policies
from .models import Cycle, Firing, Level, Notice, Policy, Reminder, TaskClock
from .services import next_check, step_instant

BATCH = 500
TARGET_LABELS = {"first_response": "first response", "update": "update", "resolution": "resolution",
                 "status_time": "time in status"}


def scan(now: dt.datetime) -> dict[str, int]:
    """Fire every step due by ``now``, send the notices, then the due-date reminders. Idempotent."""
    fired = 0
    after: tuple[dt.datetime, int] | None = None
    while True:
        query = Cycle.select(Cycle.id, Cycle.next_check_at).where(Cycle.next_check_at <= now)
        if after is not None:  # keyset: cycles another scan left behind are not read twice in one run
            query = query.where((Cycle.next_check_at > after[0])
                                | ((Cycle.next_check_at == after[0]) & (Cycle.id > after[1])))
        batch = list(query.order_by(Cycle.next_check_at, Cycle.id).limit(BATCH).tuples())
        if not batch:
            break
        after = (batch[-1][1], batch[-1][0])
        fired += _fire_batch([cycle_id for cycle_id, _at in batch], now)
    reminded = send_reminders(now)
    sent = send_notices(now)
    return {"fired": fired, "reminders": reminded, "messages": sent}


class _Context:
    """Per-scan caches: policies, their levels, calendars, heads and who sees what are few; tasks are many."""

    def __init__(self):
        self.policies: dict[int, Policy | None] = {}
        self.levels: dict[int, list[Level]] = {}
        self.measures: dict[tuple, Any] = {}
        self.heads: dict[tuple[int | None, int], User | None] = {}
        self.queues: dict[int, list[User]] = {}
        self.roles: dict[str, list[User]] = {}
        self.memberships: dict[int, set[int]] = {}

    def policy(self, policy_id: int | None) -> Policy | None:
        if policy_id not in self.policies:
            self.policies[policy_id] = Policy.get_or_none(Policy.id == policy_id)
            self.levels[policy_id] = policies.levels_of(self.policies[policy_id])
        return self.policies[policy_id]

    def measure(self, policy: Policy | None, department_id: int | None):
        key = (policy.id if policy else None, department_id)
        if key not in self.measures:
            self.measures[key] = policies.measure_for(policy, department_id)
        return self.measures[key]

    def head(self, department_id: int | None, steps_up: int) -> User | None:
        if (department_id, steps_up) not in self.heads:
            self.heads[(department_id, steps_up)] = _head_at(department_id, steps_up)
        return self.heads[(department_id, steps_up)]

    def queue(self, department_id: int) -> list[User]:
        if department_id not in self.queues:
            self.queues[department_id] = list(access.eligible_assignees(department_id))
        return self.queues[department_id]

    def role(self, name: str) -> list[User]:
        if name not in self.roles:
            role = Role.get_or_none(Role.name == name)
            self.roles[name] = list(User.select().where((User.role == role) & (User.is_active == True))) if role else []  # noqa: E712
        return self.roles[name]

    def sees(self, user: User, task: Task) -> bool:
        """``workdesk.can_see`` with the person's departments read once per scan."""
        if user.has_permission("task.view_all") or user.id in (task.reporter_id, task.assignee_id):
            return True
        if user.id not in self.memberships:
            self.memberships[user.id] = set(access.department_ids(user))
        if user.has_permission("task.view_department") and task.department_id in self.memberships[user.id]:
            return True
        return can_see(user, task)


def _due_steps(cycle: Cycle, policy: Policy, levels: list[Level], measure, now: dt.datetime) -> list[tuple]:
    """The steps of a cycle due by ``now`` that it has not fired, as ``(step, instant)``; advances the cycle
    (``next_step``, ``breached_at``, ``next_check_at``) as if they fire."""
    due = []
    step = cycle.next_step
    while True:
        if step == 0 and (not policy.warn_percent or cycle.warn_at is None):
            step = 1
        at = step_instant(cycle, step, policy, levels, measure)
        if at is None or at > now:
            break
        if step == 1 and cycle.breached_at is None:
            cycle.breached_at = at
        due.append((step, at))
        step += 1
    cycle.next_step = step
    cycle.next_check_at = next_check(cycle, policy, levels, measure)
    return due


def _fire_batch(cycle_ids: list[int], now: dt.datetime) -> int:
    """Fire the due steps of a batch of cycles in one transaction, with a few multi-row statements: the
    firings (``INSERT ... ON CONFLICT DO NOTHING RETURNING``: only the steps this scan won), their audit-trail
    entries, the notices; then the actions that change tasks, which go through the task services."""
    context = _Context()
    with write_transaction():
        cycles = list(Cycle.select().where(Cycle.id.in_(cycle_ids) & (Cycle.next_check_at <= now))
                      .order_by(Cycle.next_check_at, Cycle.id))
        tasks = {t.id: t for t in Task.select().where(Task.id.in_([c.task_id for c in cycles]))}
        planned: list[tuple[Cycle, Task, int]] = []
        orphans: list[Cycle] = []
        for cycle in cycles:
            task, policy = tasks.get(cycle.task_id), context.policy(cycle.policy_id)
            if task is None or policy is None:
                cycle.next_check_at = None
                orphans.append(cycle)
                continue
            for step, _at in _due_steps(cycle, policy, context.levels[cycle.policy_id],
                                        context.measure(policy, task.department_id), now):
                planned.append((cycle, task, step))
        update_rows(orphans, [Cycle.next_check_at])
        if not planned:
            return 0
        plans = {(cycle.id, step): _plan(task, cycle, step, context) for cycle, task, step in planned}
        won = {(cycle_id, step): firing_id for firing_id, cycle_id, step in
               Firing.insert_many([{"cycle_id": cycle.id, "task_id": task.id, "step": step, "fired_at": now,
                                    "actions": plans[(cycle.id, step)][0]} for cycle, task, step in planned])
               .on_conflict_ignore().returning(Firing.id, Firing.cycle_id, Firing.step).tuples().execute()}
        # A cycle none of whose steps this scan won was fired by another scan, which also wrote the cycle.
        update_rows(list({cycle.id: cycle for cycle, _task, step in planned if (cycle.id, step) in won}.values()),
                    [Cycle.next_step, Cycle.next_check_at, Cycle.breached_at])
        ours = [(cycle, task, step, won[(cycle.id, step)]) for cycle, task, step in planned if (cycle.id, step) in won]
        insert_rows(TaskEvent, [{"task_id": task.id, "task_number": task.number, "actor": None, "at": now,
                                 "kind": "escalation.fired",
                                 "changes": {"target": [None, cycle.kind], "step": [None, step],
                                             "actions": [None, [a["type"] for a in plans[(cycle.id, step)][0]]]}}
                                for cycle, task, step, _id in ours])
        notices = [{"firing_id": firing_id, "reminder_id": None, "recipient_id": person.id, "task_id": task.id,
                    "kind": plans[(cycle.id, step)][1], "created_at": now}
                   for cycle, task, step, firing_id in ours for person in plans[(cycle.id, step)][2]]
        insert_rows(Notice, notices)
        for cycle, task, step, firing_id in ours:
            changes = plans[(cycle.id, step)][3]
            if changes:
                _change_task(task, changes, firing_id, plans[(cycle.id, step)][0])
    return len(ours)


# -- who --------------------------------------------------------------------------------------------

def _head_at(department_id: int | None, steps_up: int) -> User | None:
    """The head ``steps_up`` departments above (0: the department itself), skipping headless ones upwards."""
    department = Department.get_or_none(Department.id == department_id) if department_id else None
    seen: set[int] = set()
    while department is not None and department.id not in seen and steps_up > 0:
        seen.add(department.id)
        department, steps_up = department.parent, steps_up - 1
    while department is not None and department.id not in seen:
        seen.add(department.id)
        if department.head_id is not None and department.head.is_active:
            return department.head
        department = department.parent
    return None


def recipients(task: Task, action: dict, level_number: int, context: _Context | None = None) -> list[User]:
    """Who an action concerns, at level ``level_number`` of the chain (1 for the first)."""
    context = context or _Context()
    people: dict[int, User] = {}
    for who in action.get("to") or []:
        found: list[User | None] = []
        if who == "assignee":
            found = [task.assignee] if task.assignee_id else context.queue(task.department_id)
        elif who == "head":
            found = [context.head(task.department_id, 0)]
        elif who == "parent_head":
            found = [context.head(task.department_id, 1)]
        elif who == "hierarchy":
            found = [context.head(task.department_id, max(level_number - 1, 0))]
        elif who == "role":
            found = context.role(action.get("role") or "")
        for person in found:
            if person is not None and person.is_active:
                people[person.id] = person
    if action.get("user_ids"):
        for person in User.select().where(User.id.in_(action["user_ids"]) & (User.is_active == True)):  # noqa: E712
            people[person.id] = person
    return list(people.values())


def _system_actor(task: Task) -> User | None:
    """Whose authority changes go through: the first administrator, else the department's head."""
    for user in User.select().join(Role).where((User.is_active == True)).order_by(User.id):  # noqa: E712
        if "*" in (user.role.permissions or []):
            return user
    return _head_at(task.department_id, 0)


# -- what ---------------------------------------------------------------------------------------------

def _plan(task: Task, cycle: Cycle, step: int, context: _Context) -> tuple[list[dict], str, list[User], list[dict]]:
    """What a step does, read-only: ``(actions as recorded, notice kind, people to tell, task changes to make)``.
    Telling people is written in bulk; changing the task goes through the task services afterwards."""
    if step == 0:
        people = recipients(task, {"to": ["assignee"]}, 1, context)
        return [{"type": "warn", "user_ids": [p.id for p in people]}], "warning", people, []
    if step == 1:
        return [{"type": "breach"}], "escalated", [], []
    level_number = step - 1
    levels = context.levels.get(cycle.policy_id) or []
    if level_number > len(levels):
        return [], "escalated", [], []
    recorded, told, changes = [], {}, []
    for action in levels[level_number - 1].actions or []:
        people = recipients(task, action, level_number, context)
        if action["type"] == "notify":
            recorded.append({"type": "notify", "user_ids": [p.id for p in people]})
            told.update({p.id: p for p in people})
            unseen = [p.id for p in people if not context.sees(p, task)]
            if unseen:  # told about a task they cannot open: they are brought in as watchers
                changes.append({"type": "add_watchers", "user_ids": unseen, "implicit": True})
        else:
            changes.append({**action, "user_ids": [p.id for p in people]
                            if action["type"] == "add_watchers" else action.get("user_ids") or []})
    return recorded, "escalated", list(told.values()), changes


def _change_task(task: Task, changes: list[dict], firing_id: int, recorded: list[dict]) -> None:
    """Do a level's actions that change the task, each in its own savepoint: one that fails is recorded on the
    firing, the others stand."""
    notes = 0
    for action in changes:
        outcome: dict[str, Any] = {"type": action["type"]}
        if action["type"] == "comment":
            notes += 1
        try:
            with db.atomic():
                task = Task.get_by_id(task.id)  # an earlier action may have changed it (assignee, priority)
                outcome.update(_act(task, action, firing_id, notes))
        except WorkdeskError as exc:
            outcome["error"] = exc.message
        if not action.get("implicit"):
            recorded.append(outcome)
    Firing.update(actions=recorded).where(Firing.id == firing_id).execute()


def _act(task: Task, action: dict, firing_id: int, note: int) -> dict:
    """Do one action that changes the task; what it did, as recorded on the firing. ``note``: which of the
    level's ``comment`` actions this is (1 for the first)."""
    kind = action["type"]
    if kind == "add_watchers":
        return {"user_ids": services.tasks.add_watchers(task.id, action.get("user_ids") or [])}
    if kind == "raise_priority":
        index = PRIORITIES.index(task.priority) if task.priority in PRIORITIES else 0
        if index + 1 >= len(PRIORITIES):
            return {"priority": task.priority}
        services.tasks.update_task(_system_actor(task), task.id, {"priority": PRIORITIES[index + 1]})
        return {"priority": PRIORITIES[index + 1]}
    if kind == "reassign":
        target = _head_at(task.department_id, 0) if "head" in (action.get("to") or []) else None
        if target is None and action.get("user_ids"):
            target = User.get_or_none(User.id == action["user_ids"][0])
        if target is None:
            return {"error": "nobody to reassign to"}
        services.tasks.assign(_system_actor(task), task.id, target.id)
        return {"assignee_id": target.id}
    return _post_note(task, action.get("body") or "", firing_id, note)


def _post_note(task: Task, body: str, firing_id: int, note: int) -> dict:
    """The ``comment`` action: a real internal note (people who work tasks read it, requesters never do),
    written as the system actor that reassigns. Once per firing: when the firing already records its
    ``note``-th note (the same firing run again), that note is returned and no other is posted."""
    firing = Firing.get_or_none(Firing.id == firing_id)
    recorded = list(firing.actions or []) if firing is not None else []
    for outcome in recorded:
        if outcome.get("type") == "comment" and outcome.get("note") == note and outcome.get("comment_id"):
            return {"note": note, "comment_id": outcome["comment_id"]}
    actor = _system_actor(task)
    if actor is None:
        return {"note": note, "error": "nobody to write the note as"}
    comment = services.tasks.add_comment(actor, task.id, body, internal=True)
    done = {"note": note, "comment_id": comment.id}
    # Recorded at once, in the note's savepoint, not only when the level's last action is done: a run of
    # this firing that follows finds it.
    Firing.update(actions=recorded + [{"type": "comment", **done}]).where(Firing.id == firing_id).execute()
    return done


def _notice(firing_id: int | None, reminder_id: int | None, people: Iterable[User], task: Task, kind: str,
            now: dt.datetime) -> None:
    rows = [{"firing_id": firing_id, "reminder_id": reminder_id, "recipient_id": p.id, "task_id": task.id,
             "kind": kind, "created_at": now} for p in people if p is not None]
    if rows:
        Notice.insert_many(rows).on_conflict_ignore().execute()


# -- telling people: one message per person and kind -------------------------------------------------

def _in_language_of(user: User):
    return force_locale(user.locale) if has_app_context() and user.locale else nullcontext()


def _subject(kind: str, tasks: list[Task]):
    """One task is named; several are counted (a separate message, so that every plural form counts). Lazy:
    the notification keeps the message and renders it in its reader's language whenever it is read."""
    if len(tasks) == 1:
        number = tasks[0].number
        if kind == "warning":
            return _l("Task #%(number)s is close to its SLA deadline", number=number)
        if kind == "reminder":
            return _l("Task #%(number)s is due soon", number=number)
        return _l("Task #%(number)s was escalated to you", number=number)
    if kind == "warning":
        return lazy_ngettext("%(num)d task is close to its SLA deadline",
                             "%(num)d tasks are close to their SLA deadline", len(tasks))
    if kind == "reminder":
        return lazy_ngettext("%(num)d task is due soon", "%(num)d tasks are due soon", len(tasks))
    return lazy_ngettext("%(num)d task was escalated to you", "%(num)d tasks were escalated to you", len(tasks))


KINDS = {"warning": "escalation.warning", "escalated": "escalation.escalated", "reminder": "escalation.reminder"}


def _when(value: dt.datetime | None) -> Any:
    """An instant shown in its reader's zone and language whenever the notice is read."""
    return "–" if value is None else LocalInstant(value)


TARGET_NAMES = {"first_response": _l("first response"), "update": _l("update"), "resolution": _l("resolution"),
                "status_time": _l("time in status")}


def _line(task: Task, notice: Notice, cycles: dict[int, Cycle], firings: dict[int, Firing]) -> Any:
    """One task of a notice, as a lazy message: the body is rendered when read, in its reader's words."""
    firing = firings.get(notice.firing_id)
    cycle = cycles.get(firing.cycle_id) if firing else None
    if cycle is None:
        return _l("#%(number)s %(title)s: due %(due)s", number=task.number, title=task.title, due=_when(task.due_at))
    target = TARGET_NAMES.get(cycle.kind, cycle.kind)
    if notice.kind == "warning":
        return _l("#%(number)s %(title)s: %(target)s due %(due)s", number=task.number, title=task.title,
                  target=target, due=_when(cycle.due_at))
    return _l("#%(number)s %(title)s: %(target)s target breached (level %(level)s)", number=task.number,
              title=task.title, target=target, level=max(firing.step - 1, 1))


def send_notices(now: dt.datetime) -> int:
    """Claim each person's waiting notices and send them as one message per kind (a digest for several)."""
    sent = 0
    waiting = list(Notice.select(Notice.recipient_id).where(Notice.batch.is_null()).distinct().tuples())
    for (recipient_id,) in waiting:
        batch = uuid.uuid4().hex
        with write_transaction():
            claimed = Notice.update(batch=batch).where((Notice.recipient_id == recipient_id)
                                                       & Notice.batch.is_null()).execute()
            if not claimed:
                continue  # another scan sent them
            recipient = User.get_or_none(User.id == recipient_id)
            notices = list(Notice.select().where((Notice.batch == batch) & (Notice.recipient_id == recipient_id))
                           .order_by(Notice.id))
            if recipient is None:
                continue
            tasks = {t.id: t for t in Task.select().where(Task.id.in_({n.task_id for n in notices}))}
            firings = {f.id: f for f in Firing.select().where(Firing.id.in_({n.firing_id for n in notices
                                                                             if n.firing_id}))}
            cycles = {c.id: c for c in Cycle.select().where(Cycle.id.in_({f.cycle_id for f in firings.values()}))}
            for kind in ("escalated", "warning", "reminder"):
                mine = [n for n in notices if n.kind == kind and n.task_id in tasks]
                if not mine:
                    continue
                with _in_language_of(recipient):
                    first = tasks[mine[0].task_id]
                    subject = _subject(kind, [tasks[n.task_id] for n in mine])
                    body = MessageLines(_line(tasks[n.task_id], n, cycles, firings) for n in mine)
                notify(recipient, KINDS[kind], subject, body, first if len(mine) == 1 else None,
                       dedupe_key=f"escalation:{batch}:{kind}")
                sent += 1
    return sent


# -- due-date reminders for tasks without a policy ------------------------------------------------------

def send_reminders(now: dt.datetime) -> int:
    """Tasks with a due date, open, without a policy: a reminder at each configured offset before it, once
    (the unique ``(task, due instant, offset)`` index). Only tasks due within the largest offset are read."""
    offsets = sorted(set(plugin_settings("escalation").get("reminder_minutes") or []))
    if not offsets:
        return 0
    horizon = now + dt.timedelta(minutes=offsets[-1])
    # Only the due_at range narrows the query (an index range); the status is checked on those few rows, so
    # the database never prefers the status index and walks every open task.
    due_soon = [task for task in Task.select().where((Task.due_at > now) & (Task.due_at <= horizon))
                if task.status in OPEN_STATUSES]
    if due_soon:  # a task with a policy has its clocks instead (asked only about these tasks: an index lookup)
        with_policy = {row[0] for row in TaskClock.select(TaskClock.task_id).where(
            TaskClock.task_id.in_([t.id for t in due_soon]) & TaskClock.policy_id.is_null(False)).tuples()}
        due_soon = [task for task in due_soon if task.id not in with_policy]
    reminded = 0
    for task in due_soon:
        passed = [o for o in offsets if task.due_at - dt.timedelta(minutes=o) <= now]
        with write_transaction():
            rows = [{"task_id": task.id, "due_at": task.due_at, "offset_minutes": o, "sent_at": now} for o in passed]
            new = list(Reminder.insert_many(rows).on_conflict_ignore().returning(Reminder.id,
                                                                                  Reminder.offset_minutes).execute())
            if not new:
                continue
            nearest = min(new, key=lambda row: row[1] if isinstance(row, tuple) else row.offset_minutes)
            reminder_id = nearest[0] if isinstance(nearest, tuple) else nearest.id
            _notice(None, reminder_id, recipients(task, {"to": ["assignee"]}, 1), task, "reminder", now)
            reminded += 1
    return reminded


__all__ = ["scan", "send_notices", "send_reminders", "recipients"]
