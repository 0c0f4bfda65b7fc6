"""Admin panel views for recurring rules: list, create, edit, pause/resume/end, preview.

Every change goes through :mod:`workdesk.plugins.recurring.services`, like the API's. Forms derive from
``workdesk.WorkdeskForm`` (Flask-WTF's ``FlaskForm``) so they carry the token the application's global ``CSRFProtect`` checks
(Flask-Admin's ``SecureForm`` signs a token of its own that it would refuse).
"""
from __future__ import annotations

from flask import flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import escape
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import (Department, PermissionRequired, ServiceModelView, User, WorkdeskError, WorkdeskForm, current_user,
                      parse_id)

from . import services
from .models import Rule

ASSIGN_LABELS = {"fixed": _l("One fixed person"), "round_robin": _l("Round-robin over a list"),
                 "proposal": _l("Whoever the dispatch plugins propose"),
                 "each_member": _l("One task per member of the department")}
CATCH_UP_LABELS = {"all": _l("Create every missed occurrence (up to the limit)"),
                   "latest": _l("Create only the latest missed occurrence"), "none": _l("Create none")}
NON_WORKING_LABELS = {"create": _l("Create anyway"), "skip": _l("Skip it"),
                      "previous": _l("Move to the previous working day"), "next": _l("Move to the next working day")}
ANCHOR_LABELS = {"schedule": _l("Fixed schedule"), "completion": _l("After the previous one is done")}


class RuleForm(WorkdeskForm):
    title = StringField(_l("Task title ({date} is replaced by the occurrence's date)"),
                        validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Task description"))
    # A task template's id, typed: recurring does not import the templates plugin to list them. It travels as
    # the rule's fields.template_id, which the templates plugin reads when each occurrence is filed.
    template_id = IntegerField(_l("Task template id (templates plugin; empty: none)"),
                               validators=[Optional(), NumberRange(min=1, max=2 ** 31 - 1)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    priority = SelectField(_l("Priority"), choices=[("low", "low"), ("normal", "normal"), ("high", "high"),
                                                   ("urgent", "urgent")], default="normal")
    type = StringField(_l("Task type"), default="task", validators=[DataRequired(), Length(max=64)])
    due_after_minutes = IntegerField(_l("Due this many minutes after it appears (empty: no due date)"),
                                     validators=[Optional(), NumberRange(min=0, max=525600)])
    assign_mode = SelectField(_l("Assignee"), choices=[(k, v) for k, v in ASSIGN_LABELS.items()],
                              default="proposal")
    assignee_ids = StringField(_l("User ids for a fixed person or the rotation (comma-separated)"))
    watcher_ids = StringField(_l("Watcher user ids (comma-separated)"))
    timezone = StringField(_l("Time zone (IANA, e.g. Europe/Sofia)"), default="UTC", validators=[DataRequired()])
    dtstart = StringField(_l("Starts (local date and time, e.g. 2026-01-05T09:00)"), validators=[DataRequired()])
    rrule = StringField(_l("RRULE (e.g. FREQ=WEEKLY;BYDAY=MO)"), validators=[DataRequired(), Length(max=1000)])
    exdates = TextAreaField(_l("Leave out (one local date and time per line)"))
    anchor = SelectField(_l("Anchor"), choices=[(k, v) for k, v in ANCHOR_LABELS.items()], default="schedule")
    non_working_day = SelectField(_l("On a non-working day"), choices=[(k, v) for k, v in NON_WORKING_LABELS.items()],
                                  default="create")
    catch_up = SelectField(_l("After downtime"), choices=[(k, v) for k, v in CATCH_UP_LABELS.items()],
                           default="latest")
    catch_up_limit = IntegerField(_l("At most this many missed occurrences"), default=10,
                                  validators=[NumberRange(min=1, max=1000)])
    skip_if_open = BooleanField(_l("Skip an occurrence while the previous one is still open"))


def _ids(text: str | None, field: str) -> list[int]:
    ids = [parse_id(part.strip()) for part in (text or "").replace(";", ",").split(",") if part.strip()]
    if None in ids:
        raise WorkdeskError(_("Invalid value."), {field: [_("Use user ids separated by commas.")]})
    return ids


def _form_values(form: RuleForm) -> dict:
    return {"title": form.title.data, "description": form.description.data or "",
            "department_id": form.department_id.data, "priority": form.priority.data, "type": form.type.data,
            "due_after_minutes": form.due_after_minutes.data, "assign_mode": form.assign_mode.data,
            "assignee_ids": _ids(form.assignee_ids.data, "assignee_ids"),
            "watcher_ids": _ids(form.watcher_ids.data, "watcher_ids"), "timezone": form.timezone.data.strip(),
            "dtstart": form.dtstart.data.strip(), "rrule": form.rrule.data.strip(),
            "exdates": [line.strip() for line in (form.exdates.data or "").splitlines() if line.strip()],
            "anchor": form.anchor.data, "non_working_day": form.non_working_day.data,
            "catch_up": form.catch_up.data, "catch_up_limit": form.catch_up_limit.data,
            "skip_if_open": bool(form.skip_if_open.data), "template_id": form.template_id.data}


def _with_template(values: dict, fields: dict) -> dict:
    """The form's values with the template box folded into the rule's fields (their other keys kept)."""
    values = dict(values)
    template_id = values.pop("template_id", None)
    fields = {k: v for k, v in (fields or {}).items() if k != "template_id"}
    if template_id is not None:
        fields["template_id"] = template_id
    return {**values, "fields": fields}


def _sentence_cell(view, context, model, name):
    try:
        return escape(services.sentence(model))
    except WorkdeskError as exc:
        return escape(exc.message)


def _title_cell(view, context, model, name):
    return escape(model.title)


class RuleView(PermissionRequired, ServiceModelView):
    """Recurring rules."""

    permission = services.PERMISSION

    form_base_class = WorkdeskForm
    can_view_details = False
    column_list = ("title", "department", "sentence", "status", "next_run_at", "occurrences_created", "last_error")
    column_labels = {"sentence": _l("Recurrence"), "next_run_at": _l("Next task at (UTC)"),
                     "occurrences_created": _l("Created"), "last_error": _l("Last error")}
    column_formatters = {"sentence": _sentence_cell, "title": _title_cell}
    column_searchable_list = ("title",)
    column_sortable_list = ("title", "status", "next_run_at", "occurrences_created")
    column_filters = (Rule.status,)
    column_default_sort = "id"
    list_template = "recurring/admin_rule_list.html"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Recurring rules"))
        kwargs.setdefault("endpoint", "recurring_rules")
        kwargs.setdefault("url", "/admin/recurring/rules")
        super().__init__(Rule, *args, **kwargs)

    record_form = RuleForm

    def with_choices(self, form):
        form.department_id.choices = [(d.id, d.name) for d in Department.select().order_by(Department.name)]
        return form

    def prefill(self, form, rule):
        form.department_id.data = rule.department_id
        form.assignee_ids.data = ", ".join(map(str, rule.assignee_ids))
        form.watcher_ids.data = ", ".join(map(str, rule.watcher_ids))
        form.exdates.data = "\n".join(rule.exdates)
        form.template_id.data = (rule.fields or {}).get("template_id")

    def record_values(self, form):
        return _form_values(form)

    def show_service_error(self, exc, form):
        # The form has no box for custom fields (a task template's required or typed ones, checked when the rule
        # is saved): their messages say which field; fields.template_id goes beside the template box.
        exc.fields = {name: ([f"{name.removeprefix('fields.')}: {m}" for m in messages]
                             if name.startswith("fields.") and name != "fields.template_id" else messages)
                      for name, messages in (exc.fields or {}).items()}
        super().show_service_error(exc, form)

    def create_record(self, actor, values):
        return services.create_rule(actor, _with_template(values, {}))

    def update_record(self, actor, record_id, values):
        rule = services.get_rule(actor, record_id)
        services.update_rule(actor, record_id, _with_template(values, rule.fields))

    def delete_record(self, actor, record_id):
        services.delete_rule(actor, record_id)

    def _each(self, ids, change, done_message) -> None:
        done, refused = 0, []
        for raw_id in ids:
            try:
                change(current_user(), raw_id)  # the service parses the id (NotFound for anything else)
                done += 1
            except WorkdeskError as exc:
                refused.append(f"{raw_id}: {exc.message}")
        if done:
            flash(done_message(done), "success")
        if refused:
            flash("; ".join(refused), "error")

    @action("pause", _l("Pause"))
    def action_pause(self, ids):
        self._each(ids, services.pause_rule,
                   lambda n: ngettext("%(num)d rule paused.", "%(num)d rules paused.", n))

    @action("resume", _l("Resume"))
    def action_resume(self, ids):
        self._each(ids, services.resume_rule,
                   lambda n: ngettext("%(num)d rule resumed.", "%(num)d rules resumed.", n))

    @action("end", _l("End"), _l("End the selected rules for good? Their tasks stay."))
    def action_end(self, ids):
        self._each(ids, services.end_rule,
                   lambda n: ngettext("%(num)d rule ended.", "%(num)d rules ended.", n))

    @expose("/preview/")
    def preview_view(self):
        """The rule in words and its next occurrences in the rule's time zone."""
        rule = services.get_rule(current_user(), request.args.get("id"))
        try:
            count = max(1, min(100, int(request.args.get("count", 10))))
        except ValueError:
            count = 10
        return self.render("recurring/admin_preview.html", rule=rule, sentence=services.sentence(rule),
                           occurrences=services.preview(rule, count), count=count,
                           people={u.id: u for u in User.select().where(User.id.in_(rule.assignee_ids or [0]))})


def admin_views() -> list:
    return [RuleView()]
