"""The team app's pages: the reviewer's queue, a task's review with its forms, and the auditors' export."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from workdesk import Forbidden, NotFound, WorkdeskError, WorkdeskForm, current_user, dates, login_required, parse_id

from . import export, services

pages = Blueprint("compliance_review_pages", __name__, url_prefix="/compliance")


class DecisionForm(WorkdeskForm):
    decision = StringField(validators=[AnyOf(("approve", "reject"))])  # from the button pressed
    stage_id = HiddenField()
    comment = TextAreaField(_l("Comment (required when rejecting)"), validators=[Optional(), Length(max=5000)])
    override_reason = TextAreaField(_l("Reason to override separation of duties (administrators only)"),
                                    validators=[Optional(), Length(max=5000)])


class ExpediteForm(WorkdeskForm):
    reason = TextAreaField(_l("Why this urgent task skips the skippable stages"),
                           validators=[DataRequired(), Length(max=5000)])


class ResubmitForm(WorkdeskForm):
    """A button: only the CSRF token."""


class ExportForm(WorkdeskForm):
    class Meta:
        csrf = False  # a download that changes nothing

    since = DateField(_l("From (your time zone)"), validators=[DataRequired()])
    until = DateField(_l("Until, inclusive (your time zone)"), validators=[DataRequired()])


def forms_for(review: dict, **given: WorkdeskForm) -> dict[str, WorkdeskForm]:
    forms = {"decision_form": DecisionForm(formdata=None), "expedite_form": ExpediteForm(formdata=None),
             "resubmit_form": ResubmitForm(formdata=None)}
    forms.update(given)
    return forms


def render_review(task_id: int, status: int = 200, **forms: WorkdeskForm):
    user = current_user()
    task, review = services.get_review(user, task_id)
    data = services.review_to_dict(review, user, task)
    return render_template("compliance_review/review.html", task=task, review=data,
                           history=services.history(review), **forms_for(data, **forms)), status


@pages.get("/queue")
@login_required
def queue():
    return render_template("compliance_review/queue.html", items=services.queue(current_user()),
                           can_audit=current_user().has_permission(services.PERMISSION_AUDIT))


@pages.get("/tasks/<int:task_id>/review")
@login_required
def review_page(task_id: int):
    return render_review(task_id)


def _act(task_id: int, form_name: str, form: WorkdeskForm, action, done: str):
    """Run one review action from a posted form: errors come back on the review page with what was typed."""
    if not form.validate_on_submit():
        return render_review(task_id, 400, **{form_name: form})
    try:
        action()
    except NotFound:
        raise
    except WorkdeskError as exc:
        placed = False
        for name, messages in (exc.fields or {}).items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors") and name != "csrf_token":
                field.errors = [*field.errors, *messages]
                placed = True
        if not placed:
            form.form_errors.append(exc.message)
        return render_review(task_id, exc.status, **{form_name: form})
    flash(done)
    return redirect(url_for("web.task_page", task_id=task_id) + "#compliance-review")


@pages.post("/tasks/<int:task_id>/review/decide")
@login_required
def decide(task_id: int):
    user = current_user()
    form = DecisionForm()
    stage_id = parse_id(form.stage_id.data)
    done = _("You approved the stage.") if form.decision.data == "approve" else _("You rejected the stage.")
    return _act(task_id, "decision_form", form,
                lambda: services.decide(user, task_id, form.decision.data, form.comment.data or "",
                                        stage_id=stage_id, override_reason=form.override_reason.data or ""), done)


@pages.post("/tasks/<int:task_id>/review/resubmit")
@login_required
def resubmit(task_id: int):
    user = current_user()
    return _act(task_id, "resubmit_form", ResubmitForm(), lambda: services.resubmit(user, task_id),
                _("The review starts again."))


@pages.post("/tasks/<int:task_id>/review/expedite")
@login_required
def expedite(task_id: int):
    user = current_user()
    form = ExpediteForm()
    return _act(task_id, "expedite_form", form, lambda: services.expedite(user, task_id, form.reason.data),
                _("The skippable stages are skipped."))


def _zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@pages.get("/export")
@login_required
def export_page():
    """The auditors' page: a period in the reader's time zone, then the CSV of the review log."""
    user = current_user()
    if not user.has_permission(services.PERMISSION_AUDIT):
        raise Forbidden(_("Your role does not allow this (%(permission)s).", permission=services.PERMISSION_AUDIT))
    form = ExportForm(request.args)
    if not request.args or not form.validate():
        return render_template("compliance_review/export.html", form=form), 400 if request.args else 200
    if not (dt.date(1900, 1, 1) <= form.since.data <= form.until.data <= dt.date(9998, 12, 31)):
        form.until.errors = [*form.until.errors, _("Give a period that ends on or after its start.")]
        return render_template("compliance_review/export.html", form=form), 422
    zone = _zone(user)
    start = dt.datetime.combine(form.since.data, dt.time(0), zone)
    end = dt.datetime.combine(form.until.data + dt.timedelta(days=1), dt.time(0), zone)
    try:
        decisions = list(services.decisions_between(user, start, end))
    except WorkdeskError as exc:
        form.until.errors = [*form.until.errors, *exc.fields.get("until", [exc.message])]
        return render_template("compliance_review/export.html", form=form), exc.status
    filename = f"compliance-review-{form.since.data:%Y%m%d}-{form.until.data:%Y%m%d}.csv"
    return export.export_response(decisions, filename)


def panel(task, user):
    """The task page's panel: the workflow and, for the people it waits for, the forms to act."""
    review = services.review_of(task)
    if review is None:
        return None
    data = services.review_to_dict(review, user, task)
    return render_template("compliance_review/panel.html", task=task, review=data, **forms_for(data))


ACTION_LABELS = {
    "started": _l("review started"), "approve": _l("approved"), "reject": _l("rejected"),
    "changed_to_approve": _l("changed the vote to approve"), "changed_to_reject": _l("changed the vote to reject"),
    "stage_approved": _l("stage passed"), "stage_rejected": _l("stage rejected"),
    "auto_approve": _l("approved automatically at the deadline"),
    "auto_reject": _l("rejected automatically at the deadline"),
    "escalated": _l("escalated to the approver's head at the deadline"),
    "reassigned": _l("reassigned to the approver's head at the deadline"),
    "not_escalated": _l("could not escalate: no head found"), "expedited": _l("skipped by expedite"),
    "resubmitted": _l("resubmitted"), "completed": _l("review complete"),
    "fallback": _l("nobody the policy names could decide: asked the review managers"),
    "not_sent_back": _l("the task could not be sent back to open"),
    "delegated": _l("routed to a delegate during an absence"),
    "returned": _l("back from an absence: asked again"),
    "not_delegated": _l("not routed to the delegate during an absence"),
}

# How a vote cast for someone else reads: "Dan Delegate on behalf of Fay Finance-Head (absent)".
BEHALF = {
    "absent": _l("on behalf of %(name)s (absent)"),
    "escalated": _l("on behalf of %(name)s (escalated at the deadline)"),
    "reassigned": _l("on behalf of %(name)s (reassigned at the deadline)"),
}
SLOT_BEHALF = {"delegate": "absent", "reassigned": "reassigned"}  # an approver slot's reason -> why on behalf


@pages.app_template_filter("cr_behalf")
def behalf(name: str | None, reason: str | None) -> str:
    """``on behalf of NAME (why)``; for a reason not known, ``for NAME``."""
    if not name:
        return ""
    template = BEHALF.get(SLOT_BEHALF.get(reason or "", reason or ""))
    return str(template) % {"name": name} if template is not None else _("for %(name)s", name=name)


@pages.app_template_filter("cr_action")
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@pages.app_template_filter("cr_localtime")
def localtime(value: str | None) -> str:
    """An ISO instant in the reader's language and time zone."""
    if not value:
        return ""
    try:
        return dates.format_instant(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return value


# What the task page's history says after the actor's name ("Workdesk" for automatic entries).
TIMELINE = {
    "started": _l("started the review “%(review)s”"),
    "approve": _l("approved the stage “%(stage)s”"),
    "reject": _l("rejected the stage “%(stage)s”"),
    "changed_to_approve": _l("changed their vote on the stage “%(stage)s” to approve"),
    "changed_to_reject": _l("changed their vote on the stage “%(stage)s” to reject"),
    "stage_approved": _l("passed the stage “%(stage)s”"),
    "stage_rejected": _l("ended the stage “%(stage)s” as rejected"),
    "auto_approve": _l("approved the stage “%(stage)s” automatically at its deadline"),
    "auto_reject": _l("rejected the stage “%(stage)s” automatically at its deadline"),
    "escalated": _l("escalated the stage “%(stage)s” to the approver's head at its deadline"),
    "reassigned": _l("reassigned the stage “%(stage)s” to the approver's head at its deadline"),
    "not_escalated": _l("found no head to escalate the stage “%(stage)s” to"),
    "expedited": _l("skipped the stage “%(stage)s” to expedite the urgent task"),
    "resubmitted": _l("resubmitted the review “%(review)s”"),
    "completed": _l("completed the review “%(review)s”"),
    "fallback": _l("asked the review managers: nobody the stage “%(stage)s” names could decide"),
    "not_sent_back": _l("could not send the task back to open"),
    "delegated": _l("routed the stage “%(stage)s” to a delegate during an absence"),
    "returned": _l("gave the stage “%(stage)s” back to the approver after their absence"),
    "not_delegated": _l("kept the stage “%(stage)s” with the absent approver"),
}


def describe(event) -> str | None:
    """The task page's phrase for an audit-trail entry of this plugin (it follows the actor's name)."""
    template = TIMELINE.get(event.kind.partition(".")[2])
    if template is None:
        return None
    changes = event.changes or {}

    def value(key: str) -> str:
        pair = changes.get(key)
        return str(pair[1]) if isinstance(pair, list) and len(pair) == 2 and pair[1] is not None else ""
    phrase = str(template) % {"stage": value("stage"), "review": value("review")}
    if value("on_behalf_reason"):  # a vote cast for someone else
        phrase = f"{phrase} {behalf(value('on_behalf_of'), value('on_behalf_reason'))}"
    note = value("comment") or value("reason")
    return f"{phrase}: “{note}”" if note else phrase
