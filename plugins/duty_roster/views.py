"""Team pages: the week grid of a department's roster and "my shifts", readable on a phone.

Both read through :mod:`services` like the API, so the same visibility applies (a department whose
roster you may not see answers 404), and show times in the reader's own time zone.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from workdesk import (Department, NotFound, Task, WorkdeskError, current_user, dates, department_ids, login_required,
                      utcnow, visible_tasks)

from . import handover, services
from .forms import AcknowledgeForm, HandoverForm, LogEntryForm
from .models import Handover
from .schedule import to_instant, to_local

pages = Blueprint("duty_roster_pages", __name__, url_prefix="/duty")
MY_SHIFTS_WEEKS = 4
# How far around now the log page looks for the reader's current shift (shifts are at most weeks long).
SHIFT_SEARCH = dt.timedelta(days=62)


@pages.app_template_filter("duty_day")
def duty_day(day: dt.date) -> str:
    """A day as the reader's language writes it briefly ("Mon 30 Mar")."""
    return format_date(day, "EEE d MMM")


def _days(pieces: list[dict[str, Any]], zone, first_day: dt.date, count: int) -> list[dict[str, Any]]:
    """The slots of each local day (a slot across midnight shows on both days, cut at midnight)."""
    days = []
    for offset in range(count):
        day = first_day + dt.timedelta(days=offset)
        start, end = to_instant(dt.datetime.combine(day, dt.time()), zone), to_instant(
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), zone)
        slots = []
        for slot in pieces:
            slot_start, slot_end = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
            if slot_start < end and slot_end > start:
                slots.append({**slot, "from": to_local(max(slot_start, start), zone).strftime("%H:%M"),
                              "to": "24:00" if slot_end >= end else to_local(slot_end, zone).strftime("%H:%M")})
        days.append({"date": day, "slots": slots})
    return days


def _week_start(raw: str | None, zone) -> dt.date:
    """The first day of the week holding ``raw`` (default today), as the reader's language counts weeks
    (Sunday in American English, Monday in German: CLDR through ``workdesk.dates``)."""
    today = to_local(utcnow(), zone).date()
    if raw:
        try:
            today = dt.date.fromisoformat(raw)
        except ValueError:
            flash(_("Not a date: %(value)s. Showing this week.", value=raw), "error")
    return dates.week_start(today)


@pages.get("/")
@login_required
def week():
    """The week grid of one department's roster (the reader's first department by default)."""
    user = current_user()
    visible = [d for d in Department.select().order_by(Department.name) if services.can_see_department(user, d.id)]
    if not visible:
        abort(404)
    raw_department = request.args.get("department_id")
    mine = department_ids(user)
    department = next((d for d in visible if d.id in mine), visible[0])
    if raw_department:
        try:
            department = services.visible_department(user, raw_department)
        except NotFound:
            abort(404)
    zone = user.zone
    first = _week_start(request.args.get("week"), zone)
    start = to_instant(dt.datetime.combine(first, dt.time()), zone)
    end = to_instant(dt.datetime.combine(first + dt.timedelta(days=7), dt.time()), zone)
    pieces, gaps = services.department_roster(department.id, start, end)
    slots = services.pieces_to_dicts(pieces) + [
        {"kind": "gap", "covered": False, "user_id": None, "user_name": None, "rotation_name": None, "layer": None,
         "start": a.isoformat(), "end": b.isoformat()} for a, b in gaps]
    slots.sort(key=lambda s: s["start"])
    return render_template("duty_roster/week.html", department=department, departments=visible,
                           days=_days(slots, zone, first, 7), first_day=first, zone=zone.key,
                           previous=(first - dt.timedelta(days=7)).isoformat(),
                           next=(first + dt.timedelta(days=7)).isoformat(),
                           keeps_roster=services.keeps_roster(department.id), today=to_local(utcnow(), zone).date())


def _short(instant: str) -> str:
    """An ISO instant in the reader's zone and their language's one date and time format (four-digit year)."""
    return dates.format_instant(dt.datetime.fromisoformat(instant))


@pages.get("/mine")
@login_required
def mine():
    """The reader's own shifts in the coming four weeks, day by day in their time zone."""
    user = current_user()
    zone = user.zone
    today = to_local(utcnow(), zone).date()
    start = to_instant(dt.datetime.combine(today, dt.time()), zone)
    end = start + dt.timedelta(weeks=MY_SHIFTS_WEEKS)
    # Each whole shift in the reader's zone and their language's date format (the day columns cut at midnight).
    slots = [{**slot, "span": _("%(start)s – %(end)s", start=_short(slot["start"]), end=_short(slot["end"]))}
             for slot in services.my_shifts(user, start, end)]
    days = [d for d in _days(slots, zone, today, 7 * MY_SHIFTS_WEEKS) if d["slots"]]
    return render_template("duty_roster/mine.html", days=days, zone=zone.key, weeks=MY_SHIFTS_WEEKS)


# -- hand-overs -------------------------------------------------------------------------------------

def _field_errors(form, error: WorkdeskError, renames: dict[str, str] | None = None) -> None:
    """A service's refusal beside the fields it names, or above the form."""
    placed = False
    for name, messages in (error.fields or {}).items():
        field = getattr(form, (renames or {}).get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def _heads_departments(user) -> list[int]:
    """The departments whose late hand-overs the user is told about (``services.heads_to_tell``): those
    they head, and, for people who manage rosters, those without an active head."""
    manages = user.has_permission(services.PERMISSION)
    return [d.id for d in Department.select() if user in services.heads_to_tell(d)
            and (d.head_id == user.id or manages)]


@pages.get("/handovers")
@login_required
def handovers():
    """The reader's hand-overs to complete and to acknowledge, and the flagged ones of the departments they
    head."""
    user = current_user()
    mine = list(Handover.select().where((Handover.outgoing == user) & (Handover.status == "open"))
                .order_by(Handover.shift_end))
    incoming = list(Handover.select().where((Handover.incoming == user) & (Handover.status == "submitted"))
                    .order_by(Handover.shift_end))
    headed = _heads_departments(user)
    flagged = list(Handover.select().where(
        Handover.department.in_(headed or [0]) & (Handover.status != "acknowledged")
        & (Handover.missing_flagged_at.is_null(False) | Handover.unacknowledged_flagged_at.is_null(False)))
        .order_by(Handover.shift_end.desc()).limit(200))
    return render_template("duty_roster/handovers.html", mine=mine, incoming=incoming, flagged=flagged,
                           heads=bool(headed))


@pages.route("/handovers/<int:handover_id>", methods=["GET", "POST"])
@login_required
def handover_page(handover_id: int):
    """One hand-over: the outgoing person fills and submits it, the incoming one acknowledges it."""
    user = current_user()
    try:
        record = handover.visible_handover(user, handover_id)
    except NotFound:
        abort(404)
    form = HandoverForm(prefix="handover")
    ack = AcknowledgeForm(prefix="ack")
    if request.method == "GET":
        form.notes.data = record.notes
        form.incidents.data = "\n".join(record.incidents or [])
    elif "ack-csrf_token" in request.form:
        if ack.validate_on_submit():
            try:
                handover.acknowledge_handover(user, record.id)
                flash(_("Hand-over acknowledged."), "success")
                return redirect(url_for(".handover_page", handover_id=record.id))
            except WorkdeskError as error:
                ack.form_errors.append(error.message)
    elif form.validate_on_submit():
        changes = {"notes": form.notes.data or "",
                   "incidents": [line.strip() for line in (form.incidents.data or "").splitlines() if line.strip()]}
        try:
            if "submit" in request.form:
                handover.submit_handover(user, record.id, changes)
                flash(_("Hand-over submitted."), "success")
            else:
                handover.update_handover(user, record.id, changes)
                flash(_("Hand-over saved."), "success")
            return redirect(url_for(".handover_page", handover_id=record.id))
        except WorkdeskError as error:
            _field_errors(form, error)
    record = Handover.get_by_id(record.id)
    data = handover.handover_to_dict(record)
    # The record lists the shift's tasks; the reader sees only those among them they may see.
    visible = {t.id for t in visible_tasks(user).where(Task.id.in_([t["id"] for t in data["tasks"]] or [0]))}
    data["tasks"] = [t for t in data["tasks"] if t["id"] in visible]
    return render_template("duty_roster/handover.html", record=record, data=data,
                           form=form, ack=ack,
                           can_edit=record.status == "open" and (
                               user.id == record.outgoing_id or user.has_permission(services.PERMISSION)),
                           can_ack=record.status == "submitted" and (
                               user.id == record.incoming_id or user.has_permission(services.PERMISSION)))


# -- the duty log -----------------------------------------------------------------------------------

def _log_period(user, department, zone) -> tuple[dt.datetime, dt.datetime]:
    """The period asked for (``from``/``to`` local dates, both included), else the reader's current shift
    in the department, else today."""
    now = utcnow()
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    if raw_from or raw_to:
        try:
            first = dt.date.fromisoformat(raw_from or raw_to)
            last = dt.date.fromisoformat(raw_to or raw_from)
            start = to_instant(dt.datetime.combine(first, dt.time()), zone)
            end = to_instant(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), zone)
            services.check_period(start, end)
            return start, end
        except (ValueError, OverflowError):
            flash(_("Not a period: %(value)s. Showing the current shift.",
                    value=f"{raw_from or ''} – {raw_to or ''}"), "error")
        except WorkdeskError as error:
            flash(error.message, "error")
    pieces, _gaps = services.department_roster(department.id, now - SHIFT_SEARCH, now + SHIFT_SEARCH)
    shift = next((p for p in pieces if p.user_id == user.id and p.start <= now < p.end), None)
    if shift is not None:
        return shift.start, shift.end
    today = to_local(now, zone).date()
    return (to_instant(dt.datetime.combine(today, dt.time()), zone),
            to_instant(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()), zone))


@pages.route("/log", methods=["GET", "POST"])
@login_required
def log():
    """A department's duty log for a period (the reader's current shift by default); members add entries."""
    user = current_user()
    mine = department_ids(user)
    raw_department = request.args.get("department_id") or (str(mine[0]) if mine else None)
    try:
        department = services.visible_department(user, raw_department)
    except NotFound:
        abort(404)
    zone = user.zone
    form = LogEntryForm()
    member = department.id in mine
    if member and form.validate_on_submit():
        task_id = None
        if form.task_number.data is not None:
            task = visible_tasks(user).where(Task.number == form.task_number.data).first()
            if task is None:
                form.task_number.errors = [*form.task_number.errors, _("No such task.")]
            task_id = task.id if task is not None else None
        if not form.task_number.errors:
            try:
                handover.add_log_entry(user, {"department_id": department.id, "text": form.text.data,
                                              "task_id": task_id})
                flash(_("Logged."), "success")
                return redirect(url_for(".log", department_id=department.id))
            except WorkdeskError as error:
                _field_errors(form, error, {"task_id": "task_number"})
    start, end = _log_period(user, department, zone)
    entries = handover.log_entries(user, department.id, start, end)
    numbers = {t.id: t.number for t in Task.select(Task.id, Task.number).where(
        Task.id.in_([e.task_id for e in entries if e.task_id] or [0]))}
    visible = {t.id for t in visible_tasks(user).where(Task.id.in_(list(numbers) or [0]))}
    departments = [d for d in Department.select().order_by(Department.name) if services.can_see_department(user, d.id)]
    return render_template("duty_roster/log.html", department=department, departments=departments, form=form,
                           member=member, entries=entries, start=start, end=end, zone=zone.key,
                           numbers={i: n for i, n in numbers.items() if i in visible},
                           first=to_local(start, zone).date(),
                           last=to_local(end - dt.timedelta(seconds=1), zone).date())
