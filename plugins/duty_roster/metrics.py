"""Duty figures contributed to the reports plugin (``register_report_metrics``): per department that
keeps a roster, in the report's period and departments.

- Covered hours: someone on duty; uncovered hours: a gap, or only absent people scheduled (deliberate
  "nobody" slots count as neither). From the roster, as the schedule-quality view computes them.
- Shifts covered / with someone absent: distinct (rotation, shift start) of the roster's pieces.
- Hand-overs: due (their shift ended in the period), submitted, submitted on time (by ``due_at``) and
  acknowledged; grouped in SQL.
- Swaps: requested in the period, and how many of those were accepted, declined or expired.
- From the duty report (report.py): tasks received and resolved during duty, the median first response
  to them, and duty-log entries; narrowed to the report's person when it has one.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import Case, fn

from workdesk import Department, ReportMetric, ReportScope, ReportTable

from . import report, services
from .models import Handover, Rotation, Swap


def _departments(scope: ReportScope) -> list[Department]:
    with_roster = Rotation.select(Rotation.department).distinct()
    query = Department.select().where(Department.id.in_(with_roster)).order_by(Department.name, Department.id)
    if scope.department_ids is not None:
        query = query.where(Department.id.in_(list(scope.department_ids) or [0]))
    return list(query)


def duty_figures(scope: ReportScope) -> ReportTable:
    departments = _departments(scope)
    ids = [d.id for d in departments] or [0]
    one = lambda condition: fn.SUM(Case(None, [(condition, 1)], 0))  # noqa: E731 - a counting column
    handovers = {row[0]: row[1:] for row in Handover.select(
        Handover.department, fn.COUNT(Handover.id), one(Handover.submitted_at.is_null(False)),
        one(Handover.submitted_at.is_null(False) & (Handover.submitted_at <= Handover.due_at)),
        one(Handover.acknowledged_at.is_null(False)))
        .where(Handover.department.in_(ids) & (Handover.shift_end >= scope.start) & (Handover.shift_end < scope.end))
        .group_by(Handover.department).tuples()}
    swaps = {row[0]: row[1:] for row in Swap.select(
        Rotation.department, fn.COUNT(Swap.id), one(Swap.status == "accepted"), one(Swap.status == "declined"),
        one(Swap.status == "expired"))
        .join(Rotation, on=(Swap.rotation == Rotation.id))
        .where(Rotation.department.in_(ids) & (Swap.created_at >= scope.start) & (Swap.created_at < scope.end))
        .group_by(Rotation.department).tuples()}
    rows = []
    for department in departments:
        pieces, gaps = services.department_roster(department.id, scope.start, scope.end)
        covered, uncovered, _nobody = services._time_split(pieces, gaps)  # noqa: SLF001 - the plugin's own helper
        shifts = {(p.rotation_id, p.shift_start) for p in pieces if p.covered}
        short = {(p.rotation_id, p.shift_start) for p in pieces if p.kind == "absent"}
        due, submitted, on_time, acknowledged = (int(v or 0) for v in handovers.get(department.id, (0, 0, 0, 0)))
        requested, accepted, declined, expired = (int(v or 0) for v in swaps.get(department.id, (0, 0, 0, 0)))
        during_duty = report.report(department.id, scope.start, scope.end, scope.user_id)["totals"]
        rows.append({"department": department.name, "covered_hours": round(covered, 2),
                     "uncovered_hours": round(uncovered, 2), "shifts_covered": len(shifts),
                     "shifts_with_absence": len(short), "handovers_due": due, "handovers_submitted": submitted,
                     "handovers_on_time": on_time, "handovers_acknowledged": acknowledged,
                     "swaps_requested": requested, "swaps_accepted": accepted, "swaps_declined": declined,
                     "swaps_expired": expired, "tasks_received": during_duty["tasks_received"],
                     "tasks_resolved": during_duty["tasks_resolved"],
                     "first_response_minutes": during_duty["first_response_minutes_median"],
                     "log_entries": during_duty["log_entries"]})
    return ReportTable(
        columns=[("department", _l("Department")), ("covered_hours", _l("Hours covered")),
                 ("uncovered_hours", _l("Hours uncovered")), ("shifts_covered", _l("Shifts covered")),
                 ("shifts_with_absence", _l("Shifts with someone absent")), ("handovers_due", _l("Hand-overs due")),
                 ("handovers_submitted", _l("Hand-overs submitted")), ("handovers_on_time", _l("Hand-overs on time")),
                 ("handovers_acknowledged", _l("Hand-overs acknowledged")), ("swaps_requested", _l("Swaps requested")),
                 ("swaps_accepted", _l("Swaps accepted")), ("swaps_declined", _l("Swaps declined")),
                 ("swaps_expired", _l("Swaps expired")), ("tasks_received", _l("Tasks received on duty")),
                 ("tasks_resolved", _l("Tasks resolved on duty")),
                 ("first_response_minutes", _l("First response on duty (median, minutes)")),
                 ("log_entries", _l("Duty log entries"))],
        rows=rows, chart="bar", links=[f"/duty?department_id={d.id}" for d in departments],
        note=_l("Uncovered: nobody scheduled, or only people who are away. Hand-overs of shifts that ended in "
                "the period; swaps requested in it. Tasks, first responses and log entries are those of the "
                "people on duty, while on duty (only the chosen person's when one is chosen)."))


METRICS = [ReportMetric("duty_roster.duty", _l("Duty"), duty_figures,
                        _l("Hours and shifts covered and uncovered, hand-overs, swaps, and the work done on duty, "
                           "per department."))]
