"""Who may read which reports, and the scope of one report: period, departments, person, filters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from workdesk import Department, FilterContext, Forbidden, Membership, NotFound, ReportScope, Task, User
from workdesk import ValidationFailed, task_filters, utcnow

VIEW = "reports.view"
VIEW_ALL = "reports.view_all"
MAX_DAYS = 731  # two years: enough for a year-on-year look, bounded so a request stays cheap


def may_view(user: User | None) -> bool:
    """Whether ``user`` may open reports at all (the navigation shows the page to them only)."""
    return user is not None and user.is_active and (user.has_permission(VIEW_ALL) or user.has_permission(VIEW))


def with_subdepartments(roots: set[int]) -> set[int]:
    """``roots`` and every department below them (departments are few: read them once)."""
    children: dict[int | None, list[int]] = {}
    for dept in Department.select(Department.id, Department.parent):
        children.setdefault(dept.parent_id, []).append(dept.id)
    found, stack = set(), list(roots)
    while stack:
        dept_id = stack.pop()
        if dept_id not in found:
            found.add(dept_id)
            stack.extend(children.get(dept_id, []))
    return found


def reportable_departments(user: User) -> set[int] | None:
    """The departments ``user`` may report on (with sub-departments); None for every department.

    ``reports.view_all`` sees every department; ``reports.view`` those the person heads or belongs to,
    and the departments below them. Anyone else is refused.
    """
    if not user.is_active or not (user.has_permission(VIEW_ALL) or user.has_permission(VIEW)):
        raise Forbidden(_("Your role does not allow reports."), permission=VIEW)
    if user.has_permission(VIEW_ALL):
        return None
    roots = {m.department_id for m in Membership.select(Membership.department).where(Membership.user == user)}
    roots |= {d.id for d in Department.select(Department.id).where(Department.head == user)}
    return with_subdepartments(roots)


def department_choices(user: User) -> list[Department]:
    allowed = reportable_departments(user)
    query = Department.select().order_by(Department.name)
    return list(query if allowed is None else query.where(Department.id.in_(sorted(allowed) or [0])))


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (inclusive) in ``zone``, and how they are grouped."""
    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def grain(self) -> str:
        days = (self.last - self.first).days + 1
        return "day" if days <= 31 else "week" if days <= 190 else "month"

    def buckets(self, grain: str | None = None) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
        """``(first local day, start, end)`` of each day, week (from Monday) or month, cut to the period."""
        grain = grain or self.grain
        out, day = [], self.first
        while day <= self.last:
            if grain == "day":
                following = day + dt.timedelta(days=1)
            elif grain == "week":
                following = day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=7)
            else:
                following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            following = min(following, self.last + dt.timedelta(days=1))
            out.append((day, local_midnight(day, self.zone), local_midnight(following, self.zone)))
            day = following
        return out


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.timezone.utc)


def default_period(zone: ZoneInfo, now: dt.datetime | None = None, days: int = 30) -> Period:
    today = (now or utcnow()).astimezone(zone).date()
    return Period(today - dt.timedelta(days=days - 1), today, zone)


def make_period(first: dt.date | None, last: dt.date | None, zone: ZoneInfo) -> Period:
    period = default_period(zone)
    first, last = first or (last - dt.timedelta(days=29) if last else period.first), last or period.last
    if last < first:
        raise ValidationFailed(_("Some fields are not valid."), {"to": [_("The end comes before the start.")]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(_("Some fields are not valid."),
                               {"to": [_("A report covers at most %(days)s days.", days=MAX_DAYS)]})
    return Period(first, last, zone)


def build_scope(viewer: User, period: Period, department_id: int | None = None, user_id: int | None = None,
                list_args: Mapping[str, str] | None = None) -> ReportScope:
    """The scope of a report ``viewer`` asked for. A department they may not report on is a 404 (its
    existence does not leak); list filters the task lists take (type, priority, a plugin's ``customer``)
    narrow the tasks, and a wrong one is a 422 naming it."""
    allowed = reportable_departments(viewer)
    if department_id is not None:
        if allowed is not None and department_id not in allowed or not Department.select().where(
                Department.id == department_id).exists():
            raise NotFound(_("No such department."))
        departments: set[int] | None = with_subdepartments({department_id})
    else:
        departments = allowed
    listing, errors = task_filters.parse(dict(list_args or {}))
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)
    query = Task.select()
    if departments is not None:
        query = query.where(Task.department.in_(sorted(departments) or [0]))
    if user_id is not None:
        query = query.where(Task.assignee == user_id)
    query = listing.apply(query, FilterContext.of(viewer))
    params: dict[str, Any] = dict(listing.params)
    params.pop("sort", None)
    if department_id is not None:
        params["department_tree"] = str(department_id)
    if user_id is not None:
        params["assignee"] = str(user_id)
    # Every report (page, CSV, API, scheduled) starts here: tasks written without the services have
    # no facts yet, derive them first (see facts.catch_up).
    from .facts import catch_up
    catch_up()
    return ReportScope(start=period.start, end=period.end, viewer=viewer, zone=period.zone,
                       department_ids=None if departments is None else tuple(sorted(departments)),
                       task_query=query, user_id=user_id, filters=dict(listing.values), list_params=params)
