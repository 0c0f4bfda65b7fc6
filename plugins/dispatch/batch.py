"""Batch dispatch: routine work sent to teams at once, one task per member or per team, from a template,
through the core's one set-based path (``services.tasks.create_tasks``)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _

from workdesk import (PRIORITIES, Department, User, ValidationFailed, WorkdeskError, absences, access, parse_id,
                      people_on_duty, record_error, require, services, utcnow, write_transaction)

from .models import Batch
from .services import PERMISSION, _fail, subdepartment_ids

PER = ("member", "team", "shift")
TEMPLATE_FIELDS = ("title", "description", "priority", "type", "impact", "fields", "due_in_hours", "template_id")
# The task fields a batch's template sets: a refusal of one of them names it under ``template``.
TASK_TEMPLATE_FIELDS = ("title", "description", "priority", "type", "impact", "template_id")
MAX_TASKS = 5000
CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def clean_template(template: Any) -> dict[str, Any]:
    """The task template checked: a title, and optionally a description, priority, type, impact, custom
    fields, a due time in hours after the batch runs and ``template_id``, a task template of the templates
    plugin. That one travels as the custom field ``template_id`` (the templates plugin reads it through its
    hooks; dispatch does not know templates): the template fills in what the batch leaves empty, so the
    title may then be empty too (the template's title pattern makes it)."""
    if not isinstance(template, dict) or set(template) - set(TEMPLATE_FIELDS):
        _fail("template", _("A template has only: %(choices)s.", choices=", ".join(TEMPLATE_FIELDS)))
    custom = template.get("fields") or {}
    if not isinstance(custom, dict):
        _fail("template.fields", _("An object of custom fields."))
    custom = dict(custom)
    if template.get("template_id") is not None:
        custom["template_id"] = template["template_id"]
    title = template.get("title") or ""
    if not isinstance(title, str) or len(title.strip()) > 200 or (not title.strip() and "template_id" not in custom):
        _fail("template.title", _("Between 1 and 200 characters."))
    priority = template.get("priority", "normal")
    if priority not in PRIORITIES:
        _fail("template.priority", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
    due = template.get("due_in_hours")
    if due is not None and (isinstance(due, bool) or not isinstance(due, int) or not 1 <= due <= 8760):
        _fail("template.due_in_hours", _("A whole number of hours from 1 to 8760."))
    texts = {}
    for name, limit in (("description", 20000), ("type", 64), ("impact", 64)):
        value = template.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            _fail(f"template.{name}", _("At most %(count)s characters.", count=limit))
        texts[name] = value
    return {"title": title.strip(), "priority": priority, "due_in_hours": due, "fields": custom, **texts}


def clean_departments(department_ids: Any) -> list[int]:
    if not isinstance(department_ids, list) or not department_ids or len(department_ids) > 500:
        _fail("department_ids", _("List between 1 and 500 department ids."))
    ids = [parse_id(d) if not isinstance(d, bool) else None for d in department_ids]
    known = {d.id for d in Department.select(Department.id).where(Department.id.in_([i for i in ids if i]))}
    for raw, number in zip(department_ids, ids):
        if number not in known:
            _fail("department_ids", _("No department with id %(id)s.", id=raw))
    return list(dict.fromkeys(ids))


def plan(template: dict[str, Any], department_ids: list[int], per: str, include_subdepartments: bool,
         now: dt.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The task inputs of a batch, and who was skipped and why (people away get no task: the batch never
    gives work to someone absent; per shift, a department without a roster or with nobody on duty gets none
    and says so)."""
    if include_subdepartments:
        department_ids = list(dict.fromkeys(d for top in department_ids for d in subdepartment_ids(top)))
    due_at = now + dt.timedelta(hours=template["due_in_hours"]) if template["due_in_hours"] else None
    base = {"title": template["title"], "description": template["description"], "priority": template["priority"],
            "type": template["type"] or "task", "impact": template["impact"], "fields": template["fields"],
            "due_at": due_at}
    inputs, skipped = [], []
    if per == "team":
        return [{**base, "department_id": d} for d in department_ids], skipped
    if per == "shift":
        return _per_shift(base, department_ids, now)
    members = {d: list(access.eligible_assignees(d)) for d in department_ids}
    away = absences.absent_user_ids(now, {u.id for people in members.values() for u in people})
    for department_id, people in members.items():
        for person in people:
            if person.id in away:
                skipped.append({"department_id": department_id, "user_id": person.id, "reason": "absent"})
            else:
                inputs.append({**base, "department_id": department_id, "assignee_id": person.id})
    return inputs, skipped


def _per_shift(base: dict[str, Any], department_ids: list[int],
               now: dt.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One task for each shift group on duty in each department at ``now``: the rota plugin
    (``workdesk.people_on_duty``, answered by ``duty_roster``) names one person per rotation covering the
    department, and each of them gets the task. Someone away or who may not work the department is skipped."""
    inputs, skipped = [], []
    on_duty = {d: people_on_duty(d, now) for d in department_ids}
    away = absences.absent_user_ids(now, {u.id for people in on_duty.values() for u in people or []})
    for department_id, people in on_duty.items():
        if not people:
            skipped.append({"department_id": department_id, "user_id": None,
                            "reason": "no_roster" if people is None else "nobody_on_duty"})
            continue
        allowed = {u.id for u in access.eligible_assignees(department_id)}
        for person in people:
            reason = "absent" if person.id in away else None if person.id in allowed else "not_allowed"
            if reason:
                skipped.append({"department_id": department_id, "user_id": person.id, "reason": reason})
            else:
                inputs.append({**base, "department_id": department_id, "assignee_id": person.id})
    return inputs, skipped


def run(actor: User | None, spec: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """Create a batch's tasks, all or nothing. ``spec``: ``template``, ``department_ids``, ``per``
    (``member``: one task for each member who may work the department's tasks and is not away, assigned to
    them; ``team``: one task per department, assigned by the rules or the duty like any new task; ``shift``:
    one task per shift group on duty in each department, assigned to whoever covers it) and
    ``include_subdepartments``."""
    if actor is not None:
        require(actor, PERMISSION)
    now = (now or utcnow()).astimezone(dt.timezone.utc)
    template = clean_template(spec.get("template"))
    if spec.get("per", "member") not in PER:
        _fail("per", _("Must be one of: %(choices)s.", choices=", ".join(PER)))
    inputs, skipped = plan(template, clean_departments(spec.get("department_ids")), spec.get("per", "member"),
                           bool(spec.get("include_subdepartments")), now)
    if len(inputs) > MAX_TASKS:
        _fail("department_ids", _("A batch makes at most %(count)s tasks.", count=MAX_TASKS))
    try:
        tasks = services.tasks.create_tasks(actor, inputs)
    except ValidationFailed as exc:
        # What the batch's template set is named as the request gave it ("template.template_id", not the
        # task's "template_id"); the rest (a member, a department) keeps the task's name.
        exc.fields = {(f"template.{name}" if name.partition(".")[0] in (*TASK_TEMPLATE_FIELDS, "fields") else name):
                      messages for name, messages in (exc.fields or {}).items()}
        raise
    return {"created": [{"id": t.id, "number": t.number, "department_id": t.department_id,
                         "assignee_id": t.assignee_id} for t in tasks], "skipped": skipped}


# -- saved batches, run by hand or every day ----------------------------------------------------------

BATCH_FIELDS = ("name", "template", "department_ids", "per", "include_subdepartments", "daily_at", "weekdays",
                "timezone", "enabled")


def clean_batch(values: dict[str, Any]) -> dict[str, Any]:
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        _fail("name", _("Between 1 and 100 characters."))
    if values.get("per", "member") not in PER:
        _fail("per", _("Must be one of: %(choices)s.", choices=", ".join(PER)))
    daily_at = values.get("daily_at") or None
    if daily_at is not None and not (isinstance(daily_at, str) and CLOCK.fullmatch(daily_at)):
        _fail("daily_at", _("Use a local time like 07:30 (24-hour HH:MM), or leave it empty."))
    weekdays = values.get("weekdays") or []
    if not isinstance(weekdays, list) or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
                                                 for d in weekdays):
        _fail("weekdays", _("Days of the week as numbers from 1 (Monday) to 7 (Sunday); empty: every day."))
    zone = values.get("timezone") or "UTC"
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        _fail("timezone", _("Not an IANA time zone (e.g. Europe/Sofia)."))
    return {"name": name.strip(), "template": clean_template(values.get("template")),
            "department_ids": clean_departments(values.get("department_ids")), "per": values.get("per", "member"),
            "include_subdepartments": bool(values.get("include_subdepartments")), "daily_at": daily_at,
            "weekdays": sorted(set(weekdays)), "timezone": str(zone), "enabled": bool(values.get("enabled", True))}


def save_batch(actor: User | None, values: dict[str, Any], batch: Batch | None = None) -> Batch:
    if actor is not None:
        require(actor, PERMISSION)
    current = batch_to_dict(batch) if batch is not None else {}
    cleaned = clean_batch({**current, **{k: v for k, v in values.items() if k in BATCH_FIELDS}})
    with write_transaction():
        if batch is None:
            return Batch.create(**cleaned, created_by=actor)
        Batch.update(**cleaned).where(Batch.id == batch.id).execute()
        return Batch.get_by_id(batch.id)


def batch_to_dict(batch: Batch) -> dict[str, Any]:
    return {"id": batch.id, "name": batch.name, "template": batch.template, "department_ids": batch.department_ids,
            "per": batch.per, "include_subdepartments": batch.include_subdepartments, "daily_at": batch.daily_at,
            "weekdays": batch.weekdays, "timezone": batch.timezone, "enabled": batch.enabled, "last_run_on": batch.last_run_on}


def run_saved(actor: User | None, batch: Batch, now: dt.datetime) -> dict[str, Any]:
    return run(actor, {"template": batch.template, "department_ids": batch.department_ids, "per": batch.per,
                       "include_subdepartments": batch.include_subdepartments}, now)


def run_daily(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """The periodic job: each enabled batch with a daily time runs once per local day (on its weekdays, when it
    names some), at or after that time.
    The day is marked in the same transaction as its tasks, so a repeat of the job creates nothing twice."""
    ran = 0
    for batch in list(Batch.select().where((Batch.enabled == True) & Batch.daily_at.is_null(False))):  # noqa: E712
        local = now.astimezone(ZoneInfo(batch.timezone))
        today = local.date().isoformat()
        if batch.last_run_on == today or local.strftime("%H:%M") < batch.daily_at or (
                batch.weekdays and local.isoweekday() not in batch.weekdays):
            continue
        def mark_today() -> bool:
            return Batch.update(last_run_on=today).where((Batch.id == batch.id) & (
                Batch.last_run_on.is_null() | (Batch.last_run_on != today))).execute() == 1
        try:
            with write_transaction():
                if not mark_today():
                    continue
                run_saved(None, batch, now)
        except WorkdeskError as exc:
            # A batch that cannot run (a department deleted since) is recorded and skipped for the day; the
            # others still run.
            record_error("dispatch", f"saved batch {batch.id} ({batch.name}) was not run on {today}: {exc.message} "
                                     f"{getattr(exc, 'fields', '')}")
            with write_transaction():
                mark_today()
            continue
        ran += 1
    return ran
