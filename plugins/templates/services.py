"""The templates plugin's logic: templates and field definitions, filing from a template, typed field checks,
the impact × urgency matrix, checklists and RACI roles. Hooks, the API, the pages and the admin panel all call
these functions, so they share one set of rules."""
from __future__ import annotations

import datetime as dt
import string
from contextlib import nullcontext
from typing import Any, Iterable

from flask import has_app_context, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (PRIORITIES, Conflict, Department, Forbidden, NotFound, Task, TaskEvent, TaskWatcher, User,
                      ValidationFailed, WorkingTime, access, can_see, get_visible_task, labels, notify,
                      plugin_settings, services, utcnow, write_transaction)

from . import fields as typed
from .models import (DUE_UNITS, LEVELS, ChecklistItem, DepartmentRoles, FieldDefinition, MatrixCell, TaskRole,
                     TaskState, Template)

PLUGIN = "templates"
PERMISSION_MANAGE = "templates.manage"
TITLE_VARIABLES = ("title", "date", "week", "department", "reporter")
FIELD_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
# ITIL's usual 3 × 3 matrix: (impact, urgency) -> priority. An admin changes it in the admin panel or the API.
DEFAULT_MATRIX = {("high", "high"): "urgent", ("high", "medium"): "high", ("high", "low"): "normal",
                  ("medium", "high"): "high", ("medium", "medium"): "normal", ("medium", "low"): "low",
                  ("low", "high"): "normal", ("low", "medium"): "low", ("low", "low"): "low"}


def settings() -> dict[str, Any]:
    return plugin_settings(PLUGIN)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Some fields are not valid."), {field: [message]})


def require_manager(user: User) -> None:
    if not user.has_permission(PERMISSION_MANAGE):
        raise Forbidden(_("Managing templates needs the permission %(permission)s.", permission=PERMISSION_MANAGE))


# -- field definitions -----------------------------------------------------------------------------

def list_fields() -> list[FieldDefinition]:
    return list(FieldDefinition.select().order_by(FieldDefinition.key))


def get_field(field_id: int) -> FieldDefinition:
    definition = FieldDefinition.get_or_none(FieldDefinition.id == field_id)
    if definition is None:
        raise NotFound(_("No such field."))
    return definition


def _checked_field(values: dict[str, Any], definition: FieldDefinition | None) -> dict[str, Any]:
    merged = {"key": definition.key if definition else None, "label": definition.label if definition else None,
              "type": definition.type if definition else "text", "required": definition.required if definition else False,
              "help_text": definition.help_text if definition else "", "options": list(definition.options) if definition else [],
              "multiple": definition.multiple if definition else False, **values}
    key = merged["key"] or ""
    if not key or not key[0].isalpha() or not set(key) <= FIELD_KEY_CHARS:
        raise _invalid("key", _("Use lower-case letters, digits and underscores, starting with a letter."))
    if key in typed.RESERVED_KEYS:
        raise _invalid("key", _("%(key)s is used by the templates plugin itself.", key=key))
    clash = FieldDefinition.select().where(FieldDefinition.key == key)
    if definition is not None:
        clash = clash.where(FieldDefinition.id != definition.id)
    if clash.exists():
        raise _invalid("key", _("Another field has the key %(key)s.", key=key))
    options = [o.strip() for o in merged["options"] if o.strip()]
    if merged["type"] == "choice" and not options:
        raise _invalid("options", _("A choice field needs at least one option."))
    if len(set(options)) != len(options):
        raise _invalid("options", _("Each option must be different."))
    merged["options"] = options if merged["type"] == "choice" else []
    merged["multiple"] = bool(merged["multiple"]) and merged["type"] == "choice"
    return merged


def create_field(user: User | None, values: dict[str, Any]) -> FieldDefinition:
    if user is not None:
        require_manager(user)
    with write_transaction():
        return FieldDefinition.create(**_checked_field(values, None))


def update_field(user: User | None, field_id: int, values: dict[str, Any]) -> FieldDefinition:
    if user is not None:
        require_manager(user)
    with write_transaction():
        definition = get_field(field_id)
        old_key = definition.key
        checked = _checked_field(values, definition)
        if checked["key"] != old_key and _templates_using(old_key):
            raise _invalid("key", _("Templates use this key; tasks keep their values under it, so it cannot change."))
        for name, value in checked.items():
            setattr(definition, name, value)
        definition.save()
        return definition


def _templates_using(key: str) -> list[Template]:
    return [t for t in Template.select() if key in (t.field_keys or [])]


def delete_field(user: User | None, field_id: int) -> None:
    if user is not None:
        require_manager(user)
    with write_transaction():
        definition = get_field(field_id)
        using = _templates_using(definition.key)
        if using:
            raise Conflict(_("Templates use this field: %(names)s. Take it out of them first.",
                             names=", ".join(t.name for t in using)))
        definition.delete_instance()


def field_to_dict(definition: FieldDefinition) -> dict[str, Any]:
    return {"id": definition.id, "key": definition.key, "label": definition.label, "type": definition.type,
            "required": definition.required, "help_text": definition.help_text, "options": list(definition.options),
            "multiple": definition.multiple}


def definitions(keys: Iterable[str]) -> list[FieldDefinition]:
    """The definitions of ``keys``, in that order (unknown keys skipped)."""
    keys = list(keys)
    found = {d.key: d for d in FieldDefinition.select().where(FieldDefinition.key.in_(keys))} if keys else {}
    return [found[k] for k in keys if k in found]


# -- templates ---------------------------------------------------------------------------------------

def list_templates(active_only: bool = False) -> list[Template]:
    query = Template.select().order_by(Template.name)
    return list(query.where(Template.active == True) if active_only else query)  # noqa: E712


def get_template(template_id: Any) -> Template | None:
    if isinstance(template_id, bool) or not isinstance(template_id, int) or not 0 < template_id < 2 ** 31:
        return None
    return Template.get_or_none(Template.id == template_id)


def require_template(template_id: int) -> Template:
    template = get_template(template_id)
    if template is None:
        raise NotFound(_("No such template."))
    return template


def title_pattern_problem(pattern: str) -> str | None:
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError:
        return _("Unbalanced braces: write {{ and }} for a brace itself.")
    unknown = [n for n in names if n not in TITLE_VARIABLES]
    if unknown:
        return _("Unknown variable {%(name)s}; use %(variables)s.", name=unknown[0],
                 variables=", ".join("{%s}" % v for v in TITLE_VARIABLES))
    return None


def _active_user_ids(ids: Iterable[int], field: str) -> list[int]:
    ids = list(dict.fromkeys(ids or []))
    found = {u.id for u in User.select(User.id).where(User.id.in_(ids) & (User.is_active == True))} if ids else set()  # noqa: E712
    missing = [i for i in ids if i not in found]
    if missing:
        raise _invalid(field, _("No active user with id %(id)s.", id=missing[0]))
    return ids


def _checked_template(values: dict[str, Any], template: Template | None) -> dict[str, Any]:
    current = template_to_dict(template) if template is not None else {
        "name": None, "department_id": None, "type": "task", "title_pattern": "{title}", "description": "",
        "priority": "normal", "impact": "", "urgency": "", "assignee_id": None, "watcher_ids": [],
        "due_offset": None, "due_unit": "working_days", "checklist": [], "require_checklist": False,
        "field_keys": [], "accountable_id": None, "consulted_ids": [], "informed_ids": [], "active": True}
    current.pop("id", None)
    current.pop("fields", None)
    merged = {**current, **values}
    if not (merged["name"] or "").strip():
        raise _invalid("name", _("Give the template a name."))
    merged["name"] = merged["name"].strip()
    clash = Template.select().where(Template.name == merged["name"])
    if template is not None:
        clash = clash.where(Template.id != template.id)
    if clash.exists():
        raise _invalid("name", _("Another template is called %(name)s.", name=merged["name"]))
    if Department.get_or_none(Department.id == merged["department_id"]) is None:
        raise _invalid("department_id", _("No department with id %(id)s.", id=merged["department_id"]))
    problem = title_pattern_problem(merged["title_pattern"])
    if problem:
        raise _invalid("title_pattern", problem)
    if merged["priority"] not in PRIORITIES:
        raise _invalid("priority", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
    for level in ("impact", "urgency"):
        if merged[level] not in ("", *LEVELS):
            raise _invalid(level, _("Must be one of: %(choices)s.", choices=", ".join(LEVELS)))
    if merged["due_unit"] not in DUE_UNITS:
        raise _invalid("due_unit", _("Must be one of: %(choices)s.", choices=", ".join(DUE_UNITS)))
    keys = list(dict.fromkeys(merged["field_keys"]))
    known = {d.key for d in definitions(keys)}
    missing = [k for k in keys if k not in known]
    if missing:
        raise _invalid("field_keys", _("No field with the key %(key)s.", key=missing[0]))
    merged["field_keys"] = keys
    for name in ("assignee_id", "accountable_id"):
        if merged[name] is not None:
            _active_user_ids([merged[name]], name)
    for name in ("watcher_ids", "consulted_ids", "informed_ids"):
        merged[name] = _active_user_ids(merged[name], name)
    merged["checklist"] = [item.strip() for item in merged["checklist"] if item and item.strip()]
    if merged["require_checklist"] and not merged["checklist"]:
        raise _invalid("require_checklist", _("A template without checklist items cannot require its checklist."))
    return merged


def _store_template(template: Template, values: dict[str, Any]) -> Template:
    for name, value in values.items():
        attr = name[:-3] if name in ("department_id", "assignee_id", "accountable_id") else name
        setattr(template, attr, value)
    template.updated_at = utcnow()
    template.save()
    return template


def create_template(user: User | None, values: dict[str, Any]) -> Template:
    if user is not None:
        require_manager(user)
    with write_transaction():
        return _store_template(Template(), _checked_template(values, None))


def update_template(user: User | None, template_id: int, values: dict[str, Any]) -> Template:
    if user is not None:
        require_manager(user)
    with write_transaction():
        template = require_template(template_id)
        return _store_template(template, _checked_template(values, template))


def delete_template(user: User | None, template_id: int) -> None:
    """Tasks filed from it keep their values, checklist and roles; they just no longer name a template."""
    if user is not None:
        require_manager(user)
    with write_transaction():
        require_template(template_id).delete_instance()


def template_to_dict(template: Template) -> dict[str, Any]:
    return {"id": template.id, "name": template.name, "department_id": template.department_id, "type": template.type,
            "title_pattern": template.title_pattern, "description": template.description,
            "priority": template.priority, "impact": template.impact, "urgency": template.urgency,
            "assignee_id": template.assignee_id, "watcher_ids": list(template.watcher_ids),
            "due_offset": template.due_offset, "due_unit": template.due_unit, "checklist": list(template.checklist),
            "require_checklist": template.require_checklist, "field_keys": list(template.field_keys),
            "accountable_id": template.accountable_id, "consulted_ids": list(template.consulted_ids),
            "informed_ids": list(template.informed_ids), "active": template.active,
            "fields": [field_to_dict(d) for d in definitions(template.field_keys)]}


# -- filing from a template --------------------------------------------------------------------------

def render_title(pattern: str, title: str, department: Department, reporter: User | None,
                 now: dt.datetime) -> str:
    """The title a template makes: ``{title}`` what the person typed, ``{date}`` and ``{week}`` today in the
    reporter's zone (UTC for the system), ``{department}``, ``{reporter}`` the reporter's name."""
    local = now.astimezone(reporter.zone if reporter is not None else dt.timezone.utc)
    year, week, _day = local.isocalendar()
    values = {"title": title, "date": local.date().isoformat(), "week": f"{year}-W{week:02d}",
              "department": department.name, "reporter": reporter.name if reporter is not None else _("Workdesk")}
    try:
        rendered = pattern.format_map(values)
    except (KeyError, ValueError, IndexError):
        rendered = title  # a pattern saved before its variables were checked: the typed title still files
    return rendered.strip()[:200] or title


def due_at(template: Template, department: Department, start: dt.datetime) -> dt.datetime | None:
    """When a task filed at ``start`` from ``template`` is due: after ``due_offset`` working days (the end of
    that working day) or working hours on the department's calendar; plain days or hours without one."""
    if template.due_offset is None:
        return None
    calendar = WorkingTime.for_department(department)
    if template.due_unit == "working_hours":
        if calendar is None:
            return start + dt.timedelta(hours=template.due_offset)
        return calendar.add_working_hours(start, template.due_offset)
    if calendar is None:
        return start + dt.timedelta(days=template.due_offset)
    day = start.astimezone(calendar.zone).date()
    if template.due_offset == 0:
        day = calendar.next_working_day(day, include=True)
    for _step in range(template.due_offset):
        day = calendar.next_working_day(day)
    # The end of that day's working hours, in the calendar's zone.
    hours = calendar.hours.get(day.weekday()) or [(dt.time(17), dt.time(17))]
    end = hours[-1][1]
    end_day = day + dt.timedelta(days=1) if end == dt.time(0) else day
    return dt.datetime.combine(end_day, end, calendar.zone).astimezone(dt.timezone.utc)


def applied(task: Task | None, changes: dict[str, Any], actor: User | None) -> dict[str, Any] | None:
    """``adjust_task_change``: fill a new task in from its template, and derive its priority from the matrix."""
    if task is None:
        return _applied_on_create(changes, actor)
    return _priority_on_update(task, changes, actor)


def _template_of_request(changes: dict[str, Any]) -> tuple[Any, Template | None]:
    fields = changes.get("fields") if isinstance(changes.get("fields"), dict) else {}
    wanted = changes.get("template_id") if changes.get("template_id") is not None else fields.get("template_id")
    return wanted, get_template(wanted) if wanted is not None else None


def _applied_on_create(changes: dict[str, Any], actor: User | None) -> dict[str, Any] | None:
    wanted, template = _template_of_request(changes)
    out: dict[str, Any] = {}
    fields = dict(changes.get("fields") or {}) if isinstance(changes.get("fields"), dict) else {}
    if wanted is not None:
        fields["template_id"] = wanted  # kept even when unknown: validate_task_change names it
    if template is not None and template.active:
        department = Department.get_or_none(Department.id == changes.get("department_id")) \
            if changes.get("department_id") is not None else None
        if department is None:
            department = template.department
            out["department_id"] = department.id
        now = utcnow()
        out["title"] = render_title(template.title_pattern, (changes.get("title") or "").strip(), department,
                                    actor, now)
        if not changes.get("description"):
            out["description"] = template.description
        if changes.get("priority") in (None, "normal"):
            out["priority"] = template.priority
        if changes.get("type") in (None, "task", ""):
            out["type"] = template.type
        if not changes.get("impact") and template.impact:
            out["impact"] = template.impact
        if template.urgency and not fields.get("urgency"):
            fields["urgency"] = template.urgency
        if changes.get("assignee_id") is None and template.assignee_id is not None:
            out["assignee_id"] = template.assignee_id
        watchers = list(changes.get("watcher_ids") or [])
        out["watcher_ids"] = list(dict.fromkeys([*watchers, *template.watcher_ids]))
        if changes.get("due_at") is None:
            out["due_at"] = due_at(template, department, now)
    impact = out.get("impact", changes.get("impact")) or ""
    derived = derived_priority(impact, fields.get("urgency"))
    requested = changes.get("priority")
    if derived is not None:
        if requested not in (None, "normal") and requested != derived:
            fields["priority_override"] = True  # the person chose another priority: an override
            out["priority"] = requested
        else:
            out["priority"] = derived
    if fields or "fields" in changes:
        out["fields"] = fields
    return out or None


def _priority_on_update(task: Task, changes: dict[str, Any], actor: User | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    fields = dict(task.fields or {})
    if "fields" in changes:
        new_fields = dict(changes["fields"] or {}) if isinstance(changes["fields"], dict) else changes["fields"]
        if isinstance(new_fields, dict):
            # The plugin's own keys survive a client replacing the custom fields wholesale.
            for key in ("template_id", "priority_override"):
                if key in fields and key not in new_fields:
                    new_fields[key] = fields[key]
            fields = new_fields
            out["fields"] = fields
        else:
            return None  # not an object: the core refuses it
    impact = changes.get("impact", task.impact) or ""
    urgency = fields.get("urgency")
    derived = derived_priority(impact, urgency)
    if derived is None:
        return out or None
    assessed_changed = ("impact" in changes and (changes["impact"] or "") != task.impact) or \
        urgency != (task.fields or {}).get("urgency")
    if assessed_changed:
        out["priority"] = derived
        fields = {k: v for k, v in fields.items() if k != "priority_override"}
        out["fields"] = fields
    elif "priority" in changes and changes["priority"] != task.priority and changes["priority"] in PRIORITIES:
        if changes["priority"] != derived:
            out["fields"] = {**fields, "priority_override": True}
            TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, at=utcnow(),
                             kind="templates.priority_override",
                             changes={"priority": [derived, changes["priority"]]})
        else:
            out["fields"] = {k: v for k, v in fields.items() if k != "priority_override"}
    return out or None


def matrix() -> dict[tuple[str, str], str]:
    stored = {(c.impact, c.urgency): c.priority for c in MatrixCell.select()}
    return {**DEFAULT_MATRIX, **stored}


def derived_priority(impact: Any, urgency: Any) -> str | None:
    """The matrix's priority for an impact and an urgency, when the matrix is on and both are levels."""
    if impact not in LEVELS or urgency not in LEVELS or not settings()["matrix_enabled"]:
        return None
    return matrix()[(impact, urgency)]


def save_matrix(user: User | None, cells: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    """Store the cells given (others keep their value). Each cell names a level pair once."""
    if user is not None:
        require_manager(user)
    seen = set()
    for index, cell in enumerate(cells):
        pair = (cell["impact"], cell["urgency"])
        if pair in seen:
            raise _invalid(f"cells.{index}", _("Impact %(impact)s with urgency %(urgency)s is given twice.",
                                                impact=pair[0], urgency=pair[1]))
        if cell["priority"] not in PRIORITIES:
            raise _invalid(f"cells.{index}.priority", _("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES)))
        seen.add(pair)
    with write_transaction():
        for cell in cells:
            MatrixCell.insert(impact=cell["impact"], urgency=cell["urgency"], priority=cell["priority"]).on_conflict(
                conflict_target=[MatrixCell.impact, MatrixCell.urgency],
                update={MatrixCell.priority: cell["priority"]}).execute()
    return matrix()


def matrix_to_list() -> list[dict[str, str]]:
    cells = matrix()
    return [{"impact": i, "urgency": u, "priority": cells[(i, u)]} for i in LEVELS for u in LEVELS]


# -- validation ----------------------------------------------------------------------------------------

def validation_errors(task: Task | None, changes: dict[str, Any]) -> dict[str, list[str]] | None:
    """``validate_task_change``: the typed fields, the urgency and the template reference."""
    if "fields" not in changes or not isinstance(changes.get("fields"), dict):
        return None
    values = changes["fields"]
    errors: dict[str, list[str]] = {}
    template_id = values.get("template_id")
    old_template = (task.fields or {}).get("template_id") if task is not None else None
    template = None
    if task is not None and template_id != old_template:
        errors["fields.template_id"] = [_("A task's template cannot change after it is filed.")]
    elif template_id is not None:
        template = get_template(template_id)
        if template is None or (task is None and not template.active):
            field = "template_id" if "template_id" not in values or task is None else "fields.template_id"
            errors[field] = [_("No active template with id %(id)s.", id=template_id)]
            template = None
    urgency = values.get("urgency")
    if urgency not in (None, "", *LEVELS):
        errors["fields.urgency"] = [_("Must be one of: %(choices)s.", choices=", ".join(LEVELS))]
    template_keys = list(template.field_keys) if template is not None else []
    own = set(values) - set(typed.RESERVED_KEYS)
    checked = definitions(list(dict.fromkeys([*template_keys, *sorted(own)])))
    required = {d.key for d in checked if d.required and d.key in template_keys}
    errors.update(typed.field_errors(values, checked, required))
    return errors or None


# -- a task's state: template, checklist, roles ------------------------------------------------------

def _default_roles(task: Task, template: Template | None) -> tuple[int | None, list[int], list[int]]:
    if template is not None and (template.accountable_id or template.consulted_ids or template.informed_ids):
        return template.accountable_id, list(template.consulted_ids), list(template.informed_ids)
    roles = DepartmentRoles.get_or_none(DepartmentRoles.department == task.department_id)
    if roles is not None:
        return roles.accountable_id, list(roles.consulted_ids), list(roles.informed_ids)
    return None, [], []


def task_template(task: Task) -> Template | None:
    return get_template((task.fields or {}).get("template_id"))


def state_of(task: Task) -> TaskState | None:
    return TaskState.get_or_none(TaskState.task_id == task.id)


def ensure_state(task: Task) -> TaskState | None:
    """The task's state, created from its template (checklist, checklist rule, roles) or its department's
    default roles the first time it is needed; None for a task with neither. Idempotent: the filing event and
    any write that needs the state may both call it."""
    state = state_of(task)
    if state is not None:
        return state
    template = task_template(task)
    accountable, consulted, informed = _default_roles(task, template)
    if template is None and accountable is None and not consulted and not informed:
        return None
    with write_transaction():
        inserted = TaskState.insert(task_id=task.id, template_id=template.id if template else None,
                                    require_checklist=bool(template and template.require_checklist),
                                    accountable=accountable, created_at=utcnow()).on_conflict_ignore().execute()
        if inserted:
            if template is not None:
                for position, text in enumerate(template.checklist):
                    ChecklistItem.create(task_id=task.id, position=position, text=text)
            active = set(_active_only([*consulted, *informed]))
            for role, ids in (("consulted", consulted), ("informed", informed)):
                for user_id in ids:
                    if user_id in active:
                        TaskRole.insert(task_id=task.id, user=user_id, role=role).on_conflict_ignore().execute()
            _make_visible(task, [accountable, *consulted])
            _make_visible(task, informed, quiet=True)
            ask_for_input(task, [c for c in consulted if c in active], f"i{task.id}", {task.reporter_id})
    return state_of(task)


def _active_only(ids: Iterable[int]) -> list[int]:
    ids = [i for i in ids if i]
    return [u.id for u in User.select(User.id).where(User.id.in_(ids) & (User.is_active == True))] if ids else []  # noqa: E712


def _make_visible(task: Task, user_ids: Iterable[int | None], quiet: bool = False) -> None:
    """People given a role on a task must be able to open it: those who cannot see it yet watch it. Informed
    people watch quietly: the core does not tell them of comments, this plugin tells them of status changes."""
    ids = [i for i in user_ids if i]
    people = User.select().where(User.id.in_(ids)) if ids else []
    hidden = [u.id for u in people if not can_see(u, task)]
    if hidden:
        services.tasks.add_watchers(task.id, hidden, quiet=quiet)


def checklist_of(task: Task) -> list[dict[str, Any]]:
    """The checklist as stored; before the state exists, the template's items, none done."""
    rows = list(ChecklistItem.select().where(ChecklistItem.task_id == task.id).order_by(ChecklistItem.position,
                                                                                       ChecklistItem.id))
    if rows or state_of(task) is not None:
        return [{"id": r.id, "position": r.position, "text": r.text, "done": r.done, "done_by_id": r.done_by_id,
                 "done_at": r.done_at} for r in rows]
    template = task_template(task)
    return [{"id": None, "position": i, "text": text, "done": False, "done_by_id": None, "done_at": None}
            for i, text in enumerate(template.checklist if template else [])]


def raci_of(task: Task) -> dict[str, Any]:
    state = state_of(task)
    if state is None:
        accountable, consulted, informed = _default_roles(task, task_template(task))
        accepted_at = None
    else:
        accountable, accepted_at = state.accountable_id, state.accepted_at
        roles = list(TaskRole.select().where(TaskRole.task_id == task.id).order_by(TaskRole.user))
        consulted = [r.user_id for r in roles if r.role == "consulted"]
        informed = [r.user_id for r in roles if r.role == "informed"]
    return {"responsible_id": task.assignee_id, "accountable_id": accountable, "consulted_ids": consulted,
            "informed_ids": informed, "accepted_at": accepted_at if _accepted(task, state) else None,
            "awaiting_acceptance": bool(accountable) and task.status == "resolved" and not _accepted(task, state)}


def require_checklist_of(task: Task) -> bool:
    state = state_of(task)
    if state is not None:
        return state.require_checklist
    template = task_template(task)
    return bool(template and template.require_checklist)


def _has_department_roles(department_id: int) -> bool:
    """Whether a department has default roles, looked up once per request (task lists ask for every task)."""
    cache = request.environ.setdefault("templates.department_roles", {}) if has_request_context() else {}
    if department_id not in cache:
        cache[department_id] = DepartmentRoles.select().where(DepartmentRoles.department == department_id).exists()
    return cache[department_id]


def task_summary(task: Task) -> dict[str, Any] | None:
    """``extra_task_data``: ``plugins.templates = {template_id, checklist, raci, ...}``."""
    fields = task.fields or {}
    template_id = fields.get("template_id")
    # A task with nothing of this plugin's costs one query (its state) in a list, not a dozen.
    if template_id is None and not fields.get("urgency") and not fields.get("priority_override") \
            and state_of(task) is None and not _has_department_roles(task.department_id):
        return None
    checklist = checklist_of(task)
    raci = raci_of(task)
    if template_id is None and not checklist and not raci["accountable_id"] and not raci["consulted_ids"] \
            and not raci["informed_ids"] and not fields.get("urgency") and not fields.get("priority_override"):
        return None
    return {"template_id": template_id, "require_checklist": require_checklist_of(task),
            "checklist": [{**item, "done_at": item["done_at"].isoformat() if item["done_at"] else None}
                          for item in checklist],
            "raci": {**raci, "accepted_at": raci["accepted_at"].isoformat() if raci["accepted_at"] else None},
            "urgency": (task.fields or {}).get("urgency"),
            "priority_override": bool((task.fields or {}).get("priority_override"))}


def _record(task: Task, actor: User | None, kind: str, changes: dict[str, list]) -> TaskEvent:
    return TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, at=utcnow(),
                            kind=f"templates.{kind}", changes=changes)


def _editable_task(user: User, task_id: int) -> Task:
    task = get_visible_task(user, task_id)
    if not user.has_permission("task.edit"):
        raise Forbidden(_("Changing a task needs the permission %(permission)s.", permission="task.edit"))
    return task


def add_checklist_item(user: User, task_id: int, text: str) -> ChecklistItem:
    text = (text or "").strip()
    if not text or len(text) > 300:
        raise _invalid("text", _("Between 1 and 300 characters."))
    with write_transaction():
        task = _editable_task(user, task_id)
        if ensure_state(task) is None:
            TaskState.insert(task_id=task.id).on_conflict_ignore().execute()
        last = ChecklistItem.select().where(ChecklistItem.task_id == task.id).order_by(
            ChecklistItem.position.desc()).first()
        item = ChecklistItem.create(task_id=task.id, position=(last.position + 1) if last else 0, text=text)
        _record(task, user, "checklist_added", {"item": [None, text]})
        return item


def check_item(user: User, task_id: int, item_id: int | None, done: bool, position: int | None = None) -> ChecklistItem:
    """Tick or untick an item (by id, or by its position: the pages may show a checklist before the filing
    event stored it); who and when are kept, and recorded in the audit trail."""
    with write_transaction():
        task = get_visible_task(user, task_id)
        if not (user.has_permission("task.edit") or user.id == task.assignee_id):
            raise Forbidden(_("Only the assignee or someone who may edit the task ticks its checklist."))
        ensure_state(task)
        where = ChecklistItem.id == item_id if item_id is not None else ChecklistItem.position == position
        item = ChecklistItem.get_or_none(where & (ChecklistItem.task_id == task.id))
        if item is None:
            raise NotFound(_("No such checklist item."))
        if item.done == done:
            return item
        item.done, item.done_by, item.done_at = done, (user if done else None), (utcnow() if done else None)
        item.save()
        _record(task, user, "checked" if done else "unchecked", {"item": [None, item.text]})
        return item


def open_items(task: Task) -> list[str]:
    return [item["text"] for item in checklist_of(task) if not item["done"]]


def set_roles(user: User, task_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Set the accountable, consulted and informed people of a task (needs ``task.edit``)."""
    with write_transaction():
        task = _editable_task(user, task_id)
        state = ensure_state(task)
        if state is None:
            TaskState.insert(task_id=task.id).on_conflict_ignore().execute()
            state = state_of(task)
        before = raci_of(task)
        if "accountable_id" in values:
            accountable = values["accountable_id"]
            if accountable is not None:
                _active_user_ids([accountable], "accountable_id")
            state.accountable = accountable
            state.save()
        for role in ("consulted", "informed"):
            name = f"{role}_ids"
            if name in values:
                ids = _active_user_ids(values[name], name)
                TaskRole.delete().where((TaskRole.task_id == task.id) & (TaskRole.role == role)).execute()
                for user_id in ids:
                    TaskRole.create(task_id=task.id, user=user_id, role=role)
        after = raci_of(task)
        diff = {k: [before[k], after[k]] for k in ("accountable_id", "consulted_ids", "informed_ids")
                if before[k] != after[k]}
        if diff:
            event = _record(task, user, "roles", diff)
            _make_visible(task, [after["accountable_id"], *after["consulted_ids"]])
            _make_visible(task, after["informed_ids"], quiet=True)
            added = [i for i in after["consulted_ids"] if i not in before["consulted_ids"]]
            ask_for_input(task, added, f"i{task.id}e{event.id}", {user.id})
        return after


def save_department_roles(user: User | None, department_id: int, values: dict[str, Any]) -> DepartmentRoles:
    if user is not None:
        require_manager(user)
    with write_transaction():
        if Department.get_or_none(Department.id == department_id) is None:
            raise NotFound(_("No such department."))
        roles = DepartmentRoles.get_or_none(DepartmentRoles.department == department_id) or \
            DepartmentRoles(department=department_id)
        if "accountable_id" in values:
            if values["accountable_id"] is not None:
                _active_user_ids([values["accountable_id"]], "accountable_id")
            roles.accountable = values["accountable_id"]
        for name in ("consulted_ids", "informed_ids"):
            if name in values:
                setattr(roles, name, _active_user_ids(values[name], name))
        roles.save()
        return roles


def department_roles_to_dict(department_id: int) -> dict[str, Any]:
    roles = DepartmentRoles.get_or_none(DepartmentRoles.department == department_id)
    return {"accountable_id": roles.accountable_id if roles else None,
            "consulted_ids": list(roles.consulted_ids) if roles else [],
            "informed_ids": list(roles.informed_ids) if roles else []}


# -- accountable acceptance -------------------------------------------------------------------------------

def _accepted(task: Task, state: TaskState | None) -> bool:
    return bool(state is not None and state.accepted_at is not None and task.resolved_at is not None
                and state.accepted_at >= task.resolved_at)


def _accountable_task(user: User, task_id: int) -> tuple[Task, TaskState]:
    task = get_visible_task(user, task_id)
    state = ensure_state(task)
    if state is None or state.accountable_id != user.id:
        raise Forbidden(_("Only the person accountable for this task accepts or returns its result."))
    if task.status != "resolved":
        raise Conflict(_("Only a resolved task waits for acceptance."))
    return task, state


def accept(user: User, task_id: int) -> Task:
    """The accountable person accepts the result: the task closes (recorded under their name)."""
    with write_transaction():
        task, state = _accountable_task(user, task_id)
        state.accepted_at, state.accepted_by = utcnow(), user
        state.save()
        _record(task, user, "accepted", {})
        return services.tasks.system_transition(task.id, "closed", reason="templates.accepted")


def return_task(user: User, task_id: int, reason: str) -> Task:
    """The accountable person returns the result with a reason: the task opens again for its assignee."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise _invalid("reason", _("Say why the result is returned (at most 2000 characters)."))
    with write_transaction():
        task, _state = _accountable_task(user, task_id)
        _record(task, user, "returned", {"reason": [None, reason]})
        return services.tasks.system_transition(task.id, "open", reason="templates.returned")


# -- vetoes ----------------------------------------------------------------------------------------------

def transition_refusal(task: Task, old_status: str, new_status: str) -> str | None:
    """``veto_transition``: an incomplete required checklist blocks resolving and closing; an accountable
    person's acceptance is what closes a resolved task."""
    if new_status in ("resolved", "closed") and require_checklist_of(task):
        missing = open_items(task)
        if missing:
            return _("The checklist is not complete. Still open: %(items)s.", items="; ".join(missing))
    if new_status == "closed" and old_status == "resolved":
        state = state_of(task)
        accountable = state.accountable_id if state is not None else _default_roles(task, task_template(task))[0]
        if accountable and not _accepted(task, state):
            person = User.get_or_none(User.id == accountable)
            return _("%(name)s is accountable for this task: it closes when they accept the result.",
                     name=person.name if person else "?")
    return None


# -- notifications ----------------------------------------------------------------------------------------

def _in_language_of(user: User):
    return force_locale(user.locale) if has_app_context() and user.locale else nullcontext()


def _tell(user_ids: Iterable[int], skip: set[int], kind: str, task: Task, key: str, subject, body=lambda: "") -> None:
    for person in User.select().where(User.id.in_([i for i in dict.fromkeys(user_ids) if i and i not in skip])):
        if not can_see(person, task):
            continue
        with _in_language_of(person):
            notify(person, kind, subject(), body(), task=task, dedupe_key=f"{PLUGIN}:{key}:{person.id}"[:100])


def _label(task: Task) -> str:
    return f"#{task.number} {task.title}"


def ask_for_input(task: Task, user_ids: Iterable[int], key: str, skip: set[int] = frozenset()) -> None:
    """People made consulted on a task are asked for their input (once per cause: ``key``)."""
    _tell(user_ids, set(skip), "templates.input_asked", task, key,
          lambda: _l("Your input is asked on %(task)s", task=_label(task)),
          lambda: _l("You are consulted on this task: comments on it will reach you."))


def _participants(task: Task) -> set[int]:
    """Reporter, assignee and watchers (not quiet ones): the core already tells them of comments and status
    changes, so a role does not tell them a second time."""
    loud = TaskWatcher.select(TaskWatcher.user).where((TaskWatcher.task == task.id) & ~TaskWatcher.quiet)
    return {i for i in (task.reporter_id, task.assignee_id, *(w.user_id for w in loud)) if i}


def task_commented(task: Task, comment, actor: User | None, event: dict) -> None:
    """Consulted people hear about comments (not the author, not those the core tells already); an internal
    note only reaches those who work tasks, as the core's own comment notices."""
    raci = raci_of(task)
    skip = {actor.id} if actor is not None else set()
    skip |= _participants(task)
    if getattr(comment, "internal", False):
        skip |= {i for i in raci["consulted_ids"] if not access.works_tasks(User.get_by_id(i))}
    _tell(raci["consulted_ids"], skip, "templates.consulted", task, f"c{event['id']}",
          lambda: _l("Your input may be needed on %(task)s: a new comment", task=_label(task)),
          lambda: comment.body[:500])


def task_updated(task: Task, actor: User | None, changes: dict, event: dict) -> None:
    """Informed people hear about status changes only; the accountable person when the result waits for them;
    the assignee when the result is returned."""
    if "status" not in changes:
        return
    old, new = changes["status"]
    ensure_state(task)
    raci = raci_of(task)
    skip = {actor.id} if actor is not None else set()
    _tell(raci["informed_ids"], skip | _participants(task), "templates.informed", task, f"s{event['id']}",
          lambda: _l("%(task)s is now %(status)s", task=_label(task), status=_status(new)))
    if new == "resolved" and raci["accountable_id"]:
        _tell([raci["accountable_id"]], set(), "templates.acceptance", task, f"a{event['id']}",
              lambda: _l("Please accept or return the result of %(task)s", task=_label(task)))
    if new == "open" and old == "resolved" and event.get("payload", {}).get("reason") == "templates.returned":
        last = TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "templates.returned")) \
            .order_by(TaskEvent.id.desc()).first()
        reason = (last.changes.get("reason") or [None, ""])[1] if last is not None else ""
        _tell([task.assignee_id or task.reporter_id], set(), "templates.returned", task, f"r{event['id']}",
              lambda: _l("The result of %(task)s was returned", task=_label(task)), lambda: reason)


def _status(status: str):
    """The status's label, lazy: a notification stores it as a message and renders it for each reader."""
    return labels.STATUS_LABELS.get(status, status)


def task_deleted(task_id: int) -> None:
    with write_transaction():
        ChecklistItem.delete().where(ChecklistItem.task_id == task_id).execute()
        TaskRole.delete().where(TaskRole.task_id == task_id).execute()
        TaskState.delete().where(TaskState.task_id == task_id).execute()


def created_override(task: Task) -> None:
    """A task filed with a priority other than the matrix's: the override goes in the audit trail once."""
    fields = task.fields or {}
    if not fields.get("priority_override"):
        return
    derived = derived_priority(task.impact, fields.get("urgency"))
    if derived is None or derived == task.priority:
        return
    with write_transaction():
        if not TaskEvent.select().where((TaskEvent.task_id == task.id)
                                        & (TaskEvent.kind == "templates.priority_override")).exists():
            TaskEvent.create(task_id=task.id, task_number=task.number, actor=task.reporter_id, at=utcnow(),
                             kind="templates.priority_override", changes={"priority": [derived, task.priority]})
