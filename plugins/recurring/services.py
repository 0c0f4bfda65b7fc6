"""Recurring rules: create, change, pause, resume, end, delete, preview; and materialising due occurrences.

Every change goes through these functions, whether it comes from the API, the admin panel or a
job. Tasks are filed with the core's ``create_task`` as the system, so they take the same path,
checks, audit trail and events as any other task.

Exactly once: each rule is materialised in one ``write_transaction()`` that creates the tasks, their
``recurring_occurrence`` rows and advances the rule's cursor together, so a worker killed mid-run
leaves nothing behind. The unique index on (rule, occurrence, member) makes a second worker that
computed the same occurrence fail on insert; that task is rolled back (a savepoint around the task
and its row) and the occurrence counts as already done.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Iterable

import peewee
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (PRIORITIES, Conflict, Department, NotFound, Role, Task, User, ValidationFailed,
                      WorkdeskError, WorkingTime, access, db, insert_rows, load_rows, notify, parse_id, plugin_settings,
                      require, services, update_rows, utcnow, write_transaction)

from .models import (ANCHORS, ASSIGN_MODES, CATCH_UP_POLICIES, NON_WORKING_DAY_POLICIES, Occurrence, Rule)
from .schedule import UTC, Schedule, Slot, parse_local, zone
from .sentence import describe

log = logging.getLogger("workdesk.recurring")
PERMISSION = "recurring.manage"
OPEN_EXCLUDED = ("resolved", "closed")
# How many due rules one query of the job fetches; the job loops until none is due.
BATCH = 500
# One tick never settles more occurrences of a single rule than this (a minutely rule after months
# of downtime); the rest follow on the next tick.
MAX_DUE_PER_TICK = 50_000
TEMPLATE_FIELDS = ("title", "description", "department_id", "priority", "type", "fields", "watcher_ids",
                   "due_after_minutes", "assign_mode", "assignee_ids")
SCHEDULE_FIELDS = ("timezone", "dtstart", "rrule", "exdates", "anchor", "non_working_day")
POLICY_FIELDS = ("catch_up", "catch_up_limit", "skip_if_open")
EDITABLE_FIELDS = TEMPLATE_FIELDS + SCHEDULE_FIELDS + POLICY_FIELDS
DEFAULTS: dict[str, Any] = {"description": "", "priority": "normal", "type": "task", "fields": {},
                            "watcher_ids": [], "due_after_minutes": None, "assign_mode": "proposal",
                            "assignee_ids": [], "timezone": "UTC", "exdates": [], "anchor": "schedule",
                            "catch_up": "latest", "catch_up_limit": 10, "skip_if_open": False,
                            "non_working_day": "create"}
_EPSILON = dt.timedelta(microseconds=1)


# -- reading --------------------------------------------------------------------------------------

def get_rule(actor: User | None, rule_id: Any) -> Rule:
    if actor is not None:
        require(actor, PERMISSION)
    rule_id = parse_id(rule_id)
    rule = Rule.get_or_none(Rule.id == rule_id) if rule_id is not None else None
    if rule is None:
        raise NotFound(_("No such recurring rule."))
    return rule


def list_rules(actor: User | None, status: str | None = None) -> peewee.ModelSelect:
    if actor is not None:
        require(actor, PERMISSION)
    query = Rule.select().order_by(Rule.id)
    return query.where(Rule.status == status) if status else query


def schedule_of(rule: Rule) -> Schedule:
    if rule.non_working_day == "create":  # the department's calendar does not matter
        return _calendar_free_schedule(rule.timezone, rule.dtstart, rule.rrule, tuple(rule.exdates))
    department = Department.get_or_none(Department.id == rule.department_id) if rule.department_id else None
    return Schedule(timezone=rule.timezone, dtstart=rule.dtstart, rrule=rule.rrule, exdates=rule.exdates,
                    non_working_day=rule.non_working_day, working=WorkingTime.for_department(department))


@functools.lru_cache(maxsize=4096)
def _calendar_free_schedule(timezone: str, dtstart: str, rrule: str, exdates: tuple[str, ...]) -> Schedule:
    # Parsing a recurrence costs more than filing its task; rules sharing one (every weekday at 09:00
    # from the same start) share the parsed, read-only schedule within and across ticks.
    return Schedule(timezone=timezone, dtstart=dtstart, rrule=rrule, exdates=list(exdates))


def sentence(rule: Rule) -> str:
    """The rule's recurrence in words: "every 2nd Tuesday at 09:00, Europe/Sofia"."""
    return describe(schedule_of(rule), anchor=rule.anchor)


def preview(rule: Rule, count: int = 10, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The next ``count`` occurrences that would be created (pending ones first), with local times."""
    now = now or utcnow()
    schedule = schedule_of(rule)
    if rule.status == "ended":
        return []
    if rule.anchor == "completion" and rule.last_occurrence_at is not None:
        slots = [Slot(rule.next_occurrence_at, rule.next_run_at)] if rule.next_run_at else []
    else:
        after = rule.cursor_at if rule.status == "active" else max(rule.cursor_at or now, now - _EPSILON)
        slots = []
        for slot in schedule.slots_after(after, rule.last_effective_at):
            slots.append(slot)
            if len(slots) >= count:
                break
    return [{"occurrence": slot.scheduled.isoformat(), "at": slot.effective.isoformat(),
             "local": schedule.local(slot.effective).isoformat(), "moved": slot.moved} for slot in slots[:count]]


# -- validation -----------------------------------------------------------------------------------

def _fail(field: str, message: str) -> None:
    raise ValidationFailed(_("Invalid value."), {field: [message]})


def _check_template(values: dict[str, Any]) -> None:
    title = (values.get("title") or "").strip()
    if not title or len(title) > 200:
        _fail("title", _("Between 1 and 200 characters."))
    values["title"] = title
    if values["priority"] not in PRIORITIES:
        _fail("priority", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
    if values.get("department_id") is None or Department.get_or_none(Department.id == values["department_id"]) is None:
        _fail("department_id", _("No department with id %(id)s.", id=values.get("department_id")))
    if not isinstance(values["fields"], dict):
        _fail("fields", _("Must be an object."))
    if values["due_after_minutes"] is not None and not 0 <= int(values["due_after_minutes"]) <= 525600:
        _fail("due_after_minutes", _("Between 0 and 525600 minutes (one year)."))
    for field in ("watcher_ids", "assignee_ids"):
        ids = values[field]
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            _fail(field, _("Must be a list of user ids."))
        found = {u.id: u for u in User.select().where(User.id.in_(ids))} if ids else {}
        for user_id in ids:
            if user_id not in found:
                _fail(field, _("No user with id %(id)s.", id=user_id))
            if not found[user_id].is_active:
                _fail(field, _("User %(id)s is deactivated.", id=user_id))
            if field == "assignee_ids" and not access.may_be_assignee(found[user_id], values["department_id"]):
                # the core's one definition of who may be assigned a task of the department
                _fail(field, _("%(name)s cannot be assigned tasks of this department: only its active members "
                               "whose role lets them work tasks can.", name=found[user_id].name))
    mode = values["assign_mode"]
    if mode not in ASSIGN_MODES:
        _fail("assign_mode", _("Must be one of: %(choices)s.", choices=", ".join(ASSIGN_MODES)))
    if mode == "fixed" and len(values["assignee_ids"]) != 1:
        _fail("assignee_ids", _("A fixed assignee needs exactly one user id."))
    if mode == "round_robin" and not values["assignee_ids"]:
        _fail("assignee_ids", _("Round-robin needs at least one user id."))
    if mode in ("proposal", "each_member") and values["assignee_ids"]:
        _fail("assignee_ids", _("Leave empty: this assignment mode chooses people itself."))
    _check_task_input(values)


def _check_task_input(values: dict[str, Any]) -> None:
    """The checks each occurrence's filing will make, asked now through the core (``check_new_task``): the
    enabled plugins' adjustments and validation (a task template in ``fields.template_id``: unknown or
    inactive, or a required field of it missing), so such a rule is refused when saved instead of failing at
    every occurrence. Filed as the system, as occurrences are; the people are checked above."""
    try:
        services.tasks.check_new_task(None, {name: values[name] for name in
                                             ("title", "description", "department_id", "priority", "type",
                                              "fields")})
    except ValidationFailed as exc:
        # The rule keeps the template's id among its fields: name it as the rule's field.
        exc.fields = {("fields.template_id" if name == "template_id" else name): messages
                      for name, messages in (exc.fields or {}).items()}
        raise


def _check_policies(values: dict[str, Any]) -> None:
    for field, choices in (("anchor", ANCHORS), ("catch_up", CATCH_UP_POLICIES),
                           ("non_working_day", NON_WORKING_DAY_POLICIES)):
        if values[field] not in choices:
            _fail(field, _("Must be one of: %(choices)s.", choices=", ".join(choices)))
    if not 1 <= int(values["catch_up_limit"]) <= 1000:
        _fail("catch_up_limit", _("Between 1 and 1000."))
    if not isinstance(values["exdates"], list):
        _fail("exdates", _("Must be a list of local date-times."))
    values["dtstart"] = parse_local(values.get("dtstart") or "", "dtstart").strftime("%Y-%m-%dT%H:%M:%S")
    values["exdates"] = [parse_local(v, "exdates").strftime("%Y-%m-%dT%H:%M:%S") for v in values["exdates"]]
    zone(values["timezone"])
    schedule = Schedule(timezone=values["timezone"], dtstart=values["dtstart"], rrule=values.get("rrule") or "",
                        exdates=values["exdates"])
    if schedule.parts["FREQ"] == "MINUTELY" and schedule.interval < 5:
        _fail("rrule", _("Minutely rules need INTERVAL=5 or more (the job runs once a minute)."))
    values["rrule"] = schedule.rrule_text


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown})
    values = {**DEFAULTS, **values}
    _check_template(values)
    _check_policies(values)
    return values


# -- changes --------------------------------------------------------------------------------------

def create_rule(actor: User | None, data: dict[str, Any], now: dt.datetime | None = None) -> Rule:
    """Create a rule. Occurrences before ``now`` (default: the current time) are never created."""
    if actor is not None:
        require(actor, PERMISSION)
    now = now or utcnow()
    values = _validated(dict(data))
    with write_transaction():
        rule = Rule(**values, created_by=actor, created_at=now, updated_at=now, cursor_at=now - _EPSILON,
                    status="active")
        _schedule_next(rule, now)
        rule.save()
    return rule


def update_rule(actor: User | None, rule_id: Any, changes: dict[str, Any], now: dt.datetime | None = None) -> Rule:
    """Change a rule; a changed recurrence applies to occurrences after ``now`` only."""
    now = now or utcnow()
    with write_transaction():
        rule = get_rule(actor, rule_id)
        current = {field: getattr(rule, field) for field in EDITABLE_FIELDS}
        values = _validated({**current, **dict(changes)})
        schedule_changed = any(values[f] != current[f] for f in SCHEDULE_FIELDS + ("department_id",))
        for field, value in values.items():
            setattr(rule, field, value)
        if schedule_changed:
            rule.cursor_at = max(rule.cursor_at or now, now - _EPSILON)
        rule.last_error = None
        rule.last_error_at = None
        rule.updated_at = now
        if rule.status == "active":
            _schedule_next(rule, now)
        rule.save()
    return rule


def pause_rule(actor: User | None, rule_id: Any, now: dt.datetime | None = None) -> Rule:
    now = now or utcnow()
    with write_transaction():
        rule = get_rule(actor, rule_id)
        if rule.status == "ended":
            raise Conflict(_("This rule has ended; it cannot be paused."))
        rule.status = "paused"
        rule.next_run_at = rule.next_occurrence_at = None
        rule.updated_at = now
        rule.save()
    return rule


def resume_rule(actor: User | None, rule_id: Any, now: dt.datetime | None = None) -> Rule:
    """Resume a paused rule; occurrences that fell in the pause are not created."""
    now = now or utcnow()
    with write_transaction():
        rule = get_rule(actor, rule_id)
        if rule.status == "ended":
            raise Conflict(_("This rule has ended; create a new one instead."))
        if rule.status == "paused":
            rule.status = "active"
            rule.cursor_at = max(rule.cursor_at or now, now - _EPSILON)
            rule.updated_at = now
            _schedule_next(rule, now)
            rule.save()
    return rule


def end_rule(actor: User | None, rule_id: Any, now: dt.datetime | None = None) -> Rule:
    """End a rule for good; its tasks stay."""
    now = now or utcnow()
    with write_transaction():
        rule = get_rule(actor, rule_id)
        _end(rule, now)
        rule.updated_at = now
        rule.save()
    return rule


def delete_rule(actor: User | None, rule_id: Any) -> None:
    """Delete a rule; its tasks stay and keep their ``plugins.recurring`` link."""
    with write_transaction():
        get_rule(actor, rule_id).delete_instance()


def _end(rule: Rule, now: dt.datetime) -> None:
    rule.status = "ended"
    rule.ended_at = rule.ended_at or now
    rule.next_run_at = rule.next_occurrence_at = None


# -- scheduling -------------------------------------------------------------------------------------

def _occurrence_tasks(rule: Rule, occurrence_at: dt.datetime | None) -> list[Task]:
    if occurrence_at is None:
        return []
    return list(Task.select().join(Occurrence, on=(Occurrence.task_id == Task.id))
                .where((Occurrence.rule_id == rule.id) & (Occurrence.occurrence_at == occurrence_at)))


def _schedule_next(rule: Rule, now: dt.datetime) -> None:
    """Set the rule's next occurrence from its cursor (or, anchored on completion, from when the previous
    occurrence's tasks were done); end the rule when the recurrence is exhausted."""
    if rule.status != "active":
        rule.next_run_at = rule.next_occurrence_at = None
        return
    schedule = schedule_of(rule)
    if rule.anchor == "completion" and rule.last_occurrence_at is not None:
        tasks = _occurrence_tasks(rule, rule.last_occurrence_at)
        if any(t.status not in OPEN_EXCLUDED for t in tasks):
            rule.next_run_at = rule.next_occurrence_at = None  # waits for the previous one to be done
            return
        done = [t.resolved_at or t.closed_at or t.updated_at for t in tasks]
        slot = schedule.after_completion(max(done) if done else now, rule.occurrences_created)
    else:
        slot = next(schedule.slots_after(rule.cursor_at, rule.last_effective_at), None)
    if slot is None:
        _end(rule, now)
        return
    rule.next_occurrence_at, rule.next_run_at = slot.scheduled, slot.effective


def completion_recorded(task: Task) -> None:
    """A task reached resolved or closed: a completion-anchored rule waiting on it schedules its next one."""
    link = Occurrence.get_or_none(Occurrence.task_id == task.id)
    if link is None:
        return
    with write_transaction():
        rule = Rule.get_or_none(Rule.id == link.rule_id)
        if (rule is None or rule.anchor != "completion" or rule.status != "active" or rule.next_run_at is not None
                or rule.last_occurrence_at != link.occurrence_at):
            return  # not waiting on this task (a repeated event changes nothing)
        _schedule_next(rule, utcnow())
        rule.save()


# -- materialising ----------------------------------------------------------------------------------

def materialise_due(now: dt.datetime) -> dict[str, int]:
    """Create the tasks of every rule due at ``now``; returns counts of rules, tasks and failures."""
    totals = {"rules": 0, "tasks": 0, "failed": 0, "already_done": 0}
    grace = dt.timedelta(minutes=plugin_settings("recurring").get("catch_up_grace_minutes", 60))
    seen: set[int] = set()
    skip = 0  # rules handled in this tick that are still due (a capped catch-up) are not taken twice
    while True:
        page = [r.id for r in Rule.select(Rule.id).where(Rule.next_run_at <= now)
                .order_by(Rule.next_run_at, Rule.id).offset(skip).limit(BATCH)]
        if not page:
            return totals
        due = [rule_id for rule_id in page if rule_id not in seen]
        if not due:
            skip += len(page)
            continue
        seen.update(due)
        outcome = materialise_rules(due, now, grace)
        totals["rules"] += len(due)
        for key in ("tasks", "failed", "already_done"):
            totals[key] += outcome[key]


def materialise_rule(rule_id: int, now: dt.datetime, grace: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, int]:
    """Settle every occurrence of one rule that is due at ``now``, in one transaction; occurrences overdue
    by more than ``grace`` were missed (the rule's catch-up policy decides about them)."""
    outcome = {"tasks": 0, "failed": 0, "already_done": 0}
    with write_transaction():
        rule = Rule.get_or_none(Rule.id == rule_id)
        if rule is None or rule.status != "active" or rule.next_run_at is None or rule.next_run_at > now:
            return outcome  # another worker settled it first, or it changed meanwhile
        _materialise(rule, now, grace, outcome)
    return outcome


@dataclass
class _Pending:
    """A rule due for one occurrence on its schedule, planned for a bulk create."""
    rule: Rule
    schedule: Schedule
    due: list[Slot]
    upcoming: Slot | None
    slot: Slot | None = None  # None: nothing to create (no occurrence chosen, or it failed already)
    targets: list[tuple[int, int | None]] = dataclass_field(default_factory=list)  # (member id, assignee id)
    position: int | None = None  # the round-robin position after this occurrence
    created: list[Task] | None = None  # None: failed (recorded on the rule)
    conflicts: int = 0


def materialise_rules(rule_ids: list[int], now: dt.datetime,
                      grace: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, int]:
    """Settle many due rules in one transaction. Rules due for one occurrence on their schedule (nearly
    every rule in a tick) have all their tasks filed by one ``create_tasks`` call and their occurrence
    rows written in one insert; catch-ups of several occurrences and completion-anchored rules are
    settled rule by rule (:func:`_materialise`). A refused task fails only its own rule's occurrence;
    a conflict with a concurrent worker (the unique occurrence index) sends the batch rule by rule,
    where each conflicting occurrence counts as already done."""
    outcome = {"tasks": 0, "failed": 0, "already_done": 0}
    with write_transaction():
        query = (Rule.select().where(Rule.id.in_(rule_ids) & (Rule.status == "active") & (Rule.next_run_at <= now))
                 .order_by(Rule.id))
        if db.for_update:  # PostgreSQL: a concurrent tick leaves the rules another one holds to it
            query = query.for_update(skip_locked=True)
        batch = []
        shared: dict[tuple, tuple[list[Slot], Slot | None]] = {}
        for rule in load_rows(query):
            schedule, due, upcoming, chosen = _plan(rule, now, grace, shared)
            if len(chosen) > 1 or rule.anchor == "completion":
                _materialise(rule, now, grace, outcome)
                continue
            pending = _Pending(rule, schedule, due, upcoming)
            for slot in chosen:
                pending.slot, pending.created = slot, []
                try:
                    pending.targets, pending.position = _targets(rule, slot)
                except WorkdeskError as exc:
                    _record_failure(rule, schedule, slot, exc, now)
                    pending.created = None
            batch.append(pending)
        _create_in_bulk([p for p in batch if p.targets and p.created is not None], now)
        for pending in batch:
            if pending.slot is not None:
                outcome["already_done"] += pending.conflicts
                _settle(pending.rule, pending.slot, pending.created, pending.position, pending.conflicts, outcome)
            _advance(pending.rule, pending.schedule, pending.due, pending.upcoming, now)
        rules = [pending.rule for pending in batch]
        update_rows(rules, set().union(*(rule.dirty_fields for rule in rules)))
    return outcome


def _create_in_bulk(batch: list[_Pending], now: dt.datetime) -> None:
    """File the tasks of every planned occurrence with one ``create_tasks`` and their occurrence rows."""
    while batch:
        owners = [(pending, member_id) for pending in batch for member_id, _assignee_id in pending.targets]
        # Read once by create_tasks, which keeps its own copy of each: none is held for the whole batch.
        inputs = (_task_input(pending.rule, pending.schedule, pending.slot, assignee_id)
                  for pending in batch for _member_id, assignee_id in pending.targets)
        try:
            with db.atomic():  # a savepoint: a refused batch leaves nothing behind
                tasks = services.tasks.create_tasks(None, inputs)
                insert_rows(Occurrence, [
                    {"rule_id": pending.rule.id, "occurrence_at": pending.slot.scheduled,
                     "effective_at": pending.slot.effective, "member_id": member_id, "task_id": task.id,
                     "created_at": now} for (pending, member_id), task in zip(owners, tasks)])
        except WorkdeskError as exc:
            if getattr(exc, "index", None) is None:
                raise
            refused = owners[exc.index][0]
            _record_failure(refused.rule, refused.schedule, refused.slot, exc, now)
            refused.created = None
            batch = [pending for pending in batch if pending is not refused]
            continue
        except peewee.IntegrityError:
            # A concurrent worker filed some of these occurrences first: settle each rule's occurrence on
            # its own, where every conflicting task is rolled back and counted as already done.
            for pending in batch:
                counts = {"already_done": 0}
                pending.created = _create_occurrence(pending.rule, pending.schedule, pending.slot, now, counts)
                pending.conflicts, pending.position = counts["already_done"], None  # the position is set already
            return
        for (pending, _member_id), task in zip(owners, tasks):
            pending.created.append(task)
        return


def _due_slots(rule: Rule, schedule: Schedule, now: dt.datetime) -> tuple[list[Slot], Slot | None]:
    """The occurrences due at ``now`` and the first one after them (None when the recurrence is exhausted)."""
    due: list[Slot] = []
    for slot in schedule.slots_after(rule.cursor_at, rule.last_effective_at):
        if slot.effective > now or len(due) >= MAX_DUE_PER_TICK:
            return due, slot
        due.append(slot)
    return due, None


def _chosen(rule: Rule, due: list[Slot], now: dt.datetime, grace: dt.timedelta) -> list[Slot]:
    """Apply the catch-up policy: occurrences overdue by more than the grace period were missed."""
    missed = [s for s in due if s.effective < now - grace]
    on_time = [s for s in due if s.effective >= now - grace]
    if rule.catch_up == "all":
        return missed[-rule.catch_up_limit:] + on_time
    if rule.catch_up == "latest":
        return on_time or missed[-1:]
    return on_time


def _plan(rule: Rule, now: dt.datetime, grace: dt.timedelta,
          shared: dict[tuple, tuple[list[Slot], Slot | None]] | None = None
          ) -> tuple[Schedule, list[Slot], Slot | None, list[Slot]]:
    """The rule's schedule, its due occurrences, the first one after them, and those to create.

    ``shared`` (one batch, one ``now``) keeps the due occurrences of each (schedule, cursor): rules that share
    a parsed schedule and were settled up to the same occurrence ("every weekday at 09:00" filed by many
    rules) ask dateutil once per batch, not once per rule."""
    schedule = schedule_of(rule)
    if rule.anchor == "completion" and rule.last_occurrence_at is not None:
        # One pending occurrence at a time; it is created even when late (skipping it would stall the rule).
        due = [Slot(rule.next_occurrence_at, rule.next_run_at)]
        return schedule, due, None, due
    if shared is None:
        due, upcoming = _due_slots(rule, schedule, now)
    else:
        key = (schedule, rule.cursor_at, rule.last_effective_at)  # the schedule by identity (parsed ones are cached)
        if key not in shared:
            shared[key] = _due_slots(rule, schedule, now)
        due, upcoming = shared[key]  # (the list is shared: it is only read)
    return schedule, due, upcoming, _chosen(rule, due, now, grace)


def _materialise(rule: Rule, now: dt.datetime, grace: dt.timedelta, outcome: dict[str, int]) -> None:
    schedule, due, upcoming, chosen = _plan(rule, now, grace)
    for slot in chosen:
        conflicts_before = outcome["already_done"]
        created = _create_occurrence(rule, schedule, slot, now, outcome)
        _settle(rule, slot, created, None, outcome["already_done"] - conflicts_before, outcome)
    _advance(rule, schedule, due, upcoming, now)
    rule.save()


def _settle(rule: Rule, slot: Slot, created: list[Task] | None, position: int | None, conflicts: int,
            outcome: dict[str, int]) -> None:
    """Count an occurrence's outcome; one that was created (here, or by a concurrent worker: ``conflicts``
    tasks already existed) is the rule's latest."""
    if created is None:
        outcome["failed"] += 1
        return
    if created or conflicts:
        outcome["tasks"] += len(created)
        rule.last_occurrence_at = slot.scheduled
        rule.occurrences_created += 1
    if created:
        if position is not None:
            rule.round_robin_position = position
        if rule.last_error is not None or rule.last_error_at is not None:  # (left clean: not written again)
            rule.last_error = rule.last_error_at = None


def _advance(rule: Rule, schedule: Schedule, due: list[Slot], upcoming: Slot | None, now: dt.datetime) -> None:
    """Move the rule's cursor past its due occurrences and schedule the next one (the caller saves the rule)."""
    if due:
        rule.cursor_at = due[-1].scheduled
        rule.last_effective_at = due[-1].effective
    if rule.anchor == "completion" and rule.last_occurrence_at is not None:
        _schedule_next(rule, now)
        if rule.next_run_at is None and rule.status == "active" and not _occurrence_tasks(rule, rule.last_occurrence_at):
            # Nothing was created to wait for (it failed): continue as if it had been done now.
            slot = schedule.after_completion(now, rule.occurrences_created)
            if slot is None:
                _end(rule, now)
            else:
                rule.next_occurrence_at, rule.next_run_at = slot.scheduled, slot.effective
    elif upcoming is None:
        _end(rule, now)
    else:
        rule.next_occurrence_at, rule.next_run_at = upcoming.scheduled, upcoming.effective


def _members(rule: Rule) -> list[User]:
    """The members who may be assigned the department's tasks (the core's eligible assignees), by id."""
    return sorted(access.eligible_assignees(rule.department_id), key=lambda u: u.id)


def _still_open(rule: Rule) -> list[Task]:
    return [t for t in _occurrence_tasks(rule, rule.last_occurrence_at) if t.status not in OPEN_EXCLUDED]


def _round_robin_pick(rule: Rule) -> tuple[int, int]:
    """(assignee id, next position): the next person in the rotation who may still be assigned the
    department's tasks (active, a member, a role that works tasks)."""
    ids = list(rule.assignee_ids)
    active = {u.id for u in access.eligible_assignees(rule.department_id).where(User.id.in_(ids))}
    for step in range(len(ids)):
        candidate = ids[(rule.round_robin_position + step) % len(ids)]
        if candidate in active:
            return candidate, (rule.round_robin_position + step + 1) % len(ids)
    raise ValidationFailed(_("No one to assign."), {"assignee_ids": [_("No one in the rotation can be assigned the department's tasks any more.")]})


def _targets(rule: Rule, slot: Slot) -> tuple[list[tuple[int, int | None]], int | None]:
    """Who gets the occurrence's tasks: ``(member id, assignee id)`` pairs ([] when skipped because the
    previous one is still open), and the round-robin position after it (None unless round-robin)."""
    if rule.department_id is None:
        raise ValidationFailed(_("Invalid reference."), {"department_id": [
            _("The rule's department was deleted; choose another one.")]})
    open_tasks = _still_open(rule) if rule.skip_if_open else []
    if rule.assign_mode == "each_member":
        members = _members(rule)
        if not members:
            raise ValidationFailed(_("No one to assign."), {"department_id": [
                _("The department has no active members whose role works tasks.")]})
        busy = {t.assignee_id for t in open_tasks}
        return [(m.id, m.id) for m in members if m.id not in busy], None
    if open_tasks:
        return [], None
    if rule.assign_mode == "round_robin":
        assignee_id, position = _round_robin_pick(rule)
        return [(0, assignee_id)], position
    return [(0, rule.assignee_ids[0] if rule.assign_mode == "fixed" else None)], None


def _task_input(rule: Rule, schedule: Schedule, slot: Slot, assignee_id: int | None) -> dict[str, Any]:
    """The occurrence's task, as ``create_task``'s keyword arguments."""
    local_day = schedule.local(slot.scheduled).date().isoformat()
    return {"title": rule.title.replace("{date}", local_day)[:200], "department_id": rule.department_id,
            "description": rule.description, "priority": rule.priority, "type": rule.type,
            "fields": dict(rule.fields), "assignee_id": assignee_id, "watcher_ids": list(rule.watcher_ids),
            "due_at": (slot.effective + dt.timedelta(minutes=rule.due_after_minutes)
                       if rule.due_after_minutes is not None else None)}


def _create_occurrence(rule: Rule, schedule: Schedule, slot: Slot, now: dt.datetime,
                       outcome: dict[str, int]) -> list[Task] | None:
    """File the occurrence's task(s) one by one with their occurrence rows. Returns the tasks ([] when
    skipped because the previous one is still open), or None after recording why it could not be created."""
    try:
        with db.atomic():  # a savepoint: a failed occurrence leaves nothing behind
            targets, position = _targets(rule, slot)
            tasks = []
            for member_id, assignee_id in targets:
                try:
                    with db.atomic():  # the task and its occurrence row stand or fall together
                        task = services.tasks.create_task(None, **_task_input(rule, schedule, slot, assignee_id))
                        Occurrence.insert(rule_id=rule.id, occurrence_at=slot.scheduled, effective_at=slot.effective,
                                          member_id=member_id, task_id=task.id, created_at=now).execute()
                except peewee.IntegrityError:
                    # A concurrent worker (one that read the rule before we committed, or whose lease ran
                    # out) created this occurrence first: it is done, and our copy is rolled back.
                    log.info("recurring rule %s: occurrence %s (member %s) already created", rule.id,
                             slot.scheduled.isoformat(), member_id)
                    outcome["already_done"] += 1
                    continue
                tasks.append(task)
    except WorkdeskError as exc:
        _record_failure(rule, schedule, slot, exc, now)
        return None
    if position is not None and tasks:
        rule.round_robin_position = position
    return tasks


def _record_failure(rule: Rule, schedule: Schedule, slot: Slot, exc: WorkdeskError, now: dt.datetime) -> None:
    """Keep the reason on the rule (shown in the admin panel and the API) and tell the people who can fix it."""
    reasons = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.fields.items())
    message = _("Occurrence of %(when)s could not be created: %(reason)s",
                when=f"{schedule.local(slot.scheduled):%Y-%m-%d %H:%M} {schedule.timezone}", reason=f"{exc.message} {reasons}".strip())
    first_failure = rule.last_error is None
    rule.last_error, rule.last_error_at = message, now
    log.warning("recurring rule %s: %s", rule.id, message)
    if first_failure:  # one notification per failure streak, not one per occurrence
        for person in _people_to_tell(rule):
            notify(person, "recurring.failed",
                   _l("Recurring rule \u201c%(title)s\u201d could not create a task", title=rule.title), message)


def _people_to_tell(rule: Rule) -> Iterable[User]:
    people = {u.id: u for u in User.select().join(Role).where((Role.name == "admin") & (User.is_active == True))}  # noqa: E712
    if rule.created_by_id is not None and rule.created_by_id not in people:
        creator = User.get_or_none(User.id == rule.created_by_id)
        if creator is not None:
            people[creator.id] = creator
    return people.values()


# -- representation -----------------------------------------------------------------------------

def task_deleted(task_id: int) -> None:
    """Detach the occurrence of a deleted task; the occurrence stays so that it is never filed again."""
    with write_transaction():
        (Occurrence.update(task_id=None, task_deleted_at=utcnow())
         .where(Occurrence.task_id == task_id).execute())


def task_link(task: Task) -> dict[str, Any] | None:
    """``{rule_id, occurrence}`` for a task a rule created (the ``extra_task_data`` answer)."""
    link = Occurrence.get_or_none(Occurrence.task_id == task.id)
    if link is None:
        return None
    return {"rule_id": link.rule_id, "occurrence": link.occurrence_at.astimezone(UTC).isoformat()}


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value else None
    data = {field: getattr(rule, field) for field in EDITABLE_FIELDS}
    data.update(id=rule.id, status=rule.status, next_run_at=iso(rule.next_run_at),
                next_occurrence_at=iso(rule.next_occurrence_at), last_occurrence_at=iso(rule.last_occurrence_at),
                occurrences_created=rule.occurrences_created, last_error=rule.last_error,
                last_error_at=iso(rule.last_error_at), created_by_id=rule.created_by_id,
                created_at=iso(rule.created_at), updated_at=iso(rule.updated_at), ended_at=iso(rule.ended_at))
    try:
        data["sentence"] = sentence(rule)
    except ValidationFailed as exc:  # a rule stored by an older version that no longer parses
        data["sentence"] = exc.message
    return data
