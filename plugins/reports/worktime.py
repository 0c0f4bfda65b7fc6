"""Working time in SQL: each calendar's working intervals laid out once as epoch seconds.

``workdesk.WorkingTime`` (the core's calendars) says which hours of which days are worked; this
module writes those intervals into ``reports_work_interval`` with a running total, so that the
working seconds between two instants are a difference of two indexed lookups computed by the
database for every task at once. A task's calendar is its department's (or the nearest ancestor's);
a department without one works around the clock, so its working time equals calendar time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from workdesk import Calendar, Department, WorkingTime, insert_rows, write_transaction

from .models import CalendarCover, WorkInterval
from .sql import case_map, is_postgres

UTC = dt.timezone.utc
MARGIN = dt.timedelta(days=2)  # intervals of a local day may start the day before in UTC


def department_calendars() -> dict[int, int]:
    """``{department id: calendar id}`` for departments that have a calendar, their own or an ancestor's."""
    departments = {d.id: d for d in Department.select(Department.id, Department.parent, Department.calendar)}
    answer: dict[int, int] = {}
    for dept_id in departments:
        seen, node = set(), departments.get(dept_id)
        while node is not None and node.id not in seen:
            seen.add(node.id)
            if node.calendar_id is not None:
                answer[dept_id] = node.calendar_id
                break
            node = departments.get(node.parent_id)
    return answer


def _fingerprint(calendar: Calendar, working: WorkingTime) -> str:
    data = json.dumps([calendar.timezone, calendar.weekly_hours, sorted(map(str, working.holidays))], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def ensure_covered(calendar_ids: set[int], first: dt.datetime, last: dt.datetime) -> None:
    """Make ``reports_work_interval`` hold every working interval of these calendars from ``first`` to
    ``last`` (rebuilt when a calendar's hours or holidays changed since it was written)."""
    first_day = (first - MARGIN).date()
    last_day = (last + MARGIN).date()
    for calendar in Calendar.select().where(Calendar.id.in_(sorted(calendar_ids))):
        working = WorkingTime.of(calendar)
        fingerprint = _fingerprint(calendar, working)
        cover = CalendarCover.get_or_none(CalendarCover.calendar_id == calendar.id)
        if cover is not None and cover.fingerprint == fingerprint and cover.first_day <= first_day \
                and cover.last_day >= last_day:
            continue
        if cover is not None and cover.fingerprint == fingerprint:
            first_day, last_day = min(first_day, cover.first_day), max(last_day, cover.last_day)
        _rebuild(calendar.id, working, fingerprint, first_day, last_day)


def _rebuild(calendar_id: int, working: WorkingTime, fingerprint: str, first_day: dt.date, last_day: dt.date) -> None:
    rows, total, day = [], 0, first_day
    while day <= last_day:
        for start, end in working.intervals(day):
            start_s, end_s = int(start.timestamp()), int(end.timestamp())
            rows.append({"calendar_id": calendar_id, "start_s": start_s, "end_s": end_s, "cum_s": total})
            total += end_s - start_s
        day += dt.timedelta(days=1)
    with write_transaction():
        WorkInterval.delete().where(WorkInterval.calendar_id == calendar_id).execute()
        for offset in range(0, len(rows), 500):
            insert_rows(WorkInterval, rows[offset:offset + 500])
        CalendarCover.insert(calendar_id=calendar_id, fingerprint=fingerprint, first_day=first_day,
                             last_day=last_day).on_conflict(
            conflict_target=[CalendarCover.calendar_id],
            update={CalendarCover.fingerprint: fingerprint, CalendarCover.first_day: first_day,
                    CalendarCover.last_day: last_day}).execute()


def worked_until(calendar: str, instant: str) -> str:
    """SQL: working seconds of calendar ``calendar`` before the epoch second ``instant`` (both SQL)."""
    # The lookup compares whole seconds: a fractional instant would make PostgreSQL cast the indexed
    # integer column instead, and scan every interval of the calendar for every task.
    whole = f"CAST(FLOOR({instant}) AS BIGINT)" if is_postgres() else f"CAST({instant} AS INTEGER)"
    return (f"COALESCE((SELECT w.cum_s + CASE WHEN {instant} >= w.end_s THEN w.end_s - w.start_s "
            f"ELSE {instant} - w.start_s END FROM reports_work_interval w WHERE w.calendar_id = {calendar} "
            f"AND w.start_s <= {whole} ORDER BY w.start_s DESC LIMIT 1), 0)")


def working_seconds(department_column: str, start: str, end: str, calendars: dict[int, int]) -> str:
    """SQL: working seconds between two epoch-second expressions for a task of ``department_column``."""
    if not calendars:
        return f"({end} - {start})"
    calendar = case_map(department_column, calendars)
    return (f"(CASE WHEN {calendar} IS NULL THEN {end} - {start} "
            f"ELSE {worked_until(calendar, end)} - {worked_until(calendar, start)} END)")
