"""Team pages: the dashboard (managers and admins, phone-ready, no JavaScript), each metric as CSV,
and the rating page a reporter reaches from the link in their notification (no login needed)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length

from workdesk import (sorted_by_name, Conflict, Membership, User, WorkdeskError, WorkdeskForm, csv_export,
                      current_user, dates, login_required, signing, task_filters)

from . import charts, metrics, ratings
from .scope import department_choices, reportable_departments
from .service import compute, metric_table, read_request

pages = Blueprint("reports_pages", __name__, url_prefix="/reports")
# Filters the form offers beside period, department and person; the rest of the catalogue (plugins'
# filters such as crm_sync's customer) is offered too, while the list-only ones are left out.
LIST_ONLY = {"assignee", "department", "status", "due", "reporter", "q", "impact"}


def show(value: Any) -> str:
    """A cell as the reader reads it: numbers in their locale, days in their format, "–" for nothing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float)):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return dates.format_day(value)
    return str(value)


def _people(viewer: User) -> list[User]:
    allowed = reportable_departments(viewer)
    query = User.select().where(User.is_active == True).order_by(User.name, User.id)  # noqa: E712
    if allowed is not None:
        query = query.where(User.id.in_(Membership.select(Membership.user)
                                        .where(Membership.department.in_(sorted(allowed) or [0]))))
    return sorted_by_name(query)


@pages.get("")
@login_required
def dashboard():
    viewer = current_user()
    reportable_departments(viewer)  # 403 for people without reports.view before reading anything else
    scope, period = read_request(viewer, request.args)
    nonce = current_app.jinja_env.globals["csp_nonce"]()
    sections = []
    for metric in metrics.catalogue():
        table = compute(metric, scope)
        if table is None:
            continue
        sections.append({"metric": metric, "table": table,
                         "chart": charts.render(table, str(metric.title), nonce, str(get_locale() or "en")),
                         "links": list(table.links) or [None] * len(table.rows)})
    catalogue = task_filters.catalogue()
    extra_filters = [f for f in catalogue.shown() if f.name not in LIST_ONLY]
    query = {k: v for k, v in request.args.items() if str(v).strip()}
    return render_template("reports/dashboard.html", sections=sections, period=period, show=show,
                           departments=department_choices(viewer), people=_people(viewer), args=request.args,
                           extra_filters=extra_filters, viewer=viewer, query=query)


@pages.get("/<metric_key>.csv")
@login_required
def export(metric_key: str):
    _metric, table, period = metric_table(current_user(), metric_key, request.args)
    keys = [key for key, _label in table.columns]
    rows = ([row.get(k).isoformat() if isinstance(row.get(k), dt.date) else row.get(k) for k in keys]
            for row in table.rows)
    filename = f"{metric_key.replace('.', '-')}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return csv_export.csv_response([str(label) for _key, label in table.columns], rows, filename)


class RatingForm(WorkdeskForm):
    score = RadioField(choices=[(str(n), str(n)) for n in ratings.SCORES], validators=[DataRequired()])
    comment = TextAreaField(validators=[Length(max=2000)])


@pages.route("/rate/<token>", methods=["GET", "POST"])
def rate(token: str):
    """No login: the signed link is the reporter's permission to rate this one resolution, once."""
    form = RatingForm()
    form.score.label.text = _("Your rating, from 1 (poor) to 5 (excellent)")
    form.comment.label.text = _("Comment (optional)")
    try:
        task, _event_id = ratings.open_link(token)
    except signing.LinkExpired:
        return render_template("reports/rate.html", state="expired"), 410
    except Conflict:
        return render_template("reports/rate.html", state="used"), 409
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                ratings.rate(token, int(form.score.data), form.comment.data or "")
            except Conflict:
                return render_template("reports/rate.html", state="used"), 409
            except WorkdeskError as exc:
                form.score.errors = list(exc.fields.get("score", [])) or [exc.message]
            else:
                return render_template("reports/rate.html", state="thanks", task=task)
        elif "csrf_token" in form.errors:
            form.score.errors = [_("The form expired. Please send your rating again.")]
        elif form.score.errors:
            form.score.errors = [_("Choose a score from 1 to 5.")]
    status = 422 if request.method == "POST" else 200
    return render_template("reports/rate.html", state="form", form=form, task=task), status
