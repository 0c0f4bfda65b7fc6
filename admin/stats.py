"""The figures on the admin home page, computed as of an explicit ``now``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peewee import fn

from workdesk.models import OPEN_STATUSES, Department, Task, User, overdue_condition



@dataclass
class HomeFigures:
    statuses: tuple[str, ...]
    by_department: list[dict]  # {"department", "counts": {status: n}, "total"}
    by_status: dict[str, int]
    open_total: int
    overdue: int
    created_this_week: int
    resolved_this_week: int
    week_start: dt.datetime
    workload: list[dict]  # {"user", "open", "overdue"}, busiest first
    unassigned: int


def week_start(now: dt.datetime, timezone: str) -> dt.datetime:
    """Monday 00:00 of ``now``'s week in ``timezone``, as UTC."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    monday = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.astimezone(dt.timezone.utc)


def home_figures(now: dt.datetime, timezone: str = "UTC") -> HomeFigures:
    start = week_start(now, timezone)
    open_tasks = Task.status.in_(OPEN_STATUSES)
    statuses = OPEN_STATUSES
    rows: dict[int, dict] = {}
    names = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    by_status = {s: 0 for s in statuses}
    for dept_id, status, count in (Task.select(Task.department, Task.status, fn.COUNT(Task.id))
                                   .where(open_tasks).group_by(Task.department, Task.status).tuples()):
        row = rows.setdefault(dept_id, {"department": names.get(dept_id, "?"), "counts": {s: 0 for s in statuses},
                                        "total": 0})
        row["counts"][status] = count
        row["total"] += count
        by_status[status] += count
    overdue = overdue_condition(now)
    workload = []
    open_by_user = dict(Task.select(Task.assignee, fn.COUNT(Task.id)).where(open_tasks & Task.assignee.is_null(False))
                        .group_by(Task.assignee).tuples())
    overdue_by_user = dict(Task.select(Task.assignee, fn.COUNT(Task.id))
                           .where(overdue & Task.assignee.is_null(False)).group_by(Task.assignee).tuples())
    for user in (User.select().where(User.id.in_(list(open_by_user))) if open_by_user else []):
        workload.append({"user": user, "open": open_by_user.get(user.id, 0),
                         "overdue": overdue_by_user.get(user.id, 0)})
    workload.sort(key=lambda w: (-w["open"], w["user"].name))
    return HomeFigures(
        statuses=statuses,
        by_department=sorted(rows.values(), key=lambda r: r["department"]),
        by_status=by_status,
        open_total=sum(by_status.values()),
        overdue=Task.select().where(overdue).count(),
        created_this_week=Task.select().where(Task.created_at >= start).count(),
        resolved_this_week=Task.select().where(Task.resolved_at.is_null(False) & (Task.resolved_at >= start)).count(),
        week_start=start,
        workload=workload,
        unassigned=Task.select().where(open_tasks & Task.assignee.is_null()).count(),
    )


__all__ = ["home_figures", "week_start", "HomeFigures"]
