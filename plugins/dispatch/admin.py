"""Admin panel views: dispatch rules, the "who would get this task, and why not the others" preview and
batch dispatch. Every change goes through the services, like the API's; forms derive from Flask-WTF's
``FlaskForm`` (through ``WorkdeskForm``) so they carry the CSRF token."""
from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import (PRIORITIES, Department, PermissionRequired, Role, ServiceModelView, WorkdeskError, WorkdeskForm,
                      current_user, parse_id, show_service_error)

from . import batch, services
from .models import Rule


def _department_choices(empty_label) -> list[tuple[str, Any]]:
    return [("", empty_label)] + [(str(d.id), d.name) for d in Department.select().order_by(Department.name)]


def _words(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class RuleForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    position = IntegerField(_l("Position (lower rules are tried first)"), default=100,
                            validators=[NumberRange(min=0, max=100000)])
    enabled = BooleanField(_l("Enabled"), default=True)
    department_id = SelectField(_l("Matches tasks of"), choices=[])
    types = StringField(_l("Types (separated by commas; empty: any)"))
    priorities = StringField(_l("Priorities (separated by commas; empty: any)"))
    impacts = StringField(_l("Impacts (separated by commas; empty: any)"))
    fields = TextAreaField(_l("Custom fields (one \"name = value\" a line; the task must hold exactly these)"))
    pool = SelectField(_l("Picks from"), choices=[(k, v) for k, v in services.POOL_LABELS.items()])
    pool_department_id = SelectField(_l("Department of the pool"), choices=[])
    include_subdepartments = BooleanField(_l("With its sub-departments"))
    pool_role_id = SelectField(_l("Role of the pool"), choices=[])
    pool_user_ids = StringField(_l("People of the pool (user ids separated by commas)"))
    skills = StringField(_l("Skill tags (separated by commas)"))
    strategy = SelectField(_l("Strategy"), choices=[(k, v) for k, v in services.STRATEGY_LABELS.items()])
    cap = IntegerField(_l("Cap: at most this many open tasks per person (empty: no cap)"),
                       validators=[Optional(), NumberRange(min=1, max=10000)])
    on_duty_only = BooleanField(_l("Only people on duty"))
    hand_back = BooleanField(_l("Hand open tasks back when their assignee goes away or is deactivated"))


def _fields_of(text: str | None) -> dict[str, str]:
    pairs = {}
    for line in (text or "").splitlines():
        if "=" in line:
            name, value = line.split("=", 1)
            if name.strip():
                pairs[name.strip()] = value.strip()
    return pairs


def _rule_values(form: RuleForm) -> dict[str, Any]:
    return {"name": form.name.data, "position": form.position.data if form.position.data is not None else 100,
            "enabled": form.enabled.data, "department_id": parse_id(form.department_id.data or ""),
            "types": _words(form.types.data), "priorities": _words(form.priorities.data),
            "impacts": _words(form.impacts.data), "fields": _fields_of(form.fields.data), "pool": form.pool.data,
            "pool_department_id": parse_id(form.pool_department_id.data or ""),
            "include_subdepartments": form.include_subdepartments.data,
            "pool_role_id": parse_id(form.pool_role_id.data or ""),
            "pool_user_ids": [parse_id(p) or p for p in _words(form.pool_user_ids.data)],
            "skills": _words(form.skills.data), "strategy": form.strategy.data, "cap": form.cap.data,
            "on_duty_only": form.on_duty_only.data, "hand_back": form.hand_back.data}


class _ManagersOnly(PermissionRequired):
    """Only people with ``dispatch.manage`` (the panel already admits admins only)."""
    permission = services.PERMISSION


class _ManagedView(_ManagersOnly, ServiceModelView):
    form_base_class = WorkdeskForm
    can_view_details = False


def _match_cell(view, context, model, name):
    parts = [model.department.name if model.department_id else _("any department")]
    parts += [", ".join(values) for values in (model.types, model.priorities, model.impacts) if values]
    parts += [f"{k} = {v}" for k, v in (model.fields or {}).items()]
    return escape("; ".join(parts))


def _how_cell(view, context, model, name):
    text = f"{services.POOL_LABELS.get(model.pool, model.pool)}, {services.STRATEGY_LABELS.get(model.strategy)}"
    if model.cap:
        text += ", " + _("cap %(cap)s", cap=model.cap)
    return escape(text)


class RuleView(_ManagedView):
    """The rules, in the order they are tried."""

    column_list = ("position", "name", "enabled", "match", "how", "on_duty_only", "hand_back")
    column_labels = {"position": _l("Position"), "name": _l("Name"), "enabled": _l("Enabled"),
                     "match": _l("Matches"), "how": _l("Picks"), "on_duty_only": _l("Only on duty"),
                     "hand_back": _l("Hands back")}
    column_formatters = {"match": _match_cell, "how": _how_cell, "name": lambda v, c, m, n: escape(m.name)}
    column_sortable_list = ("position", "name")
    column_default_sort = "position"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Rules"))
        kwargs.setdefault("endpoint", "dispatch_rules")
        kwargs.setdefault("url", "/admin/dispatch/rules")
        super().__init__(Rule, *args, **kwargs)

    record_form = RuleForm

    def with_choices(self, form):
        form.department_id.choices = _department_choices(_("Any department"))
        form.pool_department_id.choices = _department_choices(_("The task's department"))
        form.pool_role_id.choices = [("", "—")] + [(str(r.id), r.name) for r in Role.select().order_by(Role.name)]
        return form

    def prefill(self, form, rule):
        form.department_id.data = str(rule.department_id or "")
        form.pool_department_id.data = str(rule.pool_department_id or "")
        form.pool_role_id.data = str(rule.pool_role_id or "")
        form.types.data, form.priorities.data = ", ".join(rule.types), ", ".join(rule.priorities)
        form.impacts.data, form.skills.data = ", ".join(rule.impacts), ", ".join(rule.skills)
        form.pool_user_ids.data = ", ".join(map(str, rule.pool_user_ids))
        form.fields.data = "\n".join(f"{k} = {v}" for k, v in (rule.fields or {}).items())

    def record_values(self, form):
        return _rule_values(form)

    def create_record(self, actor, values):
        return services.create_rule(actor, values)

    def update_record(self, actor, record_id, values):
        services.update_rule(actor, record_id, values)

    def delete_record(self, actor, record_id):
        services.delete_rule(actor, record_id)


class PreviewForm(WorkdeskForm):
    department_id = SelectField(_l("Department"), choices=[], validators=[DataRequired()])
    type = StringField(_l("Type"), default="task", validators=[Length(max=64)])
    priority = SelectField(_l("Priority"), choices=[(p, p) for p in PRIORITIES], default="normal")
    impact = StringField(_l("Impact"), validators=[Length(max=64)])
    fields = TextAreaField(_l("Custom fields (one \"name = value\" a line)"))


class BatchForm(WorkdeskForm):
    # A task template's id, typed: dispatch does not import the templates plugin to list them.
    template_id = IntegerField(_l("Task template id (templates plugin; empty: none)"),
                               validators=[Optional(), NumberRange(min=1, max=2 ** 31 - 1)])
    title = StringField(_l("Title (may stay empty with a task template)"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    priority = SelectField(_l("Priority"), choices=[(p, p) for p in PRIORITIES], default="normal")
    due_in_hours = IntegerField(_l("Due in hours (empty: no due date)"),
                                validators=[Optional(), NumberRange(min=1, max=8760)])
    department_ids = StringField(_l("Departments (ids separated by commas)"), validators=[DataRequired()])
    per = SelectField(_l("One task"), choices=[("member", _l("per member")), ("team", _l("per team")),
                                              ("shift", _l("per shift group on duty"))])
    include_subdepartments = BooleanField(_l("With sub-departments"))


class _ManagedPage(_ManagersOnly, BaseView):
    """A page of the plugin's own (a form and its answer)."""


class PreviewView(_ManagedPage):
    """Who would get a task, and why not the others."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = PreviewForm()
        form.department_id.choices = _department_choices("—")[1:]
        answer = None
        if form.validate_on_submit():
            try:
                answer = services.preview(current_user(), {
                    "department_id": parse_id(form.department_id.data), "type": form.type.data,
                    "priority": form.priority.data, "impact": form.impact.data,
                    "fields": _fields_of(form.fields.data)})
            except WorkdeskError as exc:
                show_service_error(exc, form)
        return self.render("dispatch/preview.html", form=form, answer=answer)


class BatchView(_ManagedPage):
    """Dispatch a batch of routine work to teams now."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = BatchForm()
        result = None
        if form.validate_on_submit():
            try:
                result = batch.run(current_user(), {
                    "template": {"title": form.title.data, "description": form.description.data or "",
                                 "priority": form.priority.data, "due_in_hours": form.due_in_hours.data,
                                 "template_id": form.template_id.data},
                    "department_ids": [parse_id(d) or d for d in _words(form.department_ids.data)],
                    "per": form.per.data, "include_subdepartments": form.include_subdepartments.data})
                flash(_("Tasks created: %(count)s.", count=len(result["created"])), "success")
            except WorkdeskError as exc:
                # The page has no box for custom fields (a task template's required or typed ones): their
                # messages, shown above the form, say which field they are about.
                exc.fields = {name: [f"{name.removeprefix('template.fields.')}: {m}" for m in messages]
                              if name.startswith("template.fields.") else messages
                              for name, messages in (exc.fields or {}).items()}
                show_service_error(exc, form, {"template.title": "title", "template.due_in_hours": "due_in_hours",
                                               "template.priority": "priority",
                                               "template.template_id": "template_id"})
        return self.render("dispatch/batch.html", form=form, result=result)


def admin_views() -> list:
    return [RuleView(),
            PreviewView(name=_l("Preview"), endpoint="dispatch_preview", url="/admin/dispatch/preview"),
            BatchView(name=_l("Batch dispatch"), endpoint="dispatch_batch", url="/admin/dispatch/batch")]
