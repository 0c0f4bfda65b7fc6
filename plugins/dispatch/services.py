"""Dispatch rules and their decisions: every change and every answer goes through here, whether it comes
from the core's assignee proposal, the API, the admin panel or a job.

A decision takes one rule and one task: the rule's pool, the people the filters leave (active, allowed to
work the task's department, not away, under the cap, on duty when the rule says so), then the strategy's
choice among them. Figures come from one grouped query over the open tasks, never from a loop over tasks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import SqliteDatabase

from workdesk import (OPEN_STATUSES, PRIORITIES, UNASSIGNED, Department, Membership, NotFound, Role, Task,
                      TaskEvent, User, ValidationFailed, WorkdeskError, absences, access, db, notify, parse_id,
                      people_on_duty, record_error, require, services, utcnow, write_transaction)

from .models import POOLS, STRATEGIES, Activity, Decision, Load, Lock, Rule

PERMISSION = "dispatch.manage"
# Why someone was left out of a decision, and why nobody was chosen (the failure reasons reports count).
FILTERS = {"inactive": _l("deactivated"), "not_allowed": _l("may not work this department's tasks"),
           "absent": _l("away"), "off_duty": _l("not on duty"), "at_cap": _l("at their cap"),
           "handing_back": _l("handing the task back")}
REASONS = {"no_pool": _l("The rule's pool has nobody who may work the department's tasks"),
           "absent": _l("Everyone in the pool is away"), "off_duty": _l("Nobody in the pool is on duty"),
           "at_cap": _l("Everyone in the pool is at their cap"),
           "mixed": _l("Everyone in the pool is away, off duty or at their cap")}
STRATEGY_LABELS = {"least_loaded": _l("least loaded"), "round_robin": _l("round-robin"),
                   "best_skill": _l("best skill match"), "longest_idle": _l("longest idle")}
POOL_LABELS = {"department": _l("a department's members"), "role": _l("a role"), "people": _l("a list of people"),
               "skills": _l("people with skill tags")}
RULE_FIELDS = ("name", "position", "enabled", "department_id", "types", "priorities", "impacts", "fields", "pool",
               "pool_department_id", "include_subdepartments", "pool_role_id", "pool_user_ids", "skills", "strategy",
               "cap", "on_duty_only", "hand_back")
DEFAULTS: dict[str, Any] = {"position": 100, "enabled": True, "department_id": None, "types": [], "priorities": [],
                            "impacts": [], "fields": {}, "pool": "department", "pool_department_id": None,
                            "include_subdepartments": False, "pool_role_id": None, "pool_user_ids": [],
                            "skills": [], "strategy": "least_loaded", "cap": None, "on_duty_only": False,
                            "hand_back": False}
# How many figures an audit entry keeps beside the chosen person's (a pool may hold a thousand people).
KEPT_FIGURES = 10


def _fail(field_name: str, message: str) -> None:
    raise ValidationFailed(_("Invalid value."), {field_name: [message]})


# -- rules ------------------------------------------------------------------------------------------

def _text_list(values: Any, field_name: str, choices: Iterable[str] | None = None) -> list[str]:
    if not isinstance(values, list) or len(values) > 50 or not all(isinstance(v, str) and 0 < len(v) <= 64
                                                                     for v in values):
        _fail(field_name, _("A list of at most 50 names of 1 to 64 characters."))
    if choices is not None and set(values) - set(choices):
        _fail(field_name, _("Must be one of: %(choices)s.", choices=", ".join(choices)))
    return sorted(set(values))


def _reference(model, value: Any, field_name: str, message: str):
    number = parse_id(value) if not isinstance(value, bool) else None
    row = model.get_or_none(model.id == number) if number is not None else None
    if row is None:
        _fail(field_name, message % {"id": value})
    return row


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """The rule's values checked and normalised; ValidationFailed names the first wrong field."""
    name = (values.get("name") or "").strip() if isinstance(values.get("name"), str) else ""
    if not name or len(name) > 100:
        _fail("name", _("Between 1 and 100 characters."))
    position = values.get("position")
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 100000:
        _fail("position", _("A whole number from 0 to 100000 (lower rules are tried first)."))
    cleaned: dict[str, Any] = {"name": name, "position": position, "enabled": bool(values.get("enabled")),
                               "include_subdepartments": bool(values.get("include_subdepartments")),
                               "on_duty_only": bool(values.get("on_duty_only")),
                               "hand_back": bool(values.get("hand_back"))}
    cleaned["department"] = (_reference(Department, values["department_id"], "department_id",
                                        _("No department with id %(id)s.")) if values.get("department_id") is not None
                             else None)
    cleaned["types"] = _text_list(values.get("types"), "types")
    cleaned["priorities"] = _text_list(values.get("priorities"), "priorities", PRIORITIES)
    cleaned["impacts"] = _text_list(values.get("impacts"), "impacts")
    custom = values.get("fields")
    if not isinstance(custom, dict) or len(custom) > 20 or not all(
            isinstance(k, str) and 0 < len(k) <= 64 and (v is None or isinstance(v, (int, float, bool))
                                                         or (isinstance(v, str) and len(v) <= 200))
            for k, v in custom.items()):
        _fail("fields", _("At most 20 custom fields, each with a plain value (text, number, true or false)."))
    cleaned["fields"] = dict(custom)
    pool = values.get("pool")
    if pool not in POOLS:
        _fail("pool", _("Must be one of: %(choices)s.", choices=", ".join(POOLS)))
    cleaned["pool"] = pool
    cleaned["pool_department"] = cleaned["pool_role"] = None
    cleaned["pool_user_ids"] = []
    cleaned["skills"] = _text_list(values.get("skills"), "skills")
    if pool == "department" and values.get("pool_department_id") is not None:
        cleaned["pool_department"] = _reference(Department, values["pool_department_id"], "pool_department_id",
                                                _("No department with id %(id)s."))
    if pool == "role":
        if values.get("pool_role_id") is None:
            _fail("pool_role_id", _("Name the role whose people the rule picks from."))
        cleaned["pool_role"] = _reference(Role, values["pool_role_id"], "pool_role_id", _("No role with id %(id)s."))
    if pool == "people":
        ids = values.get("pool_user_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 1000 or any(parse_id(i) is None or isinstance(i, bool)
                                                                         for i in ids):
            _fail("pool_user_ids", _("List between 1 and 1000 user ids."))
        known = {u.id for u in User.select(User.id).where(User.id.in_(ids))}
        missing = [i for i in ids if i not in known]
        if missing:
            _fail("pool_user_ids", _("No user with id %(id)s.", id=missing[0]))
        cleaned["pool_user_ids"] = list(dict.fromkeys(ids))
    if pool == "skills" and not cleaned["skills"]:
        _fail("skills", _("Name the skill tags the rule picks people by."))
    strategy = values.get("strategy")
    if strategy not in STRATEGIES:
        _fail("strategy", _("Must be one of: %(choices)s.", choices=", ".join(STRATEGIES)))
    cleaned["strategy"] = strategy
    cap = values.get("cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= 10000):
        _fail("cap", _("A whole number from 1 to 10000, or empty for no cap."))
    cleaned["cap"] = cap
    return cleaned


def get_rule(rule_id: Any) -> Rule:
    number = parse_id(rule_id)
    rule = Rule.get_or_none(Rule.id == number) if number is not None else None
    if rule is None:
        raise NotFound(_("No such dispatch rule."))
    return rule


def list_rules() -> list[Rule]:
    return list(Rule.select().order_by(Rule.position, Rule.id))


def create_rule(actor: User | None, values: dict[str, Any]) -> Rule:
    if actor is not None:
        require(actor, PERMISSION)
    cleaned = _clean({**DEFAULTS, **{k: v for k, v in values.items() if k in RULE_FIELDS}})
    with write_transaction():
        return Rule.create(**cleaned)


def current_values(rule: Rule) -> dict[str, Any]:
    return {"name": rule.name, "position": rule.position, "enabled": rule.enabled, "department_id": rule.department_id,
            "types": rule.types, "priorities": rule.priorities, "impacts": rule.impacts, "fields": rule.fields,
            "pool": rule.pool, "pool_department_id": rule.pool_department_id,
            "include_subdepartments": rule.include_subdepartments, "pool_role_id": rule.pool_role_id,
            "pool_user_ids": rule.pool_user_ids, "skills": rule.skills, "strategy": rule.strategy, "cap": rule.cap,
            "on_duty_only": rule.on_duty_only, "hand_back": rule.hand_back}


def update_rule(actor: User | None, rule_id: Any, changes: dict[str, Any]) -> Rule:
    if actor is not None:
        require(actor, PERMISSION)
    with write_transaction():
        rule = get_rule(rule_id)
        cleaned = _clean({**current_values(rule), **{k: v for k, v in changes.items() if k in RULE_FIELDS}})
        for name, value in cleaned.items():
            setattr(rule, name, value)
        rule.updated_at = utcnow()
        rule.save()
        return rule


def delete_rule(actor: User | None, rule_id: Any) -> None:
    if actor is not None:
        require(actor, PERMISSION)
    with write_transaction():
        get_rule(rule_id).delete_instance()


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, **current_values(rule), "created_at": rule.created_at.isoformat(),
            "updated_at": rule.updated_at.isoformat()}


# -- matching ---------------------------------------------------------------------------------------

def matches(rule: Rule, task: Task) -> bool:
    """Whether the rule's criteria hold for the task (empty criteria hold for every task)."""
    custom = task.fields or {}
    return ((rule.department_id is None or rule.department_id == task.department_id)
            and (not rule.types or task.type in rule.types)
            and (not rule.priorities or task.priority in rule.priorities)
            and (not rule.impacts or task.impact in rule.impacts)
            and all(custom.get(name) == value for name, value in (rule.fields or {}).items()))


def matching_rule(task: Task, hand_back_only: bool = False) -> Rule | None:
    """The first enabled rule, in position order, that matches the task."""
    query = Rule.select().where(Rule.enabled == True).order_by(Rule.position, Rule.id)  # noqa: E712
    if hand_back_only:
        query = query.where(Rule.hand_back == True)  # noqa: E712
    return next((rule for rule in query if matches(rule, task)), None)


def subdepartment_ids(department_id: int) -> list[int]:
    """The department and every department below it."""
    found, frontier = [department_id], [department_id]
    while frontier:
        frontier = [d.id for d in Department.select(Department.id).where(Department.parent.in_(frontier))
                    if d.id not in found]
        found.extend(frontier)
    return found


def _pool_query(rule: Rule, task: Task):
    """The rule's pool as a query of user ids, for the pools kept in tables (a department, a role)."""
    if rule.pool == "role":
        return User.select(User.id).where(User.role == rule.pool_role_id)
    if rule.pool == "department":
        department_id = rule.pool_department_id or task.department_id
        departments = subdepartment_ids(department_id) if rule.include_subdepartments else [department_id]
        return Membership.select(Membership.user).where(Membership.department.in_(departments)).distinct()
    return None


def _rows(query) -> list[tuple]:
    """A query's rows as plain tuples: a pool of a thousand people is read without building a model each."""
    return db.execute_sql(*query.sql()).fetchall()


def pool_ids(rule: Rule, task: Task, candidates: Iterable[User]) -> list[int]:
    """Whom the rule picks from, by id (before the filters)."""
    if rule.pool == "people":
        return list(rule.pool_user_ids)
    if rule.pool == "skills":
        wanted = set(rule.skills)
        return [c.id for c in candidates if wanted & set(c.skills or [])]
    return [user_id for user_id, in _rows(_pool_query(rule, task))]


# -- deciding ---------------------------------------------------------------------------------------

@dataclass
class Figures:
    """One person's figures in a decision."""
    user_id: int
    name: str
    open_tasks: int = 0
    load: int = 0
    skill_match: int = 0
    last_assigned_at: str | None = None
    filtered: str | None = None  # why they were left out (a key of FILTERS), None when they could be chosen

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "open_tasks": self.open_tasks, "load": self.load,
                "skill_match": self.skill_match, "last_assigned_at": self.last_assigned_at,
                "filtered": self.filtered}


@dataclass
class Outcome:
    """What a rule decides for a task: the person chosen (or None and why), and everyone's figures."""
    rule: Rule
    chosen: User | None
    figures: list[Figures] = field(default_factory=list)
    reason: str = ""

    def details(self) -> dict[str, Any]:
        """What the audit trail keeps: the strategy, the chosen person's and the nearest runners-up's
        figures, and who was filtered out and why (every one of them, by id)."""
        considered = [f for f in self.figures if f.filtered is None]
        chosen_id = self.chosen.id if self.chosen else None
        kept = sorted(considered, key=lambda f: (f.user_id != chosen_id, f.load, f.user_id))[:KEPT_FIGURES]
        return {"rule_id": self.rule.id, "rule": self.rule.name, "strategy": self.rule.strategy,
                "chosen": chosen_id, "reason": self.reason, "considered": len(considered),
                "figures": [f.as_dict() for f in kept],
                "filtered": {str(f.user_id): f.filtered for f in self.figures if f.filtered is not None}}


def _required_skills(rule: Rule, task: Task) -> set[str]:
    wanted = set(rule.skills or [])
    asked = (task.fields or {}).get("skills")
    if isinstance(asked, list):
        wanted |= {s for s in asked if isinstance(s, str)}
    return wanted


def _loads(rule: Rule, task: Task, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``{user id: (open tasks, weighted load)}`` of the pool, read by key from the counts the triggers keep
    (with the pool as a subquery when it lives in a table, so no list of a thousand ids is sent)."""
    if not user_ids:
        return {}
    pool = _pool_query(rule, task)
    return {user_id: (count, load) for user_id, count, load in _rows(
        Load.select(Load.user_id, Load.open_tasks, Load.load).where(
            Load.user_id.in_(pool if pool is not None else user_ids)))}


def decide(rule: Rule, task: Task, candidates: Iterable[User], at: dt.datetime,
           exclude: Iterable[int] = (), choose: bool = True) -> Outcome:
    """Apply the rule to the task at ``at``: the pool, the filters, then the strategy.

    :param candidates: who may be the task's assignee (``workdesk.access.eligible_assignees``).
    :param exclude: people handing the task back, never chosen for it again.
    :param choose: False for a preview (the round-robin cursor is read, never moved).
    """
    allowed = {c.id: c for c in candidates}
    ids = pool_ids(rule, task, allowed.values())
    outside = [i for i in ids if i not in allowed]
    names = {u.id: (u.name, u.is_active) for u in User.select(User.id, User.name, User.is_active)
             .where(User.id.in_(outside))} if outside else {}
    figures: dict[int, Figures] = {}
    for user_id in ids:
        if user_id in allowed:
            figures[user_id] = Figures(user_id, allowed[user_id].name)
        elif user_id in names:  # a deleted user in a list of people is simply gone
            name, active = names[user_id]
            figures[user_id] = Figures(user_id, name, filtered="not_allowed" if active else "inactive")
    for user_id in exclude:
        if user_id in figures and figures[user_id].filtered is None:
            figures[user_id].filtered = "handing_back"
    live = [i for i, f in figures.items() if f.filtered is None]
    # Everyone away at ``at`` (few people, one query), rather than a thousand ids sent to ask about each.
    for user_id in absences.absent_user_ids(at) & set(live):
        figures[user_id].filtered = "absent"
    if rule.on_duty_only:
        on_duty = people_on_duty(task.department_id, at)
        if on_duty is not None:  # None: no roster keeps this department, so nobody is off duty
            duty_ids = {u.id for u in on_duty}
            for f in figures.values():
                if f.filtered is None and f.user_id not in duty_ids:
                    f.filtered = "off_duty"
    for user_id, (count, load) in _loads(rule, task, list(figures)).items():
        if user_id in figures:
            figures[user_id].open_tasks, figures[user_id].load = count, load
    if rule.cap is not None:
        for f in figures.values():
            if f.filtered is None and f.open_tasks >= rule.cap:
                f.filtered = "at_cap"
    wanted = _required_skills(rule, task)
    for f in figures.values():
        if f.user_id in allowed:
            f.skill_match = len(wanted & set(allowed[f.user_id].skills or []))
    eligible = sorted((f for f in figures.values() if f.filtered is None), key=lambda f: f.user_id)
    if rule.strategy == "longest_idle" and eligible:
        pool = _pool_query(rule, task)
        seen = dict(_rows(Activity.select(Activity.user_id, Activity.last_assigned_at).where(
            Activity.user_id.in_(pool if pool is not None else [f.user_id for f in eligible]))))
        for f in eligible:  # read raw: an ISO text on SQLite, a datetime on PostgreSQL
            at_value = Activity.last_assigned_at.python_value(seen[f.user_id]) if f.user_id in seen else None
            f.last_assigned_at = at_value.isoformat() if at_value is not None else None
    outcome = Outcome(rule, None, sorted(figures.values(), key=lambda f: f.user_id))
    if not eligible:
        reasons = {f.filtered for f in figures.values()} - {"inactive", "not_allowed", "handing_back"}
        outcome.reason = "no_pool" if not reasons else (reasons.pop() if len(reasons) == 1 else "mixed")
        return outcome
    chosen = _choose(rule, eligible, move_cursor=choose)
    outcome.chosen = allowed[chosen.user_id]
    return outcome


def _choose(rule: Rule, eligible: list[Figures], move_cursor: bool) -> Figures:
    """The strategy's pick among the people the filters left (sorted by id)."""
    if rule.strategy == "round_robin":
        after = [f for f in eligible if rule.cursor is None or f.user_id > rule.cursor]
        pick = (after or eligible)[0]
        if move_cursor:
            Rule.update(cursor=pick.user_id).where(Rule.id == rule.id).execute()
            rule.cursor = pick.user_id
        return pick
    if rule.strategy == "best_skill":
        return min(eligible, key=lambda f: (-f.skill_match, f.load, f.open_tasks, f.user_id))
    if rule.strategy == "longest_idle":  # never assigned comes first, then the oldest last assignment
        return min(eligible, key=lambda f: (f.last_assigned_at is not None, f.last_assigned_at or "", f.user_id))
    return min(eligible, key=lambda f: (f.load, f.open_tasks, f.user_id))


def _lock() -> None:
    """Serialise decisions across processes: on PostgreSQL the lock row (SQLite's write transaction
    already holds the database's one write lock)."""
    if not isinstance(db.obj, SqliteDatabase):
        list(Lock.select().where(Lock.name == "dispatch").for_update())


def _note_assignment(user_id: int, at: dt.datetime) -> None:
    (Activity.insert(user_id=user_id, last_assigned_at=at)
     .on_conflict(conflict_target=[Activity.user_id], update={Activity.last_assigned_at: at}).execute())


def propose(task: Task, candidates: list[User]) -> User | Any | None:
    """The core's ``propose_assignee``: the first matching rule decides. Someone it chooses is proposed;
    when nobody fits the task waits unassigned (``workdesk.UNASSIGNED``, so no later plugin hands it to
    someone the rule ruled out). Either way the decision is kept for the audit trail."""
    rule = matching_rule(task)
    if rule is None:
        return None
    now = utcnow()
    _lock()
    rule = Rule.get_by_id(rule.id)  # the cursor as the lock holder sees it
    outcome = decide(rule, task, candidates, now)
    Decision.create(task_number=task.number, department_id=task.department_id, rule=rule, rule_name=rule.name,
                    assignee_id=outcome.chosen.id if outcome.chosen else None, reason=outcome.reason,
                    details=outcome.details(), decided_at=now)
    if outcome.chosen is None:
        return UNASSIGNED
    _note_assignment(outcome.chosen.id, now)
    return outcome.chosen


# -- after the task is filed (on a worker) ------------------------------------------------------------

def department_heads(department_id: int) -> list[User]:
    """The department's head, or the nearest active head above it when it has none."""
    department = Department.get_or_none(Department.id == department_id)
    seen = set()
    while department is not None and department.id not in seen:
        seen.add(department.id)
        head = department.head if department.head_id else None
        if head is not None and head.is_active:
            return [head]
        department = department.parent if department.parent_id else None
    return []


def record_decision(task: Task) -> bool:
    """Write the audit entry of the decision made when the task was filed and, when nobody fitted, tell
    the department's head. Idempotent: a redelivered event finds the decision recorded."""
    with write_transaction():
        decision = (Decision.select().where((Decision.task_number == task.number) & (Decision.origin == "created")
                                            & Decision.recorded_at.is_null()).first())
        if decision is None:
            return False
        kind = "dispatch.assigned" if decision.assignee_id is not None else "dispatch.unplaced"
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=None, kind=kind, at=decision.decided_at,
                         changes={"dispatch": [None, decision.details]})
        Decision.update(task_id=task.id, recorded_at=utcnow()).where(Decision.id == decision.id).execute()
        if decision.assignee_id is None:
            for head in department_heads(task.department_id):  # lazy words: each reader's language when read
                notify(head, "dispatch.unplaced",
                       _l("Nobody could be given #%(number)s %(title)s", number=task.number, title=task.title),
                       _l("%(reason)s (rule “%(rule)s”). It waits unassigned in the queue.",
                          reason=REASONS.get(decision.reason, decision.reason), rule=decision.rule_name),
                       task=task, dedupe_key=f"dispatch.unplaced:{task.id}")
    return True


def hand_back(user: User, now: dt.datetime, why: str) -> int:
    """Hand the open tasks of someone who went away (``why`` "absent") or was deactivated back to dispatch:
    each task a hand-back rule matches goes to whom that rule now chooses, or back to the queue, with an
    audit entry; the person and their heads are told once. Idempotent: tasks already handed back are no
    longer theirs. Returns how many tasks were handed back."""
    tasks = list(Task.select().where((Task.assignee == user.id) & Task.status.in_(OPEN_STATUSES))
                 .order_by(Task.id))
    moved: list[tuple[Task, int | None]] = []
    for task in tasks:
        rule = matching_rule(task, hand_back_only=True)
        if rule is None:
            continue
        try:
            handed = _hand_back_one(task, rule, user, now, why)
        except WorkdeskError as exc:  # a plugin's veto: the task stays, the others still go
            record_error("dispatch", f"task #{task.number} could not be handed back from user {user.id}: {exc.message}")
            continue
        if handed is not None:
            moved.append(handed)
    if moved:
        _tell_about_hand_back(user, moved, why, now)
    return len(moved)


def _hand_back_one(task: Task, rule: Rule, user: User, now: dt.datetime, why: str) -> tuple[Task, int | None] | None:
    """One task handed back in its own transaction: the task and whom it went to (None: the queue), or None
    when it is no longer the person's open task."""
    with write_transaction():
        _lock()
        current = Task.get_or_none(Task.id == task.id)
        if current is None or current.assignee_id != user.id or current.status not in OPEN_STATUSES:
            return None
        rule = Rule.get_by_id(rule.id)
        outcome = decide(rule, current, list(access.eligible_assignees(current.department_id)), now,
                         exclude=[user.id])
        chosen = outcome.chosen.id if outcome.chosen else None
        services.tasks.system_assign(current.id, chosen, reason=f"dispatch.hand_back:{why}")
        details = {**outcome.details(), "from": user.id, "why": why}
        TaskEvent.create(task_id=current.id, task_number=current.number, actor=None, kind="dispatch.handed_back",
                         at=now, changes={"dispatch": [None, details]})
        Decision.create(task_number=current.number, task_id=current.id, department_id=current.department_id,
                        rule=rule, rule_name=rule.name, origin="hand_back", assignee_id=chosen,
                        reason=outcome.reason, details=details, decided_at=now, recorded_at=now)
        if chosen is not None:
            _note_assignment(chosen, now)
        return current, chosen


def _numbers(tasks: list[Task]) -> str:
    return ", ".join(f"#{t.number}" for t in tasks[:20]) + (" …" if len(tasks) > 20 else "")


def _tell_about_hand_back(user: User, moved: list[tuple[Task, int | None]], why: str, now: dt.datetime) -> None:
    """One notice to the person and one to each head of theirs; the heads' says which tasks nobody could take
    (they wait unassigned in the queue). Lazy words: each reader's language when read."""
    tasks = [t for t, _chosen in moved]
    queued = [t for t, chosen in moved if chosen is None]
    numbers = _numbers(tasks)
    key = f"dispatch.handed_back:{user.id}:{why}:{min(t.id for t in tasks)}:{len(tasks)}:{now:%Y%m%d%H%M}"
    with write_transaction():
        notify(user, "dispatch.handed_back",
               _l("Your open tasks were handed on while you are away: %(tasks)s", tasks=numbers), dedupe_key=key)
        heads = {h.id: h for h in absences.heads_of(user) if h.is_active}
        subject = (_l("%(person)s is away: their open tasks were handed on (%(tasks)s)", person=user.name,
                      tasks=numbers) if why == "absent" else
                   _l("%(person)s was deactivated: their open tasks were handed on (%(tasks)s)",
                      person=user.name, tasks=numbers))
        body = (_l("Nobody could take %(tasks)s: they wait unassigned in the queue.", tasks=_numbers(queued))
                if queued else "")
        for head in heads.values():
            notify(head, "dispatch.handed_back", subject, body, dedupe_key=key)


def hand_back_deactivated(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """The periodic job, behind ``on_user_deactivated``: open tasks still assigned to deactivated people go back
    to dispatch (someone deactivated while the plugin was off, a task a hand-back rule matches only now)."""
    people = list(User.select().join(Task, on=(Task.assignee == User.id))
                  .where((User.is_active == False) & Task.status.in_(OPEN_STATUSES)).distinct())  # noqa: E712
    return sum(hand_back(person, now, "deactivated") for person in people)


def forget_task(task_id: int) -> None:
    with write_transaction():
        Decision.update(task_id=None).where(Decision.task_id == task_id).execute()


# -- preview ----------------------------------------------------------------------------------------

def preview(actor: User | None, values: dict[str, Any], at: dt.datetime | None = None) -> dict[str, Any]:
    """Who would get a task with these values at ``at`` (default now), and why not the others: the rule
    that matches, everyone in its pool with their figures and, for those left out, why."""
    if actor is not None:
        require(actor, PERMISSION)
    department = _reference(Department, values.get("department_id"), "department_id",
                            _("No department with id %(id)s."))
    priority = values.get("priority") or "normal"
    if priority not in PRIORITIES:
        _fail("priority", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
    task = Task(title="preview", department=department, priority=priority, type=values.get("type") or "task",
                impact=values.get("impact") or "", fields=dict(values.get("fields") or {}))
    at = (at or utcnow()).astimezone(dt.timezone.utc)
    rule = matching_rule(task)
    if rule is None:
        return {"at": at.isoformat(), "rule": None, "chosen": None, "reason": None, "reason_text": None,
                "strategy": None, "candidates": []}
    outcome = decide(rule, task, list(access.eligible_assignees(department.id)), at, choose=False)
    return {"at": at.isoformat(), "rule": {"id": rule.id, "name": rule.name}, "strategy": rule.strategy,
            "chosen": ({"user_id": outcome.chosen.id, "name": outcome.chosen.name} if outcome.chosen else None),
            "reason": outcome.reason or None,
            "reason_text": str(REASONS[outcome.reason]) if outcome.reason else None,
            "candidates": [{**f.as_dict(), "filtered_text": str(FILTERS[f.filtered]) if f.filtered else None}
                           for f in outcome.figures]}


# -- the audit trail's words ------------------------------------------------------------------------

def _name(user_id: int | None) -> str:
    user = User.get_or_none(User.id == user_id) if user_id is not None else None
    return user.name if user is not None else _("someone")


def describe(event: TaskEvent) -> str | None:
    """The phrase of a dispatch entry in a task's audit trail, in the reader's language."""
    details = ((event.changes or {}).get("dispatch") or [None, None])[1]
    if not isinstance(details, dict):
        return None
    rule = details.get("rule", "")
    strategy = str(STRATEGY_LABELS.get(details.get("strategy"), details.get("strategy", "")))
    left_out = len(details.get("filtered") or {})
    if event.kind == "dispatch.handed_back" and details.get("chosen") is not None:
        return _("handed it on from %(from)s to %(person)s by the rule “%(rule)s” (%(strategy)s)",
                 **{"from": _name(details.get("from"))}, person=_name(details["chosen"]), rule=rule,
                 strategy=strategy)
    if event.kind == "dispatch.handed_back":
        return _("took it back from %(from)s to the queue by the rule “%(rule)s”: %(reason)s",
                 **{"from": _name(details.get("from"))}, rule=rule,
                 reason=str(REASONS.get(details.get("reason"), details.get("reason"))))
    if event.kind == "dispatch.assigned":
        return _("dispatched it to %(person)s by the rule “%(rule)s” (%(strategy)s; %(considered)s could take it, "
                 "%(left_out)s left out)", person=_name(details.get("chosen")), rule=rule, strategy=strategy,
                 considered=details.get("considered", 0), left_out=left_out)
    if event.kind == "dispatch.unplaced":
        return _("could not dispatch it by the rule “%(rule)s”: %(reason)s", rule=rule,
                 reason=str(REASONS.get(details.get("reason"), details.get("reason"))))
    return None
