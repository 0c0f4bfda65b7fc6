"""Admin panel views: review policies and their stages (built and validated through the policy services),
and the one-click install of the "Change request" template.

Forms derive from ``workdesk.WorkdeskForm`` (Flask-WTF's ``FlaskForm`` with storable text) so they carry the token the application's ``CSRFProtect``
checks. Every save goes through :mod:`.policies`, so the admin panel refuses what the API refuses, with
the message next to the field.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape
from wtforms import (BooleanField, FloatField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import (PRIORITIES, Department, PermissionRequired, Role, ServiceModelView, User, WorkdeskError,
                      WorkdeskForm, current_user, parse_id, show_service_error, sorted_by_name)

from . import policies
from .models import Policy, PolicyStage
from .people import PERMISSION_MANAGE, PERMISSION_REVIEW, grants

KIND_LABELS = {"people": _l("Specific people"), "role": _l("Everyone with a role"),
               "task_department_head": _l("Head of the task's department"),
               "department_head": _l("Head of a named department"),
               "department_members": _l("Members of a named department"),
               "reporter_manager": _l("The reporter's manager (head of their department)"),
               "top_department_head": _l("Head of the task's top-level department")}
RULE_LABELS = {"all": _l("All approvers"), "any": _l("Any one approver"), "count": _l("A number of approvers"),
               "percentage": _l("A percentage of approvers")}
TIMEOUT_LABELS = {"": _l("Nothing (no deadline)"), "notify_escalate": _l("Notify and escalate to the approver's head"),
                  "reassign": _l("Reassign to the approver's head"), "approve": _l("Approve automatically"),
                  "reject": _l("Reject automatically")}
RESTART_LABELS = {"first_stage": _l("From the first stage"), "rejecting_stage": _l("From the rejecting stage")}


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def _field_lines(text: str | None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, values = line.partition("=")
        if not sep or not name.strip() or not _split(values):
            raise WorkdeskError(_("Invalid value."), {"match_fields": [
                _("Line %(number)s: write “field = value, other value”.", number=number)]})
        found[name.strip()] = _split(values)
    return found


# Where the policy services' field names appear on the admin forms ("stage.x" is the stage form's x).
_FORM_FIELD_FOR = {"match.types": "match_types", "match.department_ids": "match_departments",
                   "match.priorities": "match_priorities", "match.impacts": "match_impacts",
                   "match.fields": "match_fields"}


def _show_error(exc: WorkdeskError, form) -> None:
    show_service_error(exc, form, _FORM_FIELD_FOR)


class ManagerOnly(PermissionRequired):
    permission = PERMISSION_MANAGE


# -- policies -------------------------------------------------------------------------------------

class PolicyForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    active = BooleanField(_l("Active"), default=True)
    position = IntegerField(_l("Order (lower is tried first)"), default=0,
                            validators=[NumberRange(min=-100000, max=100000)])
    match_types = StringField(_l("Task types (comma-separated; empty: any)"))
    match_departments = SelectMultipleField(_l("Departments, with their sub-departments (none: any)"), coerce=int,
                                            choices=[])
    match_priorities = SelectMultipleField(_l("Priorities (none: any)"), choices=[(p, p) for p in PRIORITIES])
    match_impacts = StringField(_l("Impacts (comma-separated; empty: any)"))
    match_fields = TextAreaField(_l("Custom fields, one per line: field = accepted value, other value"))
    restart_from = SelectField(_l("After a rejection, resubmission restarts"),
                               choices=list(RESTART_LABELS.items()), default="first_stage")
    distinct_approvers = BooleanField(_l("Each stage needs approvers who did not approve an earlier one"),
                                      default=True)


def _policy_values(form: PolicyForm) -> dict:
    return {"name": form.name.data, "description": form.description.data or "", "active": bool(form.active.data),
            "position": form.position.data or 0, "restart_from": form.restart_from.data,
            "distinct_approvers": bool(form.distinct_approvers.data),
            "match": {"types": _split(form.match_types.data), "department_ids": list(form.match_departments.data or []),
                      "priorities": list(form.match_priorities.data or []), "impacts": _split(form.match_impacts.data),
                      "fields": _field_lines(form.match_fields.data)}}


def _stages_link(view, context, model, name):
    count = PolicyStage.select().where(PolicyStage.policy == model).count()
    url = url_for("compliance_review_stages.index_view", policy_id=model.id)
    return Markup('<a href="{}">{}</a>').format(url, ngettext("%(num)d stage", "%(num)d stages", count))


def _name_cell(view, context, model, name):
    return escape(model.name)


class PolicyView(ManagerOnly, ServiceModelView):
    """Review policies."""

    form_base_class = WorkdeskForm
    can_view_details = False
    column_list = ("name", "active", "position", "match_types", "stages", "restart_from")
    column_labels = {"name": _l("Name"), "active": _l("Active"), "position": _l("Order"),
                     "match_types": _l("Task types"), "stages": _l("Workflow"), "restart_from": _l("Restart")}
    column_formatters = {"stages": _stages_link, "name": _name_cell,
                         "match_types": lambda v, c, m, n: ", ".join(m.match_types or []) or "—",
                         "restart_from": lambda v, c, m, n: RESTART_LABELS.get(m.restart_from, m.restart_from)}
    column_default_sort = "position"
    list_template = "compliance_review/admin_policy_list.html"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Review policies"))
        kwargs.setdefault("endpoint", "compliance_review_policies")
        kwargs.setdefault("url", "/admin/compliance_review/policies")
        super().__init__(Policy, *args, **kwargs)

    record_form = PolicyForm

    def with_choices(self, form):
        form.match_departments.choices = [(d.id, d.name) for d in Department.select().order_by(Department.name)]
        return form

    def prefill(self, form, policy):
        form.match_types.data = ", ".join(policy.match_types or [])
        form.match_departments.data = list(policy.match_department_ids or [])
        form.match_priorities.data = list(policy.match_priorities or [])
        form.match_impacts.data = ", ".join(policy.match_impacts or [])
        form.match_fields.data = "\n".join(f"{k} = {', '.join(map(str, v))}" for k, v in (policy.match_fields or {}).items())

    field_names = _FORM_FIELD_FOR

    def record_values(self, form):
        return _policy_values(form)

    def create_record(self, actor, values):
        return policies.create_policy(actor, values)

    def update_record(self, actor, record_id, values):
        policies.update_policy(actor, record_id, values)

    def delete_record(self, actor, record_id):
        policies.delete_policy(actor, record_id)

    @expose("/install-change-request/", methods=("POST",))
    def install_change_request(self):
        """The "Change request" template in one click (the list page's button posts here with its CSRF token)."""
        if not WorkdeskForm().validate_on_submit():
            flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
            return redirect(self.get_url(".index_view"))
        try:
            policy, created = policies.install_change_request(current_user())
        except WorkdeskError as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index_view"))
        flash(_("The policy “%(name)s” is installed; edit it and its stages as you need.", name=policy.name),
              "success")
        if created:
            flash(_("Created the departments %(names)s: set their heads and members.", names=", ".join(created)),
                  "warning")
        return redirect(url_for("compliance_review_stages.index_view", policy_id=policy.id))


# -- stages ---------------------------------------------------------------------------------------

class StageForm(WorkdeskForm):
    policy_id = SelectField(_l("Policy"), coerce=int, choices=[])
    step = IntegerField(_l("Step (stages with the same step run in parallel)"), default=1,
                        validators=[NumberRange(min=1, max=50)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    approver_kind = SelectField(_l("Approvers"), choices=list(KIND_LABELS.items()), default="department_head")
    approver_user_ids = SelectMultipleField(_l("People (for specific people)"), coerce=int, choices=[])
    # The services judge these (a role granting compliance.review, an existing department); an empty or
    # missing value means "none".
    approver_role = SelectField(_l("Role (for everyone with a role; roles granting compliance.review)"), choices=[],
                                validate_choice=False)
    approver_department_id = SelectField(_l("Department (for a named department's head or members)"), choices=[],
                                         validate_choice=False)
    pass_rule = SelectField(_l("The stage passes with"), choices=list(RULE_LABELS.items()), default="all")
    pass_count = IntegerField(_l("Number of approvals (for a number)"), validators=[Optional()])
    pass_percentage = IntegerField(_l("Percentage of approvals (for a percentage)"), validators=[Optional()])
    deadline_hours = FloatField(_l("Deadline in working hours (empty: none)"), validators=[Optional()])
    timeout_action = SelectField(_l("At the deadline"), choices=list(TIMEOUT_LABELS.items()), default="",
                                 validate_choice=False)
    skippable_when_urgent = BooleanField(_l("May be skipped for urgent tasks"))


def _stage_values(form: StageForm) -> dict:
    department = form.approver_department_id.data
    return {"step": form.step.data or 1, "name": form.name.data, "approver_kind": form.approver_kind.data,
            "approver_user_ids": list(form.approver_user_ids.data or []),
            "approver_role": form.approver_role.data or None,
            "approver_department_id": parse_id(department),
            "pass_rule": form.pass_rule.data, "pass_count": form.pass_count.data,
            "pass_percentage": form.pass_percentage.data, "deadline_hours": form.deadline_hours.data,
            "timeout_action": form.timeout_action.data or None,
            "skippable_when_urgent": bool(form.skippable_when_urgent.data)}


def _kind_cell(view, context, model, name):
    return KIND_LABELS.get(model.approver_kind, model.approver_kind)


def _rule_cell(view, context, model, name):
    if model.pass_rule == "count":
        return ngettext("%(num)d approval", "%(num)d approvals", model.pass_count or 0)
    if model.pass_rule == "percentage":
        return _("%(percent)s%% of approvers", percent=model.pass_percentage)
    return RULE_LABELS.get(model.pass_rule, model.pass_rule)


def _deadline_cell(view, context, model, name):
    if not model.deadline_hours:
        return "—"
    return _("%(hours)s h, then: %(action)s", hours=f"{model.deadline_hours:g}",
             action=TIMEOUT_LABELS.get(model.timeout_action or "", model.timeout_action))


class StageView(ManagerOnly, ServiceModelView):
    """The stages of review policies."""

    form_base_class = WorkdeskForm
    can_view_details = False
    column_list = ("policy", "step", "name", "approver_kind", "pass_rule", "deadline_hours", "skippable_when_urgent")
    column_labels = {"policy": _l("Policy"), "step": _l("Step"), "name": _l("Stage"), "approver_kind": _l("Approvers"),
                     "pass_rule": _l("Passes with"), "deadline_hours": _l("Deadline"),
                     "skippable_when_urgent": _l("Skippable when urgent")}
    column_formatters = {"approver_kind": _kind_cell, "pass_rule": _rule_cell, "deadline_hours": _deadline_cell,
                         "name": lambda v, c, m, n: escape(m.name), "policy": lambda v, c, m, n: escape(m.policy.name)}
    column_default_sort = [("policy", False), ("step", False), ("id", False)]
    column_sortable_list = ("step", "name")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Review stages"))
        kwargs.setdefault("endpoint", "compliance_review_stages")
        kwargs.setdefault("url", "/admin/compliance_review/stages")
        super().__init__(PolicyStage, *args, **kwargs)

    def _policy_filter(self, query):
        policy_id = parse_id(request.args.get("policy_id"))
        return query.where(PolicyStage.policy == policy_id) if policy_id is not None else query

    def get_query(self):
        return self._policy_filter(super().get_query())

    def get_count_query(self):
        return self._policy_filter(super().get_count_query())

    record_form = StageForm
    field_names = _FORM_FIELD_FOR

    def with_choices(self, form):
        form.policy_id.choices = [(p.id, p.name) for p in Policy.select().order_by(Policy.position, Policy.id)]
        form.approver_user_ids.choices = [(u.id, f"{u.name} <{u.email}>") for u in
                                          sorted_by_name(User.select().where(User.is_active == True))]  # noqa: E712
        form.approver_role.choices = [("", "—")] + [(r.name, r.name) for r in Role.select().order_by(Role.name)
                                                    if grants(r, PERMISSION_REVIEW)]
        form.approver_department_id.choices = [("", "—")] + [(str(d.id), d.name) for d in
                                                             Department.select().order_by(Department.name)]
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj)
        policy_id = parse_id(request.args.get("policy_id"))
        if request.method == "GET" and policy_id is not None:
            form.policy_id.data = policy_id
        return form

    def prefill(self, form, stage):
        form.policy_id.data = stage.policy_id
        form.approver_user_ids.data = list(stage.approver_user_ids or [])
        form.approver_role.data = stage.approver_role or ""
        form.approver_department_id.data = str(stage.approver_department_id or "")
        form.timeout_action.data = stage.timeout_action or ""

    def record_values(self, form):
        return {"policy_id": form.policy_id.data, "stage": _stage_values(form)}

    def create_record(self, actor, values):
        return policies.add_stage(actor, values["policy_id"], values["stage"])

    def update_record(self, actor, record_id, values):
        if values["policy_id"] != PolicyStage.get_by_id(record_id).policy_id:
            raise WorkdeskError(_("Invalid value."), {"policy_id": [
                _("A stage stays in its policy; add a new stage to the other policy instead.")]})
        policies.update_stage(actor, record_id, values["stage"])

    def delete_record(self, actor, record_id):
        policies.delete_stage(actor, record_id)


def admin_views() -> list:
    return [PolicyView(), StageView()]
