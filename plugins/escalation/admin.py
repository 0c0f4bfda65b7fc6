"""Admin panel: SLA policies (targets and the escalation chain edited as JSON, validated by the same schema
and services as the API, messages next to the field), the "what would happen" preview, and the progress of
recomputes after a change."""
from __future__ import annotations

import datetime as dt
import json

from flask import flash, redirect
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from markupsafe import escape
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import (PRIORITIES, STATUSES, Calendar, Department, PermissionRequired, ServiceModelView, Task,
                      JsonObject, WorkdeskError, WorkdeskForm, can_see, current_user, renderable_zones,
                      show_service_error)

from . import calendars, policies, services
from .models import Policy, Recompute
from .recompute import request_recompute
from .schemas import LevelSchema, MatchSchema, TargetSchema

UTC = dt.timezone.utc
TIME_MODE_LABELS = {"working": _l("Working time on a calendar"), "calendar": _l("Calendar time (around the clock)")}


class ManagerOnly(PermissionRequired):
    permission = policies.PERMISSION_MANAGE


class PolicyForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    active = BooleanField(_l("Active"), default=True)
    position = IntegerField(_l("Order (lower is tried first)"), default=0,
                            validators=[NumberRange(min=-100000, max=100000)])
    match_departments = SelectMultipleField(_l("Departments (none: any)"), coerce=int, choices=[])
    include_subdepartments = BooleanField(_l("Their sub-departments too"), default=True)
    match_types = StringField(_l("Task types (comma-separated; empty: any)"), validators=[Length(max=1000)])
    match_priorities = SelectMultipleField(_l("Priorities (none: any)"), choices=[(p, p) for p in PRIORITIES])
    match_impacts = StringField(_l("Impacts (comma-separated; empty: any)"), validators=[Length(max=1000)])
    time_mode = SelectField(_l("Time counts"), choices=list(TIME_MODE_LABELS.items()), default="working")
    calendar_id = SelectField(_l("Calendar (empty: the department's, else the default)"), choices=[], default="")
    pausing_statuses = SelectMultipleField(_l("Clocks pause in"), choices=[(s, s) for s in STATUSES],
                                           default=["waiting"])
    warn_percent = IntegerField(_l("Warn at this share of a target (%; 0: no warning)"), default=80,
                                validators=[NumberRange(min=0, max=99)])
    match_fields_json = TextAreaField(_l("Custom-field values (JSON: {field: [accepted values]}; empty: any)"),
                                      default="{}", validators=[Length(max=20000)])
    targets_json = TextAreaField(_l("Targets (JSON)"), default='[{"kind": "resolution", "hours": 8}]',
                                 validators=[Length(max=20000)])
    levels_json = TextAreaField(_l("Escalation chain (JSON)"), default="[]", validators=[Length(max=20000)])


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _json_list(form_field, schema, name: str) -> list:
    try:
        raw = json.loads(form_field.data or "[]")
    except ValueError:
        raise WorkdeskError(_("Invalid policy."), {name: [_("Write a JSON list.")]}) from None
    if not isinstance(raw, list):
        raise WorkdeskError(_("Invalid policy."), {name: [_("Write a JSON list.")]})
    try:
        return schema(many=True).load(raw)
    except ValidationError as exc:
        raise WorkdeskError(_("Invalid policy."), {name: [json.dumps(exc.messages, ensure_ascii=False)]}) from None


def _leaves(messages) -> list[str]:
    """The messages of a nested marshmallow error, without the indexes around them."""
    if isinstance(messages, dict):
        return [text for value in messages.values() for text in _leaves(value)]
    if isinstance(messages, list):
        return [text for value in messages for text in _leaves(value)]
    return [str(messages)]


def _json_object(form_field, name: str, message=_l("Invalid policy.")) -> dict:
    try:
        raw = json.loads(form_field.data or "{}")
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise WorkdeskError(str(message), {name: [_("Write a JSON object.")]})
    return raw


def _policy_values(form: PolicyForm) -> dict:
    try:
        match = MatchSchema().load({"department_ids": list(form.match_departments.data or []),
                                    "include_subdepartments": bool(form.include_subdepartments.data),
                                    "types": _split(form.match_types.data),
                                    "priorities": list(form.match_priorities.data or []),
                                    "impacts": _split(form.match_impacts.data),
                                    "fields": _json_object(form.match_fields_json, "match_fields_json")})
    except ValidationError as exc:  # each message beside the box it is about (a type of 65 characters, say)
        boxes = {"types": "match_types", "impacts": "match_impacts", "fields": "match_fields_json"}
        raise WorkdeskError(_("Invalid policy."), {
            boxes.get(key, "match_departments"): _leaves(problem) for key, problem in exc.messages.items()}) from None
    calendar = form.calendar_id.data
    return {"name": form.name.data, "active": bool(form.active.data), "position": form.position.data or 0,
            "match": match, "time_mode": form.time_mode.data, "calendar_id": int(calendar) if calendar else None,
            "pausing_statuses": list(form.pausing_statuses.data or []), "warn_percent": form.warn_percent.data or 0,
            "targets": _json_list(form.targets_json, TargetSchema, "targets_json"),
            "levels": _json_list(form.levels_json, LevelSchema, "levels_json")}


def _show_error(exc: WorkdeskError, form) -> None:
    names = {}
    for key in exc.fields or {}:
        head = key.split(".")[0]
        names[key] = {"targets": "targets_json", "levels": "levels_json", "match": "match_departments"}.get(head, head)
        if key.startswith("match.fields"):
            names[key] = "match_fields_json"
    show_service_error(exc, form, names)


class PolicyView(ManagerOnly, ServiceModelView):
    """SLA policies."""

    form_base_class = WorkdeskForm
    can_view_details = False
    column_list = ("name", "active", "position", "time_mode", "warn_percent", "revision")
    column_labels = {"name": _l("Name"), "active": _l("Active"), "position": _l("Order"), "time_mode": _l("Time"),
                     "warn_percent": _l("Warning (%)"), "revision": _l("Revision")}
    column_formatters = {"name": lambda v, c, m, n: escape(m.name),
                         "time_mode": lambda v, c, m, n: TIME_MODE_LABELS.get(m.time_mode, m.time_mode)}
    column_default_sort = "position"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("SLA policies"))
        kwargs.setdefault("endpoint", "escalation_policies")
        kwargs.setdefault("url", "/admin/escalation/policies")
        super().__init__(Policy, *args, **kwargs)

    record_form = PolicyForm

    def with_choices(self, form):
        form.match_departments.choices = [(d.id, d.name) for d in Department.select().order_by(Department.name)]
        form.calendar_id.choices = [("", "—")] + [(str(c.id), c.name) for c in Calendar.select().order_by(Calendar.name)]
        return form

    def prefill(self, form, policy):
        data = policies.policy_to_dict(policy)
        match = data["match"]
        form.match_departments.data = list(match.get("department_ids") or [])
        form.include_subdepartments.data = bool(match.get("include_subdepartments"))
        form.match_types.data = ", ".join(match.get("types") or [])
        form.match_priorities.data = list(match.get("priorities") or [])
        form.match_impacts.data = ", ".join(match.get("impacts") or [])
        form.match_fields_json.data = json.dumps(match.get("fields") or {}, indent=1, ensure_ascii=False)
        form.calendar_id.data = str(data["calendar_id"]) if data["calendar_id"] else ""
        form.targets_json.data = json.dumps(data["targets"], indent=1)
        form.levels_json.data = json.dumps(data["levels"], indent=1, ensure_ascii=False)

    def show_service_error(self, exc, form):
        _show_error(exc, form)  # a message about targets.0.hours belongs beside the targets box

    def record_values(self, form):
        return _policy_values(form)

    def create_record(self, actor, values):
        return policies.create_policy(actor, values)

    def update_record(self, actor, record_id, values):
        policies.update_policy(actor, record_id, values)

    def delete_record(self, actor, record_id):
        policies.delete_policy(actor, record_id)


class CalendarForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    timezone = SelectField(_l("Time zone"), choices=[], default="UTC")
    weekly_hours_json = TextAreaField(_l('Weekly working hours (JSON: {"mon": [["09:00", "17:00"]], ...}; a day '
                                         'left out is not worked)'),
                                      default=json.dumps({day: [["09:00", "17:00"]]
                                                          for day in ("mon", "tue", "wed", "thu", "fri")}),
                                      validators=[Length(max=20000)])
    holidays_text = TextAreaField(_l("Holidays (one a line: 2026-12-24 Christmas Eve)"), validators=[Length(max=50000)])


def _holidays(text: str | None) -> list[dict]:
    """``YYYY-MM-DD name`` lines; a line that is no such thing is refused naming its number."""
    holidays = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day, _space, name = line.partition(" ")
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise WorkdeskError(_("Invalid calendar."), {"holidays_text": [
                _("Line %(number)d: start with a date such as 2026-12-24.", number=number)]}) from None
        holidays.append({"date": date, "name": name.strip()})
    return holidays


class CalendarView(ManagerOnly, ServiceModelView):
    """Working calendars: what SLA policies, departments and the default count working time on."""

    form_base_class = WorkdeskForm
    can_view_details = False
    can_delete = False  # departments and policies point at calendars; rename or change one instead
    column_list = ("name", "timezone")
    column_labels = {"name": _l("Name"), "timezone": _l("Time zone")}
    column_formatters = {"name": lambda v, c, m, n: escape(m.name)}
    column_default_sort = "name"
    record_form = CalendarForm

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Working calendars"))
        kwargs.setdefault("endpoint", "escalation_calendars")
        kwargs.setdefault("url", "/admin/escalation/calendars")
        super().__init__(Calendar, *args, **kwargs)

    def with_choices(self, form):
        form.timezone.choices = [(zone, zone.replace("_", " ")) for zone in sorted(renderable_zones())]
        return form

    def prefill(self, form, calendar):
        form.weekly_hours_json.data = json.dumps(calendar.weekly_hours or {}, indent=1)
        form.holidays_text.data = "\n".join(f"{h.date.isoformat()} {h.name}".strip()
                                             for h in calendars.holidays_of(calendar))

    def show_service_error(self, exc, form):
        names = {key: {"weekly_hours": "weekly_hours_json", "holidays": "holidays_text"}.get(key.split(".")[0], key)
                 for key in exc.fields or {}}
        show_service_error(exc, form, names)

    def record_values(self, form):
        weekly = _json_object(form.weekly_hours_json, "weekly_hours_json", _l("Invalid calendar."))
        return {"name": form.name.data, "timezone": form.timezone.data, "weekly_hours": weekly,
                "holidays": _holidays(form.holidays_text.data)}

    def create_record(self, actor, values):
        return calendars.save_calendar(actor, None, values)

    def update_record(self, actor, record_id, values):
        calendars.save_calendar(actor, record_id, values)


class PreviewForm(WorkdeskForm):
    task_number = IntegerField(_l("Task number (empty: a hypothetical task)"),
                               validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    department_id = SelectField(_l("Department"), choices=[], default="")
    type = StringField(_l("Type"), default="task", validators=[Length(max=64)])
    priority = SelectField(_l("Priority"), choices=[(p, p) for p in PRIORITIES], default="normal")
    impact = StringField(_l("Impact"), validators=[Length(max=64)])
    created_at = DateTimeLocalField(_l("Filed at (UTC; empty: now)"), validators=[Optional()])
    fields_json = TextAreaField(_l('Custom fields (JSON, e.g. {"vip": "yes"})'), default="{}",
                                validators=[Length(max=20000)])


class PreviewView(ManagerOnly, BaseView):
    """What would happen, and the recomputes after changes with their progress."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Preview and recompute"))
        kwargs.setdefault("endpoint", "escalation_preview")
        kwargs.setdefault("url", "/admin/escalation/preview")
        super().__init__(*args, **kwargs)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = PreviewForm()
        form.department_id.choices = [("", "—")] + [(str(d.id), d.name) for d in
                                                    Department.select().order_by(Department.name)]
        result = None
        if form.validate_on_submit():
            task = None
            if form.task_number.data:
                task = Task.get_or_none(Task.number == form.task_number.data)
                if task is None or not can_see(current_user(), task):
                    form.task_number.errors = [*form.task_number.errors, _("No such task.")]
            try:
                fields = JsonObject().deserialize(json.loads(form.fields_json.data or "{}"))
            except (ValueError, ValidationError):
                form.fields_json.errors = [*form.fields_json.errors, _("Write a JSON object.")]
            if not form.task_number.errors and not form.fields_json.errors:
                created = form.created_at.data.replace(tzinfo=UTC) if form.created_at.data else None
                result = services.preview(task, {
                    "department_id": int(form.department_id.data) if form.department_id.data else None,
                    "type": form.type.data, "priority": form.priority.data, "impact": form.impact.data,
                    "fields": fields, "created_at": created})
                for step in result["steps"]:
                    step["when"] = dt.datetime.fromisoformat(step["at"]) if step.get("at") else None
        runs = list(Recompute.select().order_by(Recompute.id.desc()).limit(20))
        return self.render("escalation/admin_preview.html", form=form, result=result, runs=runs)

    @expose("/recompute/", methods=("POST",))
    def recompute(self):
        if not WorkdeskForm().validate_on_submit():
            flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
        else:
            request_recompute(_("asked in the admin panel"))
            flash(_("Running clocks will be recomputed by a worker; the progress shows below."), "success")
        return redirect(self.get_url(".index"))


def admin_views() -> list:
    return [PolicyView(), CalendarView(), PreviewView()]
