"""The reports plugin's own metrics, computed from the audit trail in SQL, and the catalogue of every
metric shown (these and those enabled plugins contribute through ``register_report_metrics``).

Definitions (also in docs/plugins/reports.md):

- A **status change** is an audit-trail row whose ``changes`` has ``status``; it *enters done* when it
  goes from an open status (new, open, in progress, waiting) to resolved or closed, and *reopens* when
  it goes from resolved or closed back to an open status.
- A **transfer** is a change of ``department_id``; a **reassignment** a change of ``assignee_id`` from
  one person to another (a first assignment or an unassignment is not one).
- A **response** is the first comment or status change by someone other than the task's reporter.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l

from workdesk import (DONE_STATUSES, OPEN_STATUSES, PRIORITIES, Department, ReportMetric, ReportScope, ReportTable,
                      Task, User, contributed_metrics, labels, overdue_condition, utcnow)

from . import worktime
from .models import Rating
from .scope import Period
from .sql import bucket_case, epoch, run, subquery, unindexed

PRIORITY_WEIGHTS = {"low": 1, "normal": 2, "high": 3, "urgent": 5}
PERSON_SERIES = 6  # the workload trend charts the busiest people; the table lists them all


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


OPEN_SQL, DONE_SQL = _in(OPEN_STATUSES), _in(DONE_STATUSES)


def _period(scope: ReportScope) -> Period:
    first = scope.start.astimezone(scope.zone).date()
    last = (scope.end.astimezone(scope.zone) - dt.timedelta(microseconds=1)).date()
    return Period(first, last, scope.zone)


def _scoped(scope: ReportScope) -> tuple[str | None, list[Any]]:
    """The ids of the tasks in scope as SQL and its parameters; None when the scope takes every task (an
    admin's report on all departments, no filter): each metric then reads its table without the
    semi-join to ``core_task``, which costs as much as the grouped read itself at a year's size."""
    if getattr(scope.task_query, "_where", None) is None:
        return None, []
    return subquery(scope.task_ids())


def _inside(column: str, scope_sql: str | None) -> str:
    """The condition ``column`` is the id of a task in scope (always true for every task)."""
    return "1 = 1" if scope_sql is None else f"{column} IN ({scope_sql})"


SHORT = dt.timedelta(days=92)  # up to a quarter, the tasks alive in a period are a small share of all


def _alive(scope_sql: str | None, scope_params: list[Any], before: dt.datetime,
           not_done_before: dt.datetime) -> tuple[str, list[Any]]:
    """The tasks in scope that can have been open at some instant of ``[not_done_before, before)``: created
    before ``before`` and not resolved or closed before ``not_done_before`` and still so. A task done now
    whose last entry into done came before that instant stayed done since (it would need another entry
    into done to be done again), so its stretches there are done ones. At any instant few tasks are
    alive: the backlog at a period's start, or a month's time in status, then reads the stretches of
    those few tasks (a composite index on the facts finds them) instead of every task's."""
    return (f"SELECT f.task_id FROM reports_task_fact f WHERE f.created_at < ? AND NOT (f.status IN {DONE_SQL} "
            f"AND f.resolved_at IS NOT NULL AND f.resolved_at < ?) AND {_inside('f.task_id', scope_sql)}",
            [before, not_done_before, *scope_params])


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# -- volume and backlog ------------------------------------------------------------------------------

# The rows of reports_status_interval (alias ``i``) that start with an entry into done or a reopen.
ENTERS_DONE = f"(i.from_status IN {OPEN_SQL} AND i.status IN {DONE_SQL})"
REOPENS = f"(i.from_status IN {DONE_SQL} AND i.status IN {OPEN_SQL})"


def volume(scope: ReportScope) -> ReportTable:
    """Created, resolved and closed per day, week or month, and the backlog at each one's end."""
    period = _period(scope)
    buckets = period.buckets()
    edges = [b[1] for b in buckets] + [buckets[-1][2]]
    scope_sql, scope_params = _scoped(scope)
    # Bucket -1 holds everything before the period: the backlog at its start.
    created_case, created_params = bucket_case("t.created_at", edges)
    created = dict(run(f"SELECT CASE WHEN t.created_at < ? THEN -1 ELSE {created_case} END AS b, COUNT(*) "
                       f"FROM core_task t WHERE {_inside('t.id', scope_sql)} AND t.created_at < ? GROUP BY b",
                       [scope.start, *created_params, *scope_params, scope.end]))
    event_case, event_params = bucket_case("i.started_at", edges)
    moves = {row[0]: row[1:] for row in run(
        f"SELECT {event_case} AS b, "
        f"COUNT(DISTINCT CASE WHEN i.status = 'resolved' THEN i.task_id END), "
        f"COUNT(DISTINCT CASE WHEN i.status = 'closed' THEN i.task_id END), "
        f"SUM(CASE WHEN {ENTERS_DONE} THEN 1 ELSE 0 END), SUM(CASE WHEN {REOPENS} THEN 1 ELSE 0 END) "
        f"FROM reports_status_interval i WHERE {_inside('i.task_id', scope_sql)} AND i.status_changed = 1 "
        # only moves into or out of a done status count here; the index holds both columns, so the
        # others (new -> open -> in progress -> waiting...) are skipped before they are bucketed
        f"AND i.started_at >= ? AND i.started_at < ? AND (i.status IN {DONE_SQL} OR i.from_status IN {DONE_SQL}) "
        f"GROUP BY b",
        [*event_params, *scope_params, scope.start, scope.end])}
    # Created before the start minus entries into done plus reopens before it: the tasks whose status in
    # force just before the start (the interval holding that instant) is an open one.
    alive_sql, alive_params = _alive(scope_sql, scope_params, scope.start, scope.start)
    backlog = int(run(f"SELECT COUNT(*) FROM reports_status_interval i WHERE i.task_id IN ({alive_sql}) "
                      f"AND i.started_at < ? AND (i.ended_at IS NULL OR i.ended_at >= ?) AND i.status IN {OPEN_SQL}",
                      [*alive_params, scope.start, scope.start])[0][0] or 0)
    rows, links = [], []
    for index, (day, start, end) in enumerate(buckets):
        resolved, closed, entered, reopened = (int(v or 0) for v in moves.get(index, (0, 0, 0, 0)))
        backlog += int(created.get(index, 0)) - entered + reopened
        rows.append({"period": day, "created": int(created.get(index, 0)), "resolved": resolved, "closed": closed,
                     "backlog": backlog})
        links.append(scope.task_list_url(created_between=f"{_iso(start)}/{_iso(end)}"))
    return ReportTable(columns=[("period", _l("Period")), ("created", _l("Created")), ("resolved", _l("Resolved")),
                                ("closed", _l("Closed")), ("backlog", _l("Backlog at the end"))],
                       rows=rows, chart="line", links=links,
                       note=_l("Each period links to the tasks created in it."))


# -- response and resolution times ---------------------------------------------------------------------

def _percentiles(durations_sql: str, params: list[Any]) -> tuple[int, list[float | None]]:
    """The count and nearest-rank median and 90th percentile of the ``cal`` and ``work`` columns."""
    rank50, rank90 = "(n + 1) / 2", "(9 * n + 9) / 10"
    text = (f"WITH d AS MATERIALIZED ({durations_sql}), "
            "rc AS (SELECT cal AS v, ROW_NUMBER() OVER (ORDER BY cal) AS rn, COUNT(*) OVER () AS n FROM d), "
            "rw AS (SELECT work AS v, ROW_NUMBER() OVER (ORDER BY work) AS rn, COUNT(*) OVER () AS n FROM d) "
            f"SELECT (SELECT COUNT(*) FROM d), (SELECT v FROM rc WHERE rn = {rank50}), "
            f"(SELECT v FROM rc WHERE rn = {rank90}), (SELECT v FROM rw WHERE rn = {rank50}), "
            f"(SELECT v FROM rw WHERE rn = {rank90})")
    count, *values = run(text, params)[0]
    return int(count or 0), [None if v is None else round(float(v) / 3600, 2) for v in values]


def _working(scope: ReportScope, first_instant_sql: str, params: list[Any]) -> dict[int, int]:
    """Department calendars, with their intervals laid out from the earliest instant concerned."""
    calendars = worktime.department_calendars()
    if calendars:
        earliest = run(first_instant_sql, params)[0][0]
        if earliest is not None:
            if isinstance(earliest, str):
                earliest = dt.datetime.fromisoformat(earliest)
            earliest = earliest.replace(tzinfo=dt.timezone.utc) if earliest.tzinfo is None else earliest
            worktime.ensure_covered(set(calendars.values()), min(earliest, scope.start), max(scope.end, utcnow()))
    return calendars


def response_times(scope: ReportScope) -> ReportTable:
    """Median and 90th percentile time to first response and to resolution, in calendar and working hours."""
    scope_sql, scope_params = _scoped(scope)
    responders = (f"SELECT f.task_id, f.first_response_at AS at FROM reports_task_fact f "
                  f"WHERE {_inside('f.task_id', scope_sql)} AND f.created_at >= ? AND f.created_at < ? "
                  f"AND f.first_response_at < ?")
    responder_params = [*scope_params, scope.start, scope.end, scope.end]
    resolutions = (f"SELECT i.task_id, MAX(i.started_at) AS at FROM reports_status_interval i "
                   f"WHERE {_inside('i.task_id', scope_sql)} AND i.status_changed = 1 AND i.started_at >= ? "
                   f"AND i.started_at < ? AND {ENTERS_DONE} GROUP BY i.task_id")
    resolution_params = [*scope_params, scope.start, scope.end]
    calendars = _working(scope, f"SELECT MIN(t.created_at) FROM core_task t WHERE {_inside('t.id', scope_sql)}",
                         list(scope_params))
    rows, links = [], []
    created_count = run(f"SELECT COUNT(*) FROM core_task t WHERE {_inside('t.id', scope_sql)} AND t.created_at >= ? "
                        f"AND t.created_at < ?", [*scope_params, scope.start, scope.end])[0][0]
    for key, label, source, params, link in (
            ("first_response", _l("First response"), responders, responder_params,
             scope.task_list_url(created_between=f"{_iso(scope.start)}/{_iso(scope.end)}")),
            ("resolution", _l("Resolution"), resolutions, resolution_params,
             scope.task_list_url(resolved_between=f"{_iso(scope.start)}/{_iso(scope.end)}"))):
        start_s, end_s = epoch("t.created_at"), epoch("x.at")
        durations = (f"SELECT {end_s} - {start_s} AS cal, "
                     f"{worktime.working_seconds('t.department_id', start_s, end_s, calendars)} AS work "
                     f"FROM ({source}) x JOIN reports_task_fact t ON t.task_id = x.task_id")
        count, (cal50, cal90, work50, work90) = _percentiles(durations, list(params))
        row = {"measure": str(label), "tasks": count, "median_hours": cal50, "p90_hours": cal90,
               "median_working_hours": work50, "p90_working_hours": work90}
        if key == "first_response":
            row["without"] = int(created_count or 0) - count
        rows.append(row)
        links.append(link)
    return ReportTable(columns=[("measure", _l("Time to")), ("tasks", _l("Tasks")),
                                ("median_hours", _l("Median (hours)")), ("p90_hours", _l("90th percentile (hours)")),
                                ("median_working_hours", _l("Median (working hours)")),
                                ("p90_working_hours", _l("90th percentile (working hours)")),
                                ("without", _l("Created, not answered"))],
                       rows=rows, chart="bar", links=links,
                       note=_l("First response: tasks created in the period, to the first comment or status change "
                               "by someone other than the reporter before its end. Resolution: tasks resolved in the "
                               "period, from creation to their last resolution in it. Working hours follow the "
                               "department's calendar; a department without one works around the clock."))


# -- rates ---------------------------------------------------------------------------------------------

def rates(scope: ReportScope) -> ReportTable:
    """Resolution, reopen, transfer and reassignment rates, each with what it counts."""
    scope_sql, scope_params = _scoped(scope)
    created_in = (f"SELECT t.id FROM core_task t WHERE {_inside('t.id', scope_sql)} AND t.created_at >= ? "
                  f"AND t.created_at < ?")
    created_params = [*scope_params, scope.start, scope.end]
    created = int(run(f"SELECT COUNT(*) FROM ({created_in}) c", created_params)[0][0] or 0)
    # Done at the end: created in the period and not open then. The open ones are among the few tasks
    # alive at the end; their stretch holding the end tells.
    alive_sql, alive_params = _alive(scope_sql, scope_params, scope.end, scope.end)
    open_at_end = int(run(
        f"SELECT COUNT(*) FROM reports_status_interval i WHERE i.task_id IN ({alive_sql} AND f.created_at >= ?) "
        f"AND i.started_at < ? AND (i.ended_at IS NULL OR i.ended_at >= ?) AND i.status IN {OPEN_SQL}",
        [*alive_params, scope.start, scope.end, scope.end])[0][0] or 0)
    done_at_end = created - open_at_end
    # Per task, whether it entered done and whether it was reopened within the period: only the rows
    # doing either are grouped.
    resolved, reopened = (int(v or 0) for v in run(
        f"SELECT COUNT(*), SUM(reopened) FROM (SELECT i.task_id, "
        f"MAX(CASE WHEN {ENTERS_DONE} THEN 1 ELSE 0 END) AS entered, "
        f"MAX(CASE WHEN {REOPENS} THEN 1 ELSE 0 END) AS reopened FROM reports_status_interval i "
        f"WHERE {_inside('i.task_id', scope_sql)} AND i.status_changed = 1 AND i.started_at >= ? "
        f"AND i.started_at < ? AND ({ENTERS_DONE} OR {REOPENS}) GROUP BY i.task_id) p WHERE entered = 1",
        [*scope_params, scope.start, scope.end])[0])
    transferred, reassigned = (int(v or 0) for v in run(
        f"SELECT SUM(CASE WHEN f.first_transfer_at < ? THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN f.first_reassignment_at < ? THEN 1 ELSE 0 END) FROM reports_task_fact f "
        f"WHERE {_inside('f.task_id', scope_sql)} AND f.created_at >= ? AND f.created_at < ?",
        [scope.end, scope.end, *scope_params, scope.start, scope.end])[0])
    period = {"created_between": f"{_iso(scope.start)}/{_iso(scope.end)}"}
    resolved_link = scope.task_list_url(resolved_between=f"{_iso(scope.start)}/{_iso(scope.end)}")
    rows = [
        {"rate": str(_l("Resolution rate")), "count": done_at_end, "of": created,
         "percent": _percent(done_at_end, created)},
        {"rate": str(_l("Reopen rate")), "count": reopened, "of": resolved, "percent": _percent(reopened, resolved)},
        {"rate": str(_l("Transfer rate")), "count": transferred, "of": created,
         "percent": _percent(transferred, created)},
        {"rate": str(_l("Reassignment rate")), "count": reassigned, "of": created,
         "percent": _percent(reassigned, created)},
    ]
    links = [scope.task_list_url(**period, status="done"), resolved_link, scope.task_list_url(**period),
             scope.task_list_url(**period)]
    return ReportTable(columns=[("rate", _l("Rate")), ("count", _l("Tasks")), ("of", _l("Out of")),
                                ("percent", _l("Per cent"))], rows=rows, chart="bar", links=links,
                       note=_l("Resolution, transfer and reassignment: of the tasks created in the period, those "
                               "resolved or closed at its end, moved to another department, or given to another "
                               "person in it. Reopen: of the tasks resolved in the period, those reopened in it."))


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# -- overdue and workload ------------------------------------------------------------------------------

def _names(user_ids) -> dict[int, str]:
    ids = [i for i in user_ids if i is not None]
    return {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(ids or [0]))}


def overdue(scope: ReportScope) -> ReportTable:
    """Open tasks past their due date now, per priority."""
    from peewee import fn
    now = utcnow()
    counts = dict(Task.select(Task.priority, fn.COUNT(Task.id))
                  .where(Task.id.in_(scope.task_ids()) & overdue_condition(now))
                  .group_by(Task.priority).tuples())
    rows = [{"priority": labels.priority_label(p), "overdue": int(counts.get(p, 0))} for p in PRIORITIES]
    rows.append({"priority": str(_l("All")), "overdue": sum(r["overdue"] for r in rows)})
    links = [scope.task_list_url(due="overdue", priority=p) for p in PRIORITIES] + [scope.task_list_url(due="overdue")]
    return ReportTable(columns=[("priority", _l("Priority")), ("overdue", _l("Overdue now"))], rows=rows,
                       chart="bar", links=links,
                       note=_l("Open tasks whose due date has passed, as of now (whatever the period)."))


def workload(scope: ReportScope) -> ReportTable:
    """Open tasks per assignee, weighted by priority, and how many of them are overdue (as of now)."""
    from peewee import Case, fn
    now = utcnow()
    weight = Case(Task.priority, list(PRIORITY_WEIGHTS.items()), 1)
    late = Case(None, [(overdue_condition(now), 1)], 0)
    rows_db = (Task.select(Task.assignee, fn.COUNT(Task.id), fn.SUM(weight), fn.SUM(late))
               .where(Task.id.in_(scope.task_ids()) & Task.status.in_(OPEN_STATUSES))
               .group_by(Task.assignee).tuples())
    data = [(a, int(n), int(w or 0), int(o or 0)) for a, n, w, o in rows_db]
    names = _names(a for a, *_ in data)
    data.sort(key=lambda r: (-r[2], names.get(r[0], ""), r[0] or 0))
    rows = [{"person": names.get(a, str(_l("Unassigned"))) if a is not None else str(_l("Unassigned")),
             "open": n, "weighted": w, "overdue": o} for a, n, w, o in data]
    links = [scope.task_list_url(assignee=a if a is not None else "none", status="active") for a, *_ in data]
    return ReportTable(columns=[("person", _l("Person")), ("open", _l("Open tasks")),
                                ("weighted", _l("Weighted by priority")), ("overdue", _l("Overdue"))],
                       rows=rows, chart="bar", links=links,
                       note=_l("As of now. Weights: low 1, normal 2, high 3, urgent 5."))


def workload_trend(scope: ReportScope) -> ReportTable:
    """Tasks assigned to each person per week of the period (assignments in the audit trail)."""
    period = _period(scope)
    buckets = period.buckets("week")
    edges = [b[1] for b in buckets] + [buckets[-1][2]]
    scope_sql, scope_params = _scoped(scope)
    case, case_params = bucket_case("a.at", edges)
    counts = run(f"SELECT {case} AS b, a.assignee_id AS who, COUNT(*) FROM reports_assignment a "
                 f"WHERE {_inside('a.task_id', scope_sql)} AND a.at >= ? AND a.at < ? GROUP BY b, who",
                 [*case_params, *scope_params, scope.start, scope.end])
    totals: dict[int, int] = {}
    for _b, who, n in counts:
        totals[int(who)] = totals.get(int(who), 0) + int(n)
    names = _names(totals)
    people = sorted(totals, key=lambda p: (-totals[p], names.get(p, ""), p))[:PERSON_SERIES]
    by_cell = {(int(b), int(who)): int(n) for b, who, n in counts if b is not None}
    rows = [{"week": day, **{f"p{p}": by_cell.get((i, p), 0) for p in people}} for i, (day, _s, _e) in enumerate(buckets)]
    links = [scope.task_list_url(assigned_between=f"{_iso(start)}/{_iso(end)}") for _d, start, end in buckets]
    columns = [("week", _l("Week from")), *[(f"p{p}", names.get(p, str(p))) for p in people]]
    return ReportTable(columns=columns, rows=rows, chart="line", links=links,
                       note=_l("Tasks assigned to each person in each week (the six who received most). Each week "
                               "links to the tasks assigned in it."))


# -- where work waits ----------------------------------------------------------------------------------

def time_in_status(scope: ReportScope) -> ReportTable:
    """Hours tasks spent in each open status during the period, per department they were in at the time."""
    scope_sql, scope_params = _scoped(scope)
    start_s, end_s = scope.start.timestamp(), scope.end.timestamp()
    clipped = (f"(CASE WHEN COALESCE(i.end_s, {end_s}) > {end_s} THEN {end_s} ELSE COALESCE(i.end_s, {end_s}) END) - "
               f"(CASE WHEN i.start_s < {start_s} THEN {start_s} ELSE i.start_s END)")
    # Every stretch that overlaps the period: no index bounds "started before the end" usefully (for a
    # year it is nearly the whole table, read faster in order than through the index), so SQLite is told
    # to read the table, or the tasks in scope through the task index.
    tasks, task_params = _inside('i.task_id', scope_sql), list(scope_params)
    if scope.end - scope.start <= SHORT:
        alive_sql, task_params = _alive(scope_sql, scope_params, scope.end, scope.start)
        tasks = f"i.task_id IN ({alive_sql})"
    data = run(f"SELECT i.department_id, i.status, SUM({clipped}) FROM reports_status_interval i "
               f"WHERE {tasks} AND i.status IN {OPEN_SQL} AND {unindexed('i.start_s')} < ? "
               f"AND (i.end_s IS NULL OR i.end_s > ?) GROUP BY i.department_id, i.status",
               [*task_params, end_s, start_s])
    names = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    table: dict[int, dict[str, Any]] = {}
    for dept, state, seconds in data:
        row = table.setdefault(int(dept), {"department": names.get(int(dept), str(dept)),
                                           **{s: 0.0 for s in OPEN_STATUSES}})
        row[state] = round(float(seconds or 0) / 3600, 2)
    order = sorted(table, key=lambda d: (table[d]["department"], d))
    rows = [table[d] for d in order]
    links = [scope.task_list_url(department=d, status="active") for d in order]
    return ReportTable(columns=[("department", _l("Department")),
                                *[(s, labels.STATUS_LABELS[s]) for s in OPEN_STATUSES]],
                       rows=rows, chart="stacked_bar", links=links,
                       note=_l("Hours in each open status within the period, counted for the department the task "
                               "was in at the time: where work waits, and between which departments."))


# -- satisfaction ----------------------------------------------------------------------------------------

def _ratings(scope: ReportScope):
    return Rating.select().where(Rating.task_id.in_(scope.task_ids()) & (Rating.created_at >= scope.start)
                                 & (Rating.created_at < scope.end))


def satisfaction(scope: ReportScope) -> ReportTable:
    """How many ratings gave each score (1-5) in the period, and their average."""
    from peewee import fn
    counts = dict(_ratings(scope).select(Rating.score, fn.COUNT(Rating.id)).group_by(Rating.score).tuples())
    total = sum(counts.values())
    average = sum(score * n for score, n in counts.items()) / total if total else None
    rows = [{"score": str(score), "ratings": int(counts.get(score, 0)),
             "percent": _percent(int(counts.get(score, 0)), total)} for score in range(1, 6)]
    rows.append({"score": str(_l("Average")), "ratings": total,
                 "percent": None if average is None else round(average, 2)})
    return ReportTable(columns=[("score", _l("Score")), ("ratings", _l("Ratings")), ("percent", _l("Per cent"))],
                       rows=rows, chart="bar",
                       note=_l("Ratings given in the period by reporters of resolved tasks, 1 (poor) to 5 "
                               "(excellent). The last row's figure is the average score."))


def satisfaction_comments(scope: ReportScope) -> ReportTable:
    """The latest comments reporters left with their rating in the period (at most 50)."""
    query = (_ratings(scope).select(Rating.task_id, Rating.score, Rating.comment, Rating.created_at)
             .where(Rating.comment != "").order_by(Rating.created_at.desc(), Rating.id.desc()).limit(50))
    found = list(query)
    numbers = {t.id: t.number for t in Task.select(Task.id, Task.number)
               .where(Task.id.in_([r.task_id for r in found] or [0]))}
    rows = [{"task": f"#{numbers.get(r.task_id, r.task_id)}", "score": r.score, "comment": r.comment,
             "day": r.created_at.astimezone(scope.zone).date()} for r in found]
    links = [f"/tasks/{r.task_id}" for r in found]
    return ReportTable(columns=[("task", _l("Task")), ("score", _l("Score")), ("comment", _l("Comment")),
                                ("day", _l("Day"))], rows=rows, links=links)


# -- the catalogue ---------------------------------------------------------------------------------------

OWN: tuple[ReportMetric, ...] = (
    ReportMetric("reports.volume", _l("Created, resolved and backlog"), volume,
                 _l("Tasks created, resolved and closed per period, and the open backlog at each period's end.")),
    ReportMetric("reports.response_times", _l("Response and resolution times"), response_times,
                 _l("Median and 90th percentile time to first response and to resolution, in calendar and "
                    "working hours.")),
    ReportMetric("reports.rates", _l("Resolution, reopen and transfer rates"), rates,
                 _l("Shares of tasks resolved, reopened, moved to another department and given to another person.")),
    ReportMetric("reports.overdue", _l("Overdue"), overdue, _l("Open tasks past their due date, per priority.")),
    ReportMetric("reports.time_in_status", _l("Time in status"), time_in_status,
                 _l("Hours spent in each open status per department: where work waits.")),
    ReportMetric("reports.workload", _l("Workload per person"), workload,
                 _l("Open tasks per person, weighted by priority, and how many are overdue.")),
    ReportMetric("reports.workload_trend", _l("Workload week by week"), workload_trend,
                 _l("Tasks assigned to each person in each week.")),
    ReportMetric("reports.satisfaction", _l("Satisfaction"), satisfaction,
                 _l("The distribution and the average of reporters' ratings.")),
    ReportMetric("reports.satisfaction_comments", _l("Satisfaction comments"), satisfaction_comments,
                 _l("What reporters wrote with their rating.")),
)


def catalogue() -> list[ReportMetric]:
    """Every metric shown: the plugin's own, then those of enabled plugins (each marked with its plugin)."""
    return [*(ReportMetric(m.key, m.title, m.compute, m.description, plugin="reports") for m in OWN),
            *(m for m in contributed_metrics() if m.plugin != "reports")]


def find(key: str) -> ReportMetric | None:
    return next((m for m in catalogue() if m.key == key), None)

