"""Working-time arithmetic on a :class:`workdesk.models.Calendar`.

Working hours are wall-clock times in the calendar's IANA zone, so "09:00-17:00 Europe/Sofia" stays
09:00-17:00 local on both sides of a daylight-saving change; durations are measured in real elapsed
time (a working interval that spans a clock change is an hour shorter or longer that day).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator
from zoneinfo import ZoneInfo

from ..errors import ValidationFailed
from ..models import Calendar, Department, Holiday

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = dt.timezone.utc
MAX_SEARCH_DAYS = 3660  # a calendar with no working time at all must not loop forever


def parse_hours(weekly_hours: dict) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """Validate ``{"mon": [["09:00", "17:00"]], ...}``; raise ValidationFailed naming the day."""
    if not isinstance(weekly_hours, dict):
        raise ValidationFailed("Invalid working hours.", {"weekly_hours": ["Must be an object keyed by day."]})
    parsed: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for day, intervals in weekly_hours.items():
        if day not in DAYS:
            raise ValidationFailed("Invalid working hours.", {"weekly_hours": [f"Unknown day {day!r}; use {', '.join(DAYS)}."]})
        spans = []
        try:
            for start, end in intervals:
                s, e = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
                if e <= s and e != dt.time(0):
                    raise ValueError
                spans.append((s, e))
        except (TypeError, ValueError):
            raise ValidationFailed("Invalid working hours.", {"weekly_hours": [
                f"{day}: use a list of [\"HH:MM\", \"HH:MM\"] pairs with start before end."]}) from None
        parsed[DAYS.index(day)] = sorted(spans)
    return parsed


class WorkingTime:
    """A loaded calendar: answers working-time questions without further queries."""

    def __init__(self, timezone: str, weekly_hours: dict, holidays: set[dt.date] | None = None):
        self.zone = ZoneInfo(timezone)
        self.hours = parse_hours(weekly_hours)
        self.holidays = holidays or set()

    @classmethod
    def of(cls, calendar: Calendar) -> "WorkingTime":
        holidays = {h.date for h in Holiday.select(Holiday.date).where(Holiday.calendar == calendar)}
        return cls(calendar.timezone, calendar.weekly_hours, holidays)

    @classmethod
    def for_department(cls, department: Department | None) -> "WorkingTime | None":
        """The calendar of the department or its nearest ancestor that has one, else None."""
        seen = set()
        while department is not None and department.id not in seen:
            seen.add(department.id)
            if department.calendar_id is not None:
                return cls.of(department.calendar)
            department = department.parent
        return None

    # -- days ----------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        return day not in self.holidays and bool(self.hours.get(day.weekday()))

    def next_working_day(self, day: dt.date, include: bool = False) -> dt.date:
        """The first working day after ``day`` (or on it, with ``include``)."""
        candidate = day if include else day + dt.timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_working_day(candidate):
                return candidate
            candidate += dt.timedelta(days=1)
        raise ValueError("the calendar has no working day")

    def previous_working_day(self, day: dt.date, include: bool = False) -> dt.date:
        candidate = day if include else day - dt.timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_working_day(candidate):
                return candidate
            candidate -= dt.timedelta(days=1)
        raise ValueError("the calendar has no working day")

    def working_day_end(self, day: dt.date) -> dt.datetime:
        """When the working hours of ``day`` end (UTC); midnight after it when it has none."""
        ends = [end for _start, end in self._intervals(day)]
        return max(ends) if ends else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.zone).astimezone(UTC)

    # -- instants ------------------------------------------------------------------------------

    def _intervals(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working intervals of a local day as aware UTC datetimes."""
        if day in self.holidays:
            return
        for start, end in self.hours.get(day.weekday(), []):
            local_start = dt.datetime.combine(day, start, self.zone)
            end_day = day + dt.timedelta(days=1) if end == dt.time(0) else day
            local_end = dt.datetime.combine(end_day, end, self.zone)
            yield local_start.astimezone(UTC), local_end.astimezone(UTC)

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working intervals of a local ``day`` (none on a holiday), as aware UTC ``(start, end)``
        pairs in order: what a report lays out to measure working time in SQL."""
        return list(self._intervals(day))

    def is_working_time(self, instant: dt.datetime) -> bool:
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.zone).date()
        return any(s <= instant < e for s, e in self._intervals(day))

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant when ``hours`` of working time have passed after ``start``."""
        remaining = dt.timedelta(hours=hours)
        current = start.astimezone(UTC)
        day = current.astimezone(self.zone).date() - dt.timedelta(days=1)  # an interval may start yesterday
        for _ in range(MAX_SEARCH_DAYS):
            for s, e in self._intervals(day):
                if e <= current:
                    continue
                begin = max(s, current)
                if begin + remaining <= e:
                    return begin + remaining
                remaining -= e - begin
                current = e
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working time")

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed between two instants (0 if end is before start)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = dt.timedelta()
        day = start.astimezone(self.zone).date() - dt.timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for s, e in self._intervals(day):
                overlap = min(e, end) - max(s, start)
                if overlap > dt.timedelta():
                    total += overlap
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600
