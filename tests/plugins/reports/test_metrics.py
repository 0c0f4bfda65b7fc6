"""Each metric on the hand-built history (conftest.py), with known answers, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

from .conftest import BOTH

pytestmark = BOTH


def scope_for(viewer, period, **kwargs):
    from workdesk.plugins.reports.scope import build_scope
    return build_scope(viewer, period, **kwargs)


def test_volume_counts_days_in_the_readers_zone_and_the_backlog_from_the_audit_trail(history, week):
    from workdesk.plugins.reports import metrics
    table = metrics.volume(scope_for(history.admin, week))
    rows = [(r["period"], r["created"], r["resolved"], r["closed"], r["backlog"]) for r in table.rows]
    assert rows == [
        (dt.date(2026, 1, 5), 2, 1, 0, 2),   # T1 and T2 (00:30 Sofia, still Sunday in UTC); T1 resolved
        (dt.date(2026, 1, 6), 1, 1, 0, 2),   # T3; T2 resolved
        (dt.date(2026, 1, 7), 0, 0, 0, 3),   # T2 reopened
        (dt.date(2026, 1, 8), 0, 1, 0, 2),   # T2 resolved again
        (dt.date(2026, 1, 9), 0, 0, 0, 2),
        (dt.date(2026, 1, 10), 0, 0, 0, 2),
        (dt.date(2026, 1, 11), 1, 0, 0, 3),  # T4 at 23:30 Sofia; T5 (00:30 on the 12th) is not in the period
    ]
    assert table.links[0].startswith("/search?created_between=2026-01-04T22%3A00%3A00Z%2F2026-01-05T22%3A00%3A00Z")


def test_response_and_resolution_times_in_calendar_and_working_hours(history, week):
    from workdesk.plugins.reports import metrics
    first, resolution = metrics.response_times(scope_for(history.admin, week)).rows
    # responses of T1 (1 h), T2 (9.5 h, of which 1 working hour) and T3 (1 h, Facilities: no calendar); T4 none
    assert (first["tasks"], first["median_hours"], first["p90_hours"]) == (3, 1.0, 9.5)
    assert (first["median_working_hours"], first["p90_working_hours"], first["without"]) == (1.0, 1.0, 1)
    # T1 6 h (6 working), T2 to its last resolution 81.5 h (25 working: Mon-Wed 8 h each, Thu 1 h)
    assert (resolution["tasks"], resolution["median_hours"], resolution["p90_hours"]) == (2, 6.0, 81.5)
    assert (resolution["median_working_hours"], resolution["p90_working_hours"]) == (6.0, 25.0)


def test_rates_count_reopens_transfers_and_reassignments(history, week):
    from workdesk.plugins.reports import metrics
    rows = {r["rate"]: (r["count"], r["of"], r["percent"]) for r in metrics.rates(scope_for(history.admin, week)).rows}
    assert rows == {"Resolution rate": (2, 4, 50.0), "Reopen rate": (1, 2, 50.0), "Transfer rate": (1, 4, 25.0),
                    "Reassignment rate": (1, 4, 25.0)}


def test_time_in_status_follows_a_task_moved_between_departments(history, week):
    from workdesk.plugins.reports import metrics
    table = metrics.time_in_status(scope_for(history.admin, week, list_args={"type": "handover"}))
    rows = {r["department"]: (r["new"], r["open"], r["in_progress"], r["waiting"]) for r in table.rows}
    # T3: new 10:00-11:00 and open 11:00-12:00 in IT; open in Facilities from 12:00 Tue to the period's end
    assert rows == {"IT": (1.0, 1.0, 0.0, 0.0), "Facilities": (0.0, 130.0, 0.0, 0.0)}


def test_overdue_and_workload_as_of_now(history, week):
    from workdesk.plugins.reports import metrics
    scope = scope_for(history.admin, week)
    overdue = {r["priority"]: r["overdue"] for r in metrics.overdue(scope).rows}
    assert overdue["High"] == 1 and overdue["All"] == 1
    workload = [(r["person"], r["open"], r["weighted"], r["overdue"]) for r in metrics.workload(scope).rows]
    # open now: T0 (Ana, high, overdue), T3 (Ana, normal), T4 (nobody, urgent), T5 (nobody, normal)
    assert workload == [("Unassigned", 2, 7, 0), ("Ana Agent", 2, 5, 1)]


def test_workload_trend_counts_assignments_per_week(history, week):
    from workdesk.plugins.reports import metrics
    table = metrics.workload_trend(scope_for(history.admin, week))
    ana, boris = f"p{history.agent_a.id}", f"p{history.agent_b.id}"
    # assignments in the week: T1 and T2 to Ana when created, T3 to Ana later, T1 handed on to Boris
    assert [dict(r) for r in table.rows] == [{"week": dt.date(2026, 1, 5), ana: 3, boris: 1}]


def test_a_department_includes_its_sub_departments(history, week):
    from workdesk.plugins.reports import metrics
    scope = scope_for(history.admin, week, department_id=history.it.id)
    created = sum(r["created"] for r in metrics.volume(scope).rows)
    assert created == 3  # T1, T2 (Network, below IT) and T4; T3 now belongs to Facilities
    only_network = scope_for(history.admin, week, department_id=history.network.id)
    assert sum(r["created"] for r in metrics.volume(only_network).rows) == 1


def test_satisfaction_average_distribution_and_comments(history, week):
    from workdesk.plugins.reports import metrics
    from workdesk.plugins.reports.models import Rating
    t1, t2 = history.tasks[1], history.tasks[2]
    Rating.create(task_id=t1.id, resolution_event_id=1001, score=5, comment="Fast and friendly",
                  created_at=dt.datetime(2026, 1, 5, 15, tzinfo=dt.timezone.utc))
    Rating.create(task_id=t2.id, resolution_event_id=1002, score=3, comment="",
                  created_at=dt.datetime(2026, 1, 8, 15, tzinfo=dt.timezone.utc))
    Rating.create(task_id=t2.id, resolution_event_id=1003, score=1, comment="Outside the period",
                  created_at=dt.datetime(2026, 1, 12, 15, tzinfo=dt.timezone.utc))
    scope = scope_for(history.admin, week)
    rows = metrics.satisfaction(scope).rows
    assert [r["ratings"] for r in rows[:5]] == [0, 0, 1, 0, 1]
    assert rows[5]["ratings"] == 2 and rows[5]["percent"] == 4.0
    comments = metrics.satisfaction_comments(scope).rows
    assert [(c["score"], c["comment"]) for c in comments] == [(5, "Fast and friendly")]


def test_the_backlog_at_a_later_start_leaves_out_tasks_resolved_before_it(history):
    from workdesk.plugins.reports import metrics
    from workdesk.plugins.reports.scope import Period
    from .conftest import SOFIA
    later = Period(dt.date(2026, 1, 12), dt.date(2026, 1, 18), SOFIA)
    rows = metrics.volume(scope_for(history.admin, later)).rows
    # open at Monday 12 January 00:00 Sofia: T0, T3 and T4 (T1 and T2 resolved before it); T5 created at 00:30
    assert (rows[0]["created"], rows[0]["backlog"]) == (1, 4)
    hours = {r["department"]: r["open"] for r in metrics.time_in_status(scope_for(history.admin, later)).rows}
    assert hours["Facilities"] == 168.0  # T3 open there the whole week; T1 and T2 add nothing
