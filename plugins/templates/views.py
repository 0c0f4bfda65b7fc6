"""Pages: the template picker where tasks are filed, the filing form of a template (typed fields), and the
task page's panel (custom fields, checklist, roles, accept or return). Every write goes through
:mod:`.services` and the core's task services, so the pages refuse what the API refuses."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from workdesk import (sorted_by_name, NotFound, Task, User, WorkdeskError, WorkdeskForm, access, current_user,
                      get_visible_task, login_required, parse_id, services as core, show_service_error)

from . import fields as typed
from . import services
from .models import FieldDefinition

pages = Blueprint("templates_pages", __name__, url_prefix="/templates")

LEVEL_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
TIMELINE = {"checked": _l("ticked “%(item)s”"), "unchecked": _l("unticked “%(item)s”"),
            "checklist_added": _l("added “%(item)s” to the checklist"), "accepted": _l("accepted the result"),
            "returned": _l("returned the result"), "roles": _l("changed the RACI roles"),
            "priority_override": _l("overrode the matrix's priority %(old)s with %(new)s")}


def describe(event) -> str | None:
    """The task page's phrase for an audit-trail entry of this plugin (it follows the actor's name)."""
    phrase = TIMELINE.get(event.kind.partition(".")[2])
    if phrase is None:
        return None
    changes = event.changes or {}
    item = (changes.get("item") or [None, ""])[1]
    old, new = (changes.get("priority") or ["", ""])[:2]
    text = str(phrase) % {"item": item, "old": old, "new": new}
    reason = (changes.get("reason") or [None, ""])[1]
    return f"{text}: “{reason}”" if reason else text


# -- the picker ----------------------------------------------------------------------------------------

class QuickTemplateForm(WorkdeskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    template_id = SelectField(_l("Template"), coerce=str, validate_choice=False)


def _template_choices() -> list[tuple[str, str]]:
    return [(str(t.id), f"{t.name} · {t.department.name}") for t in services.list_templates(active_only=True)]


def picker(user: User, where: str) -> str | None:
    """``task_filing_panels``: file from a template, beside quick create and on the full form."""
    if not user.has_permission("task.create"):
        return None
    choices = _template_choices()
    if not choices:
        return None
    form = QuickTemplateForm(formdata=None)
    form.template_id.choices = choices
    return render_template("templates/picker.html", form=form, where=where)


@pages.route("/quick", methods=["POST"])
@login_required
def quick():
    """The quick picker: a title and a template. A template with required fields opens its form."""
    user = current_user()
    form = QuickTemplateForm()
    form.template_id.choices = _template_choices()
    template = services.get_template(parse_id(form.template_id.data or ""))
    if not form.validate_on_submit() or template is None or not template.active:
        flash(_("Choose a template from the list."), "error")
        return redirect(url_for("web.home"))
    if any(d.required for d in services.definitions(template.field_keys)):
        return redirect(url_for(".file", template_id=template.id, title=form.title.data or ""))
    try:
        task = core.tasks.create_task(user, title=form.title.data or template.name,
                                      department_id=template.department_id, template_id=template.id)
    except WorkdeskError as exc:
        flash(" ".join([exc.message, *(m for ms in exc.fields.values() for m in ms)]), "error")
        return redirect(url_for(".file", template_id=template.id, title=form.title.data or ""))
    flash(_("Task #%(number)s is filed from the template %(template)s.", number=task.number, template=template.name))
    return redirect(url_for("web.task_page", task_id=task.id))


@pages.route("/file")
@login_required
def choose():
    """The full form's picker is a GET form: it leads to the chosen template's form."""
    template = services.get_template(parse_id(request.args.get("template_id", "")))
    if template is None or not template.active:
        flash(_("Choose a template from the list."), "error")
        return redirect(url_for("web.task_new"))
    return redirect(url_for(".file", template_id=template.id, title=request.args.get("title", "")[:200]))


# -- a template's filing form ----------------------------------------------------------------------------

def _input(definition: FieldDefinition, people: list[tuple[str, str]]):
    """The form field of one custom field (values are checked by the service, with the API's messages)."""
    label, hint = definition.label, definition.help_text
    if definition.type == "long_text":
        return TextAreaField(label, description=hint)
    if definition.type == "choice":
        choices = [(o, o) for o in definition.options]
        if definition.multiple:
            return SelectMultipleField(label, choices=choices, description=hint, validate_choice=False)
        return SelectField(label, choices=[("", "—"), *choices], description=hint, validate_choice=False)
    if definition.type == "person":
        return SelectField(label, choices=[("", "—"), *people], description=hint, validate_choice=False)
    return StringField(label, description=hint)


INPUT_TYPES = {"number": {"inputmode": "decimal"}, "date": {"type": "date"}, "url": {"type": "url"}}


def _form_class(definitions: list[FieldDefinition], user: User, with_task: bool = True):
    people = [(str(u.id), u.name) for u in sorted_by_name(access.visible_users(user)
                                                           .where(User.is_active == True))]  # noqa: E712
    attrs: dict[str, Any] = {}
    if with_task:
        attrs["title"] = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
        attrs["description"] = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    attrs["impact"] = SelectField(_l("Impact"), choices=[("", "—"), *LEVEL_LABELS.items()], validate_choice=False)
    attrs["urgency"] = SelectField(_l("Urgency"), choices=[("", "—"), *LEVEL_LABELS.items()], validate_choice=False)
    for definition in definitions:
        attrs[f"f_{definition.key}"] = _input(definition, people)
    if not with_task:
        attrs["version"] = HiddenField()
    return type("TemplateFieldsForm", (WorkdeskForm,), attrs)


def _values(form, definitions: list[FieldDefinition], base: dict[str, Any]) -> dict[str, Any]:
    values = dict(base)
    for definition in definitions:
        value = typed.from_form(definition, getattr(form, f"f_{definition.key}").data)
        if typed.is_empty(value):
            values.pop(definition.key, None)
        else:
            values[definition.key] = value
    if form.urgency.data:
        values["urgency"] = form.urgency.data
    else:
        values.pop("urgency", None)
    return values


def _aliases(definitions: list[FieldDefinition]) -> dict[str, str]:
    return {**{f"fields.{d.key}": f"f_{d.key}" for d in definitions}, "fields.urgency": "urgency"}


def _field_inputs(form, definitions: list[FieldDefinition]) -> list:
    return [getattr(form, f"f_{d.key}") for d in definitions]


@pages.route("/file/<int:template_id>", methods=["GET", "POST"])
@login_required
def file(template_id: int):
    user = current_user()
    template = services.get_template(template_id)
    if template is None or not template.active:
        abort(404)
    definitions = services.definitions(template.field_keys)
    form = _form_class(definitions, user)()
    if request.method == "GET":
        form.title.data = request.args.get("title", "")[:200]
        form.description.data = template.description
        form.impact.data = template.impact
        form.urgency.data = template.urgency
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                task = core.tasks.create_task(
                    user, title=form.title.data, department_id=template.department_id,
                    description=form.description.data or "", impact=form.impact.data or "",
                    fields=_values(form, definitions, {}), template_id=template.id)
            except NotFound:
                raise
            except WorkdeskError as exc:
                show_service_error(exc, form, _aliases(definitions))
                status = exc.status
            else:
                flash(_("Task #%(number)s is filed from the template %(template)s.", number=task.number,
                        template=template.name))
                return redirect(url_for("web.task_page", task_id=task.id))
    return render_template("templates/file.html", form=form, template=template,
                           inputs=_field_inputs(form, definitions), input_types=INPUT_TYPES,
                           types={f"f_{d.key}": d.type for d in definitions},
                           required={f"f_{d.key}" for d in definitions if d.required}), status


# -- the task page's panel ------------------------------------------------------------------------------

class ChecklistForm(WorkdeskForm):
    done = HiddenField()


class AddItemForm(WorkdeskForm):
    text = StringField(_l("New checklist item"), validators=[DataRequired(), Length(max=300)])


class ReturnForm(WorkdeskForm):
    reason = TextAreaField(_l("Why it goes back"), validators=[DataRequired(), Length(max=2000)])


class AcceptForm(WorkdeskForm):
    """Carries nothing but the CSRF token."""


def _task_definitions(task: Task) -> list[FieldDefinition]:
    template = services.task_template(task)
    keys = list(template.field_keys) if template is not None else []
    keys += sorted(k for k in (task.fields or {}) if k not in keys and k not in typed.RESERVED_KEYS)
    return services.definitions(keys)


def panel(task: Task, user: User) -> str | None:
    """``task_page_panels``: the template, typed values, checklist and roles of a task (None: nothing to show)."""
    summary = services.task_summary(task)
    definitions = _task_definitions(task)
    if summary is None and not definitions and not (task.fields or {}).get("urgency"):
        return None
    raci = services.raci_of(task)
    ids = {raci["responsible_id"], raci["accountable_id"], *raci["consulted_ids"], *raci["informed_ids"]}
    ids |= {i["done_by_id"] for i in services.checklist_of(task)}
    ids |= {v for d in definitions if d.type == "person" and isinstance(v := (task.fields or {}).get(d.key), int)}
    names = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_([i for i in ids if i]))}
    can_edit = user.has_permission("task.edit")
    fields_form = None
    if can_edit:
        fields_form = _form_class(definitions, user, with_task=False)(formdata=None)
        for definition in definitions:
            value = (task.fields or {}).get(definition.key)
            field = getattr(fields_form, f"f_{definition.key}")
            field.data = [str(v) for v in value] if isinstance(value, list) else ("" if value is None else str(value))
        fields_form.impact.data = task.impact
        fields_form.urgency.data = (task.fields or {}).get("urgency") or ""
    if fields_form is not None:
        fields_form.version.data = str(task.version)
    values = [(d, typed.display(d, (task.fields or {}).get(d.key), names)) for d in definitions]
    return render_template(
        "templates/panel.html", task=task, template=services.task_template(task), values=values,
        checklist=services.checklist_of(task), require_checklist=services.require_checklist_of(task), raci=raci,
        names=names, urgency=(task.fields or {}).get("urgency"), override=(task.fields or {}).get("priority_override"),
        level_labels=LEVEL_LABELS, can_edit=can_edit, can_tick=can_edit or user.id == task.assignee_id,
        is_accountable=raci["accountable_id"] == user.id and task.status == "resolved",
        fields_form=fields_form, inputs=_field_inputs(fields_form, definitions) if fields_form else [],
        input_types=INPUT_TYPES, types={f"f_{d.key}": d.type for d in definitions},
        check_form=ChecklistForm(formdata=None), item_form=AddItemForm(formdata=None),
        accept_form=AcceptForm(formdata=None), return_form=ReturnForm(formdata=None))


def _back(task_id: int):
    return redirect(url_for("web.task_page", task_id=task_id) + "#templates-panel")


def _refused(exc: WorkdeskError, task_id: int):
    show_service_error(exc)
    return _back(task_id)


@pages.route("/tasks/<int:task_id>/fields", methods=["POST"])
@login_required
def save_fields(task_id: int):
    """Change a task's custom fields, impact and urgency through the core's task service (so the checks,
    the matrix and the audit trail apply)."""
    user = current_user()
    task = get_visible_task(user, task_id)
    definitions = _task_definitions(task)
    form = _form_class(definitions, user, with_task=False)()
    if not form.validate_on_submit():
        flash(_("The form could not be read; try again."), "error")
        return _back(task_id)
    try:
        core.tasks.update_task(user, task_id, {"fields": _values(form, definitions, task.fields or {}),
                                               "impact": form.impact.data or ""},
                               expected_version=parse_id(form.version.data or ""))
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _refused(exc, task_id)  # the page is shown again after a redirect: every message goes in the flash
    flash(_("The task is saved."))
    return _back(task_id)


@pages.route("/tasks/<int:task_id>/checklist/<int:number>", methods=["POST"])
@login_required
def tick(task_id: int, number: int):
    """Tick item ``number`` (its position from 1; the route's ids start at 1)."""
    user = current_user()
    get_visible_task(user, task_id)
    form = ChecklistForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.check_item(user, task_id, None, form.done.data == "1", position=number - 1)
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _refused(exc, task_id)
    return _back(task_id)


@pages.route("/tasks/<int:task_id>/checklist", methods=["POST"])
@login_required
def add_item(task_id: int):
    user = current_user()
    get_visible_task(user, task_id)
    form = AddItemForm()
    if not form.validate_on_submit():
        flash(_("Type the item, then press Add."), "error")
        return _back(task_id)
    try:
        services.add_checklist_item(user, task_id, form.text.data)
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _refused(exc, task_id)
    return _back(task_id)


@pages.route("/tasks/<int:task_id>/accept", methods=["POST"])
@login_required
def accept(task_id: int):
    user = current_user()
    get_visible_task(user, task_id)
    if not AcceptForm().validate_on_submit():
        abort(400)
    try:
        services.accept(user, task_id)
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _refused(exc, task_id)
    flash(_("You accepted the result; the task is closed."))
    return _back(task_id)


@pages.route("/tasks/<int:task_id>/return", methods=["POST"])
@login_required
def give_back(task_id: int):
    user = current_user()
    get_visible_task(user, task_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        flash(_("Say why the result is returned."), "error")
        return _back(task_id)
    try:
        services.return_task(user, task_id, form.reason.data)
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _refused(exc, task_id)
    flash(_("You returned the result; the task is open again."))
    return _back(task_id)



