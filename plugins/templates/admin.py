"""Admin panel views: templates, custom field definitions, departments' default roles and the impact × urgency
matrix. Every save goes through :mod:`.services`, so the panel refuses what the API refuses, with the message
next to the field. Forms derive from ``workdesk.WorkdeskForm`` (the application's CSRF token)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.peewee import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import (PRIORITIES, Department, PermissionRequired, WorkdeskError, WorkdeskForm, current_user, parse_id,
                      show_service_error)

from . import services
from .models import DUE_UNITS, FIELD_TYPES, LEVELS, DepartmentRoles, FieldDefinition, Template

TYPE_LABELS = {"text": _l("Text"), "long_text": _l("Long text"), "number": _l("Number"), "date": _l("Date"),
               "choice": _l("Choice"), "person": _l("Person"), "url": _l("URL")}
UNIT_LABELS = {"working_days": _l("working days"), "working_hours": _l("working hours")}
LEVEL_CHOICES = [("", "—"), ("low", _l("Low")), ("medium", _l("Medium")), ("high", _l("High"))]


def _ids(text: str | None, field: str) -> list[int]:
    ids = [parse_id(part.strip()) for part in (text or "").replace(";", ",").split(",") if part.strip()]
    if None in ids:
        raise WorkdeskError(_("Invalid value."), {field: [_("Use user ids separated by commas.")]})
    return ids


def _one_id(text: str | None, field: str) -> int | None:
    ids = _ids(text, field)
    if len(ids) > 1:
        raise WorkdeskError(_("Invalid value."), {field: [_("One user id.")]})
    return ids[0] if ids else None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ManagerOnly(PermissionRequired):
    permission = services.PERMISSION_MANAGE


class ServiceModelView(ManagerOnly, ModelView):
    """A model view whose creates, updates and deletes go through the plugin's services."""

    form_base_class = WorkdeskForm
    can_view_details = False
    form_class: type = WorkdeskForm

    def get_create_form(self):
        return self.form_class

    def get_edit_form(self):
        return self.form_class

    def create_model(self, form):
        try:
            return self.create(form)
        except WorkdeskError as exc:
            show_service_error(exc, form)
            return False

    def update_model(self, form, model):
        try:
            self.update(form, model)
        except WorkdeskError as exc:
            show_service_error(exc, form)
            return False
        return True

    def delete_model(self, model):
        try:
            self.delete(model)
        except WorkdeskError as exc:
            flash(exc.message, "error")
            return False
        return True


class DepartmentChoices:
    """Forms with a ``department_id`` select offering every department."""

    def _with_choices(self, form):
        form.department_id.choices = [(d.id, d.name) for d in Department.select().order_by(Department.name)]
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))


# -- field definitions --------------------------------------------------------------------------------

class FieldForm(WorkdeskForm):
    key = StringField(_l("Key (stored in the task's fields)"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=100)])
    type = SelectField(_l("Type"), choices=[(t, TYPE_LABELS[t]) for t in FIELD_TYPES])
    required = BooleanField(_l("Required in templates that use it"))
    help_text = StringField(_l("Help text"), validators=[Optional(), Length(max=300)])
    options = TextAreaField(_l("Options of a choice (one per line)"))
    multiple = BooleanField(_l("Several options may be chosen"))


def _field_values(form: FieldForm) -> dict:
    return {"key": form.key.data.strip(), "label": form.label.data.strip(), "type": form.type.data,
            "required": bool(form.required.data), "help_text": form.help_text.data or "",
            "options": _lines(form.options.data), "multiple": bool(form.multiple.data)}


class FieldView(ServiceModelView):
    column_list = ("key", "label", "type", "required", "multiple")
    column_labels = {"key": _l("Key"), "label": _l("Label"), "type": _l("Type"), "required": _l("Required"),
                     "multiple": _l("Several")}
    column_default_sort = "key"
    form_class = FieldForm

    def __init__(self, *args, **kwargs):
        super().__init__(FieldDefinition, *args, name=_l("Custom fields"), endpoint="templates_fields",
                         url="/admin/templates/fields", **kwargs)

    def on_form_prefill(self, form, id):
        if request.method == "GET":
            form.options.data = "\n".join(FieldDefinition.get_by_id(id).options)

    def create(self, form):
        return services.create_field(current_user(), _field_values(form))

    def update(self, form, model):
        services.update_field(current_user(), model.id, _field_values(form))

    def delete(self, model):
        services.delete_field(current_user(), model.id)


# -- templates -------------------------------------------------------------------------------------------

class TemplateForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    type = StringField(_l("Task type"), default="task", validators=[DataRequired(), Length(max=64)])
    title_pattern = StringField(_l("Title pattern ({title}, {date}, {week}, {department}, {reporter})"),
                                default="{title}", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description skeleton"), validators=[Optional(), Length(max=20000)])
    priority = SelectField(_l("Priority"), choices=[(p, p) for p in PRIORITIES], default="normal")
    impact = SelectField(_l("Impact"), choices=LEVEL_CHOICES, default="")
    urgency = SelectField(_l("Urgency"), choices=LEVEL_CHOICES, default="")
    assignee_id = StringField(_l("Default assignee (user id)"))
    watcher_ids = StringField(_l("Watchers (user ids, comma-separated)"))
    due_offset = IntegerField(_l("Due after (empty: no due date)"), validators=[Optional(), NumberRange(min=0, max=2000)])
    due_unit = SelectField(_l("Unit"), choices=[(u, UNIT_LABELS[u]) for u in DUE_UNITS])
    checklist = TextAreaField(_l("Checklist (one item per line)"))
    require_checklist = BooleanField(_l("The checklist must be complete before the task is resolved"))
    field_keys = StringField(_l("Custom fields (keys, comma-separated, in form order)"))
    accountable_id = StringField(_l("Accountable (user id)"))
    consulted_ids = StringField(_l("Consulted (user ids)"))
    informed_ids = StringField(_l("Informed (user ids)"))
    active = BooleanField(_l("Offered when filing"), default=True)


def _template_values(form: TemplateForm) -> dict:
    return {"name": form.name.data, "department_id": form.department_id.data, "type": form.type.data.strip(),
            "title_pattern": form.title_pattern.data, "description": form.description.data or "",
            "priority": form.priority.data, "impact": form.impact.data or "", "urgency": form.urgency.data or "",
            "assignee_id": _one_id(form.assignee_id.data, "assignee_id"),
            "watcher_ids": _ids(form.watcher_ids.data, "watcher_ids"), "due_offset": form.due_offset.data,
            "due_unit": form.due_unit.data, "checklist": _lines(form.checklist.data),
            "require_checklist": bool(form.require_checklist.data),
            "field_keys": [k.strip() for k in (form.field_keys.data or "").split(",") if k.strip()],
            "accountable_id": _one_id(form.accountable_id.data, "accountable_id"),
            "consulted_ids": _ids(form.consulted_ids.data, "consulted_ids"),
            "informed_ids": _ids(form.informed_ids.data, "informed_ids"), "active": bool(form.active.data)}


class TemplateView(DepartmentChoices, ServiceModelView):
    column_list = ("name", "department", "type", "title_pattern", "require_checklist", "active")
    column_labels = {"name": _l("Name"), "department": _l("Department"), "type": _l("Task type"),
                     "title_pattern": _l("Title pattern"), "require_checklist": _l("Checklist required"),
                     "active": _l("Offered")}
    column_searchable_list = ("name",)
    column_default_sort = "name"
    form_class = TemplateForm

    def __init__(self, *args, **kwargs):
        super().__init__(Template, *args, name=_l("Templates"), endpoint="templates_templates",
                         url="/admin/templates/templates", **kwargs)

    def on_form_prefill(self, form, id):
        if request.method != "GET":  # keep what was typed when a save failed
            return
        template = Template.get_by_id(id)
        form.department_id.data = template.department_id
        form.assignee_id.data = str(template.assignee_id or "")
        form.accountable_id.data = str(template.accountable_id or "")
        for name in ("watcher_ids", "consulted_ids", "informed_ids"):
            getattr(form, name).data = ", ".join(map(str, getattr(template, name)))
        form.checklist.data = "\n".join(template.checklist)
        form.field_keys.data = ", ".join(template.field_keys)

    def create(self, form):
        return services.create_template(current_user(), _template_values(form))

    def update(self, form, model):
        services.update_template(current_user(), model.id, _template_values(form))

    def delete(self, model):
        services.delete_template(current_user(), model.id)


# -- departments' default roles ----------------------------------------------------------------------------

class RolesForm(WorkdeskForm):
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    accountable_id = StringField(_l("Accountable (user id)"))
    consulted_ids = StringField(_l("Consulted (user ids)"))
    informed_ids = StringField(_l("Informed (user ids)"))


def _roles_values(form: RolesForm) -> dict:
    return {"accountable_id": _one_id(form.accountable_id.data, "accountable_id"),
            "consulted_ids": _ids(form.consulted_ids.data, "consulted_ids"),
            "informed_ids": _ids(form.informed_ids.data, "informed_ids")}


class RolesView(DepartmentChoices, ServiceModelView):
    column_list = ("department", "accountable")
    column_labels = {"department": _l("Department"), "accountable": _l("Accountable")}
    form_class = RolesForm

    def __init__(self, *args, **kwargs):
        super().__init__(DepartmentRoles, *args, name=_l("Default roles"), endpoint="templates_roles",
                         url="/admin/templates/roles", **kwargs)

    def on_form_prefill(self, form, id):
        if request.method != "GET":
            return
        roles = DepartmentRoles.get_by_id(id)
        form.department_id.data = roles.department_id
        form.accountable_id.data = str(roles.accountable_id or "")
        form.consulted_ids.data = ", ".join(map(str, roles.consulted_ids))
        form.informed_ids.data = ", ".join(map(str, roles.informed_ids))

    def create(self, form):
        return services.save_department_roles(current_user(), form.department_id.data, _roles_values(form))

    def update(self, form, model):
        if form.department_id.data != model.department_id:
            raise WorkdeskError(_("Invalid value."), {"department_id": [_("Edit the other department's row instead.")]})
        services.save_department_roles(current_user(), model.department_id, _roles_values(form))

    def delete(self, model):
        services.require_manager(current_user())
        model.delete_instance()


# -- the matrix ------------------------------------------------------------------------------------------------

def _matrix_form_class():
    attrs = {f"{i}_{u}": SelectField(f"{i} × {u}", choices=[(p, p) for p in PRIORITIES])
             for i in LEVELS for u in LEVELS}
    return type("MatrixForm", (WorkdeskForm,), attrs)


class MatrixView(ManagerOnly, BaseView):
    def __init__(self):
        super().__init__(name=_l("Priority matrix"), endpoint="templates_matrix", url="/admin/templates/matrix")

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = _matrix_form_class()()
        cells = services.matrix()
        if request.method == "GET":
            for (impact, urgency), priority in cells.items():
                getattr(form, f"{impact}_{urgency}").data = priority
        elif form.validate_on_submit():
            try:
                services.save_matrix(current_user(), [
                    {"impact": i, "urgency": u, "priority": getattr(form, f"{i}_{u}").data}
                    for i in LEVELS for u in LEVELS])
            except WorkdeskError as exc:
                show_service_error(exc, form)
            else:
                flash(_("The matrix is saved."), "success")
                return redirect(url_for(".index"))
        return self.render("templates/admin_matrix.html", form=form, levels=LEVELS,
                           enabled=services.settings()["matrix_enabled"])


def admin_views() -> list:
    return [TemplateView(), FieldView(), RolesView(), MatrixView()]
