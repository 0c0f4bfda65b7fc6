"""What escalation adds to every task list (``sla=at_risk|breached`` and the nearest-deadline sort) and to
reports (SLA compliance per target, team and person), all in SQL on the plugin's indexed tables."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, Case, fn

from workdesk import Department, ReportScope, ReportTable, Task, User

from .models import Cycle, TaskClock

TARGET_NAMES = {"first_response": _l("First response"), "update": _l("Update"), "resolution": _l("Resolution"),
                "status_time": _l("Time in status")}


def _running():
    return Cycle.stopped_at.is_null() & Cycle.segment_start.is_null(False)


def sla_condition(query, value, context):
    """A subquery, never a join: a filter must not repeat a task."""
    now = context.now
    if value == "at_risk":
        cycles = Cycle.select(Cycle.task_id).where(_running() & (Cycle.warn_at <= now) & (Cycle.due_at > now))
    else:  # breached: a running clock past its deadline, or a cycle that ended breached
        cycles = Cycle.select(Cycle.task_id).where((_running() & (Cycle.due_at <= now))
                                                   | (Cycle.breached_at.is_null(False) & (Cycle.state != "cancelled")))
    return query.where(Task.id.in_(cycles))


def join_clock(query):
    """At most one row per task (``escalation_task_clock.task_id`` is unique)."""
    return query.join_from(Task, TaskClock, JOIN.LEFT_OUTER, on=(TaskClock.task_id == Task.id))


def sla_compliance(scope: ReportScope) -> ReportTable:
    """Targets whose outcome fell in the period (a cycle stopped, or a running one breached): how many were met
    and breached, per target, per team (the task's department) and per person (its assignee)."""
    in_period = (Cycle.task_id.in_(scope.task_ids()) & (Cycle.state != "cancelled")
                 & (((Cycle.stopped_at >= scope.start) & (Cycle.stopped_at < scope.end))
                    | (Cycle.stopped_at.is_null() & (Cycle.breached_at >= scope.start)
                       & (Cycle.breached_at < scope.end))))
    total = fn.COUNT(Cycle.id)
    breached = fn.SUM(Case(None, [(Cycle.breached_at.is_null(False), 1)], 0))
    rows = []

    def add(prefix: str, name: str, count: int, late: int) -> None:
        late = int(late or 0)
        rows.append({"name": f"{prefix}: {name}", "targets": count, "met": count - late, "breached": late,
                     "compliance": round(100.0 * (count - late) / count, 1) if count else None})

    for kind, count, late in (Cycle.select(Cycle.kind, total, breached).where(in_period)
                              .group_by(Cycle.kind).order_by(Cycle.kind).tuples()):
        add(_("Target"), str(TARGET_NAMES.get(kind, kind)), count, late)
    for name, count, late in (Cycle.select(Department.name, total, breached)
                              .join(Department, on=(Cycle.department_id == Department.id)).where(in_period)
                              .group_by(Department.name).order_by(Department.name).tuples()):
        add(_("Team"), name, count, late)
    for _id, name, count, late in (Cycle.select(Cycle.assignee_id, User.name, total, breached)
                                   .join(User, JOIN.LEFT_OUTER, on=(Cycle.assignee_id == User.id)).where(in_period)
                                   .group_by(Cycle.assignee_id, User.name).order_by(User.name, Cycle.assignee_id)
                                   .tuples()):
        add(_("Person"), name or _("Unassigned"), count, late)
    return ReportTable(columns=[("name", _l("Target, team or person")), ("targets", _l("Targets")),
                                ("met", _l("Met")), ("breached", _l("Breached")),
                                ("compliance", _l("Compliance (%)"))],
                       rows=rows, chart="bar",
                       note=_l("A target counts in the period in which it was met or breached; a breached target "
                               "stays breached after the task is resolved."))
