"""Working calendars (weekly hours in an IANA zone, holidays) built from the admin panel. The tables and the
arithmetic are the core's (``workdesk.Calendar``, ``workdesk.WorkingTime``); running clocks follow a change
on the next scan (the job notices the calendars' fingerprint moved and queues a recompute)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _

from workdesk import (Calendar, Holiday, NotFound, User, ValidationFailed, is_renderable_zone, require, services,
                      text_problem, write_transaction)

from .policies import PERMISSION_MANAGE


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Invalid calendar."), {field: [message]})


def _check(values: dict[str, Any], calendar_id: int | None) -> None:
    name = (values.get("name") or "").strip()
    if not name or len(name) > 100:
        raise _invalid("name", _("Between 1 and 100 characters."))
    if text_problem(name):
        raise _invalid("name", _("Remove the NUL or broken characters."))
    if Calendar.select().where((Calendar.name == name) & (Calendar.id != (calendar_id or 0))).exists():
        raise _invalid("name", _("A calendar with this name exists."))
    if not is_renderable_zone(values.get("timezone")):
        raise _invalid("timezone", _("Not an IANA time zone (e.g. Europe/Sofia)."))
    try:
        hours = services.calendars.parse_hours(values.get("weekly_hours"))
    except ValidationFailed:
        raise _invalid("weekly_hours", _('Give days mon to sun, each a list of ["HH:MM", "HH:MM"] pairs with the '
                                         'start before the end.')) from None
    if not any(hours.values()):  # working time would never pass: no deadline could be computed
        raise _invalid("weekly_hours", _("Give working hours on at least one day."))
    seen: set[dt.date] = set()
    for index, holiday in enumerate(values.get("holidays") or []):
        if text_problem(holiday.get("name") or "") or len(holiday.get("name") or "") > 200:
            raise _invalid(f"holidays.{index}.name", _("Up to 200 characters of text."))
        if holiday["date"] in seen:
            raise _invalid(f"holidays.{index}.date", _("This date is given twice."))
        seen.add(holiday["date"])


def save_calendar(actor: User | None, calendar_id: int | None, values: dict[str, Any]) -> Calendar:
    """Create (``calendar_id`` None) or change a calendar with its holidays (the list replaces the old one);
    422 naming the field."""
    if actor is not None:
        require(actor, PERMISSION_MANAGE)
    calendar = None
    if calendar_id is not None:
        calendar = Calendar.get_or_none(Calendar.id == calendar_id)
        if calendar is None:
            raise NotFound(_("No such calendar."))
    _check(values, calendar_id)
    with write_transaction():
        if calendar is None:
            calendar = Calendar(weekly_hours={})
        calendar.name, calendar.timezone = values["name"].strip(), values["timezone"]
        calendar.weekly_hours = values["weekly_hours"]
        calendar.save()
        Holiday.delete().where(Holiday.calendar == calendar.id).execute()
        for holiday in values.get("holidays") or []:
            Holiday.create(calendar=calendar.id, date=holiday["date"], name=holiday.get("name") or "")
    return calendar


def holidays_of(calendar: Calendar) -> list[Holiday]:
    return list(Holiday.select().where(Holiday.calendar == calendar.id).order_by(Holiday.date))


__all__ = ["save_calendar", "holidays_of"]
