"""Team pages: the week grid of a department's roster and "my shifts", readable on a phone.

Both read through :mod:`services` like the API, so the same visibility applies (a department whose
roster you may not see answers 404), and show times in the reader's own time zone.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from workdesk import Department, NotFound, current_user, department_ids, login_required, utcnow

from . import services
from .schedule import to_instant, to_local

pages = Blueprint("duty_roster_pages", __name__, url_prefix="/duty")
MY_SHIFTS_WEEKS = 4


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
    today = to_local(utcnow(), zone).date()
    if raw:
        try:
            today = dt.date.fromisoformat(raw)
        except ValueError:
            flash(_("Not a date: %(value)s. Showing this week.", value=raw), "error")
    return today - dt.timedelta(days=today.weekday())


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
    monday = _week_start(request.args.get("week"), zone)
    start = to_instant(dt.datetime.combine(monday, dt.time()), zone)
    end = to_instant(dt.datetime.combine(monday + dt.timedelta(days=7), dt.time()), zone)
    pieces, gaps = services.department_roster(department.id, start, end)
    slots = services.pieces_to_dicts(pieces) + [
        {"kind": "gap", "covered": False, "user_id": None, "user_name": None, "rotation_name": None, "layer": None,
         "start": a.isoformat(), "end": b.isoformat()} for a, b in gaps]
    slots.sort(key=lambda s: s["start"])
    return render_template("duty_roster/week.html", department=department, departments=visible,
                           days=_days(slots, zone, monday, 7), monday=monday, zone=zone.key,
                           previous=(monday - dt.timedelta(days=7)).isoformat(),
                           next=(monday + dt.timedelta(days=7)).isoformat(),
                           keeps_roster=services.keeps_roster(department.id), today=to_local(utcnow(), zone).date())


@pages.get("/mine")
@login_required
def mine():
    """The reader's own shifts in the coming four weeks, day by day in their time zone."""
    user = current_user()
    zone = user.zone
    today = to_local(utcnow(), zone).date()
    start = to_instant(dt.datetime.combine(today, dt.time()), zone)
    end = start + dt.timedelta(weeks=MY_SHIFTS_WEEKS)
    slots = services.my_shifts(user, start, end)
    days = [d for d in _days(slots, zone, today, 7 * MY_SHIFTS_WEEKS) if d["slots"]]
    return render_template("duty_roster/mine.html", days=days, zone=zone.key, weeks=MY_SHIFTS_WEEKS)
