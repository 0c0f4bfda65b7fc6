"""Users, departments and roles; every change goes through ``workdesk.services.users``."""
from __future__ import annotations

from flask import current_app, flash, request
from flask_admin.actions import action
from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape
from wtforms import (BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField, widgets)
from wtforms.validators import DataRequired, Length, Optional

from workdesk.access import department_ids
from workdesk.errors import NotFound, WorkdeskError
from workdesk.models import Calendar, Department, Membership, Role, User
from workdesk.registry import get_registry
from workdesk.schema import all_permissions
from workdesk.schemas import parse_id
from workdesk.search import sorted_by_name
from workdesk.services import users as user_service
from workdesk.web.forms import timezone_choices

from .base import AdminForm, WorkdeskModelView, admin_user, flash_service_error, live_options, person_name


class CheckboxList:
    """One checkbox per line in Bootstrap's ``form-check`` markup.

    Flask-Admin gives every field the ``form-control`` class; on a list that class fixes the height
    to one line, so the boxes spilled over the fields and buttons below, which then took the clicks.
    """

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.pop("class", None)
        kwargs.pop("class_", None)
        kwargs.setdefault("id", field.id)
        items = [Markup('<div class="form-check">{} {}</div>').format(
            option(class_="form-check-input"), option.label(class_="form-check-label")) for option in field]
        return Markup("<div {}>{}</div>").format(
            Markup(widgets.html_params(role="group", class_="wd-checks", **kwargs)), Markup("").join(items))


class MultiCheckboxField(SelectMultipleField):
    widget = CheckboxList()
    option_widget = widgets.CheckboxInput()


def _skills(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _role_options() -> list[tuple[str, str]]:
    return [(r.name, r.name) for r in Role.select().order_by(Role.name)]


def _department_options() -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in Department.select().order_by(Department.name)]


def _user_options() -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.name} <{u.email}>") for u in sorted_by_name(User.select())]


# -- users -------------------------------------------------------------------------------------

class UserCreateForm(AdminForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=[])
    department_ids = MultiCheckboxField(_l("Departments"), coerce=int, choices=[])
    skills = StringField(_l("Skills (comma-separated)"))
    timezone = SelectField(_l("Time zone"), choices=[], render_kw={"data-filter": _l("Type to filter, e.g. Sofia")})


class UserEditForm(AdminForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    department_ids = MultiCheckboxField(_l("Departments"), coerce=int, choices=[])
    skills = StringField(_l("Skills (comma-separated)"))
    timezone = SelectField(_l("Time zone"), choices=[], render_kw={"data-filter": _l("Type to filter, e.g. Sofia")})
    is_active = BooleanField(_l("Active (unticking logs the person out everywhere)"))
    new_password = PasswordField(_l("Reset password to (leave empty to keep it)"), validators=[Optional()])


def _departments_cell(view, context, model, name) -> Markup:
    names = [m.department.name for m in Membership.select(Membership, Department).join(Department)
             .where(Membership.user == model).order_by(Department.name)]
    return escape(", ".join(names))


class UserView(WorkdeskModelView):
    can_delete = False  # people are deactivated, so their tasks and audit entries keep a name
    column_list = ("name", "email", "role", "departments", "skills", "is_active", "created_at")
    column_searchable_list = (User.name, User.email)
    column_sortable_list = ("name", "email", ("role", Role.name), "is_active", "created_at")
    column_default_sort = "name"
    column_formatters = {"departments": _departments_cell,
                         "skills": lambda view, context, model, name: ", ".join(model.skills or [])}
    column_labels = {"is_active": _l("Active")}
    column_filters = (filters.FilterEqual(User.role, _l("Role"),
                                          options=live_options(lambda: [(str(r.id), r.name) for r in Role.select()])),
                      filters.BooleanEqualFilter(User.is_active, _l("Active")))
    can_export = True
    column_export_list = ("name", "email", "role", "is_active", "created_at")

    def search_placeholder(self) -> str:
        return _("Search names and emails")

    def get_create_form(self):
        return UserCreateForm

    def get_edit_form(self):
        return UserEditForm

    def _with_choices(self, form):
        form.role.choices = _role_options()
        form.department_ids.choices = _department_options()
        form.timezone.choices = timezone_choices()
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            form.timezone.data = current_app.config["WORKDESK"]["default_timezone"]
            least = user_service.least_privileged_role()
            form.role.data = least.name if least is not None else None
        return self._with_choices(form)

    def edit_form(self, obj=None):
        form = self._with_choices(super().edit_form(obj))
        if request.method == "GET" and obj is not None:
            form.timezone.data = obj.zone.key  # a zone pages cannot render is offered as UTC
        return form

    def on_form_prefill(self, form, id):
        if request.method != "GET":  # keep what was typed when a save failed
            return
        user = User.get_by_id(id)
        form.role.data = user.role.name
        form.department_ids.data = department_ids(user)
        form.skills.data = ", ".join(user.skills or [])

    def create_model(self, form):
        try:
            return user_service.create_user(
                admin_user(), email=form.email.data, name=form.name.data, password=form.password.data,
                role=form.role.data, department_ids=form.department_ids.data or [], timezone=form.timezone.data,
                skills=_skills(form.skills.data))
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False

    def update_model(self, form, model):
        changes = {"email": form.email.data, "name": form.name.data, "role": form.role.data,
                   "department_ids": form.department_ids.data or [], "skills": _skills(form.skills.data),
                   "timezone": form.timezone.data, "is_active": form.is_active.data}
        if form.new_password.data:
            changes["password"] = form.new_password.data
        try:
            user_service.update_user(admin_user(), model.id, changes)
        except WorkdeskError as exc:
            if "password" in exc.fields:
                exc.fields["new_password"] = exc.fields.pop("password")
            flash_service_error(exc, form)
            return False
        if "password" in changes:
            flash(_("Password reset; %(name)s was logged out everywhere.", name=model.name), "success")
        return True

    def _set_active(self, ids, active: bool) -> tuple[int, list[str]]:
        done, refused = 0, []
        for raw_id in ids:
            try:
                user_id = parse_id(raw_id)
                if user_id is None:
                    raise NotFound(_("Not found."))
                user_service.update_user(admin_user(), user_id, {"is_active": active})
                done += 1
            except WorkdeskError as exc:
                refused.append(f"{raw_id}: {exc.message}")
        return done, refused

    @action("deactivate", _l("Deactivate"), _l("Deactivate the selected people? They are logged out everywhere."))
    def action_deactivate(self, ids):
        me = admin_user()
        if str(me.id) in ids:
            flash(_("You cannot deactivate yourself here."), "error")
            ids = [i for i in ids if i != str(me.id)]
        done, refused = self._set_active(ids, False)
        if done:
            flash(ngettext("%(num)d person deactivated.", "%(num)d people deactivated.", done), "success")
        if refused:
            flash("; ".join(refused), "error")

    @action("activate", _l("Activate"))
    def action_activate(self, ids):
        done, refused = self._set_active(ids, True)
        if done:
            flash(ngettext("%(num)d person activated.", "%(num)d people activated.", done), "success")
        if refused:
            flash("; ".join(refused), "error")


# -- departments -------------------------------------------------------------------------------

class DepartmentForm(AdminForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent = SelectField(_l("Inside department"), choices=[])
    head = SelectField(_l("Head"), choices=[])
    # Not checked against the choices: a form posted without it keeps the calendar (the service checks ids).
    calendar = SelectField(_l("Working calendar"), choices=[], default="", validate_choice=False)


def department_tree() -> list[dict]:
    """Departments in tree order with their depth, head and member count."""
    departments = list(Department.select().order_by(Department.name))
    counts = {}
    for membership in Membership.select(Membership.department):
        counts[membership.department_id] = counts.get(membership.department_id, 0) + 1
    children: dict[int | None, list[Department]] = {}
    ids = {d.id for d in departments}
    for dept in departments:
        parent = dept.parent_id if dept.parent_id in ids else None
        children.setdefault(parent, []).append(dept)
    rows: list[dict] = []

    def walk(parent_id, depth):
        for dept in children.get(parent_id, []):
            rows.append({"department": dept, "depth": depth, "head": dept.head, "members": counts.get(dept.id, 0)})
            walk(dept.id, depth + 1)
    walk(None, 0)
    return rows


class DepartmentView(WorkdeskModelView):
    list_template = "workdesk_admin/department_list.html"
    can_delete = False  # tasks reference departments; rename or move them instead
    form = DepartmentForm
    column_list = ("name", "parent", "head", "calendar")
    column_searchable_list = (Department.name,)
    column_sortable_list = ("name",)
    column_default_sort = "name"
    column_labels = {"parent": _l("Inside")}

    column_formatters = {"head": person_name}

    def search_placeholder(self) -> str:
        return _("Search department names")

    def department_tree(self) -> list[dict]:
        return department_tree()

    def _with_choices(self, form, exclude: int | None = None):
        form.parent.choices = [("", _("(top level)"))] + [
            (str(i), n) for i, n in _department_options() if i != exclude]
        form.head.choices = [("", _("(no head)"))] + _user_options()
        form.calendar.choices = [("", _("(the parent department's)"))] + [
            (str(c.id), c.name) for c in Calendar.select().order_by(Calendar.name)]
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj), exclude=obj.id if obj is not None else None)

    def on_form_prefill(self, form, id):
        if request.method != "GET":
            return
        dept = Department.get_by_id(id)
        form.parent.data = str(dept.parent_id) if dept.parent_id else ""
        form.head.data = str(dept.head_id) if dept.head_id else ""
        form.calendar.data = str(dept.calendar_id) if dept.calendar_id else ""

    def create_model(self, form):
        try:
            return user_service.create_department(admin_user(), name=form.name.data,
                                                  parent_id=parse_id(form.parent.data),
                                                  head_id=parse_id(form.head.data),
                                                  calendar_id=parse_id(form.calendar.data))
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False

    def update_model(self, form, model):
        try:
            changes = {"name": form.name.data, "parent_id": parse_id(form.parent.data),
                       "head_id": parse_id(form.head.data)}
            if form.calendar.raw_data:
                changes["calendar_id"] = parse_id(form.calendar.data)
            user_service.update_department(admin_user(), model.id, changes)
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False
        return True


# -- roles -------------------------------------------------------------------------------------

class RoleForm(AdminForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    description = TextAreaField(_l("Description"))
    permissions = MultiCheckboxField(_l("Permissions"), choices=[])


def permission_choices() -> list[tuple[str, str]]:
    """Every permission the core and the installed plugins define, plus ``*`` (everything)."""
    perms = all_permissions(get_registry())
    return [("*", _("* — everything, including permissions added later"))] + [
        (name, f"{name} — {description}") for name, description in sorted(perms.items())]


class RoleView(WorkdeskModelView):
    can_delete = False  # people hold roles; a role in use must not vanish under them
    form = RoleForm
    column_list = ("name", "description", "permissions", "people")
    column_sortable_list = ("name",)
    column_default_sort = "name"
    column_formatters = {
        "permissions": lambda view, context, model, name: ", ".join(model.permissions or []),
        "people": lambda view, context, model, name: model.users.count(),
    }

    def _with_choices(self, form):
        form.permissions.choices = permission_choices()
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))

    def create_model(self, form):
        try:
            return user_service.create_role(admin_user(), name=form.name.data, description=form.description.data,
                                            permissions=form.permissions.data or [])
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False

    def update_model(self, form, model):
        try:
            user_service.update_role(admin_user(), model.id, {"name": form.name.data,
                                                              "description": form.description.data,
                                                              "permissions": form.permissions.data or []})
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False
        return True
