"""The duty report: per period, person and department, what happened during the shifts.

For each person on duty in the period: hours and shifts on duty; tasks received during their duty (the
audit trail's assignments to them while they were on duty) and resolved during it (by them); the
first-response time of the tasks they received (from receiving it to their first comment or status
change on it); hand-overs due from them, submitted, on time and acknowledged; and their log entries.
"""
from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from workdesk import Task, TaskEvent, User

from . import services
from .models import Handover, LogEntry


def _within(spans: list[tuple[dt.datetime, dt.datetime]], instant: dt.datetime) -> bool:
    return any(start <= instant < end for start, end in spans)


def report(department_id: int, start: dt.datetime, end: dt.datetime, user_id: int | None = None) -> dict[str, Any]:
    pieces, _gaps = services.department_roster(department_id, start, end)
    spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    shifts: dict[int, set] = {}
    for piece in pieces:
        if piece.covered:
            spans.setdefault(piece.user_id, []).append((piece.start, piece.end))
            shifts.setdefault(piece.user_id, set()).add((piece.rotation_id, piece.shift_start))
    people = [p for p in spans if user_id is None or p == user_id]
    task_ids = Task.select(Task.id).where(Task.department == department_id)
    events = list(TaskEvent.select().where(TaskEvent.task_id.in_(task_ids) & (TaskEvent.at >= start)
                                           & (TaskEvent.at < end)).order_by(TaskEvent.at, TaskEvent.id))
    names = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(people or [0]))}
    rows = []
    every_response: list[float] = []
    for person in people:
        received: dict[int, dt.datetime] = {}
        resolved, responses = set(), []
        for event in events:
            at = services.as_utc(event.at)
            change = (event.changes or {}).get("assignee_id")
            if change and change[1] == person and event.task_id not in received and _within(spans[person], at):
                received[event.task_id] = at
            status = (event.changes or {}).get("status")
            if status and status[1] == "resolved" and event.actor_id == person and _within(spans[person], at):
                resolved.add(event.task_id)
        for task_id, received_at in received.items():
            answer = next((services.as_utc(e.at) for e in events if e.task_id == task_id and e.actor_id == person
                           and services.as_utc(e.at) >= received_at
                           and (e.kind == "commented" or "status" in (e.changes or {}))), None)
            if answer is not None:
                responses.append((answer - received_at).total_seconds() / 60)
        every_response += responses
        handovers = list(Handover.select().where((Handover.department == department_id) & (Handover.outgoing == person)
                                                 & (Handover.shift_end >= start) & (Handover.shift_end < end)))
        rows.append({
            "user_id": person, "user_name": names.get(person),
            "hours_on_duty": round(sum((b - a).total_seconds() for a, b in spans[person]) / 3600, 2),
            "shifts": len(shifts[person]), "tasks_received": len(received), "tasks_resolved": len(resolved),
            "responses": len(responses),
            "first_response_minutes_median": round(statistics.median(responses), 1) if responses else None,
            "first_response_minutes_average": round(statistics.fmean(responses), 1) if responses else None,
            "handovers_due": len(handovers),
            "handovers_submitted": sum(1 for h in handovers if h.submitted_at is not None),
            "handovers_on_time": sum(1 for h in handovers if h.submitted_at is not None
                                     and services.as_utc(h.submitted_at) <= services.as_utc(h.due_at)),
            "handovers_acknowledged": sum(1 for h in handovers if h.acknowledged_at is not None),
            "log_entries": LogEntry.select().where((LogEntry.department == department_id) & (LogEntry.user == person)
                                                   & (LogEntry.at >= start) & (LogEntry.at < end)).count()})
    counted = ("hours_on_duty", "shifts", "tasks_received", "tasks_resolved", "responses", "handovers_due",
               "handovers_submitted", "handovers_on_time", "handovers_acknowledged", "log_entries")
    totals = {key: round(sum(row[key] for row in rows), 2) for key in counted}
    totals["first_response_minutes_median"] = round(statistics.median(every_response), 1) if every_response else None
    totals["first_response_minutes_average"] = round(statistics.fmean(every_response), 1) if every_response else None
    return {"department_id": department_id, "from": start.isoformat(), "to": end.isoformat(),
            "people": sorted(rows, key=lambda r: (r["user_name"] or "", r["user_id"])), "totals": totals}


def report_answer(actor: User, department_id: Any, start: dt.datetime, end: dt.datetime,
                  user_id: int | None = None) -> dict[str, Any]:
    """The report of a department whose roster the actor sees, between two instants (at most 92 days)."""
    department = services.visible_department(actor, department_id)
    services.check_period(start, end)
    return report(department.id, services.as_utc(start), services.as_utc(end), user_id)
