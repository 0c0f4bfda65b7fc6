"""The metric dispatch contributes to reports: the tasks it could not place."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import fn

from workdesk import Department, ReportMetric, ReportScope, ReportTable, Task

from .models import Decision
from .services import REASONS


def failures(scope: ReportScope) -> ReportTable:
    """Tasks dispatch could not place in the period (filed or handed back with nobody fitting), by reason
    and department: one grouped query over the decisions, restricted to the tasks in scope."""
    tasks = fn.COUNT(fn.DISTINCT(Decision.task_number))
    rows = (Decision.select(Decision.reason, Department.name, tasks)
            .join(Task, on=(Task.number == Decision.task_number))
            .join(Department, on=(Department.id == Decision.department_id))
            .where(Decision.assignee_id.is_null() & (Decision.decided_at >= scope.start)
                   & (Decision.decided_at < scope.end) & Task.id.in_(scope.task_ids()))
            .group_by(Decision.reason, Department.name)
            .order_by(tasks.desc(), Decision.reason, Department.name).tuples())
    return ReportTable(columns=[("reason", _l("Reason")), ("department", _l("Department")), ("tasks", _l("Tasks"))],
                       rows=[{"reason": str(REASONS.get(reason, reason)), "department": department, "tasks": count}
                             for reason, department, count in rows],
                       chart="bar",
                       note=_l("A task counts once per reason, in the department it was filed in."))


def metrics() -> list[ReportMetric]:
    return [ReportMetric("dispatch.failures", _l("Tasks dispatch could not place"), compute=failures,
                         description=_l("New or handed-back tasks a dispatch rule matched but nobody available "
                                        "fitted, by reason and department."))]
