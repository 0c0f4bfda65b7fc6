"""The update and time-in-status targets, and the ``escalation.sla_compliance`` report metric computed in SQL
from a hand-built ReportScope (SQLite and PostgreSQL)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from workdesk import ReportScope, Task, contributed_metrics, services
from workdesk.plugins.escalation.models import Cycle

from .conftest import BOTH_DATABASES, at

pytestmark = BOTH_DATABASES


def test_update_target_starts_a_new_cycle_at_each_answer(org, make_policy, file_task, act, tick):
    make_policy([{"kind": "update", "hours": 2}], warn_percent=0)
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia
    act("2026-03-02T08:00Z", services.tasks.add_comment, org.agent, task.id, "First look")  # within 2 h
    act("2026-03-02T08:30Z", services.tasks.add_comment, org.requester, task.id, "Any news?")  # not the team
    tick("2026-03-02T11:00Z")  # 3 h without a team answer: the second cycle breached
    act("2026-03-02T11:30Z", services.tasks.add_comment, org.agent, task.id, "Fixed soon")
    cycles = list(Cycle.select().where(Cycle.task_id == task.id).order_by(Cycle.number))
    assert [(c.number, c.state) for c in cycles] == [(1, "met"), (2, "breached"), (3, "running")]
    assert cycles[1].breached_at == at("2026-03-02T10:00Z")
    assert cycles[2].due_at == at("2026-03-02T13:30Z")


def test_time_in_status_counts_each_stay(org, make_policy, file_task, act):
    make_policy([{"kind": "status_time", "status": "waiting", "hours": 4, "on_reopen": "new_cycle"}],
                time_mode="calendar", warn_percent=0)
    task = file_task("2026-03-02T07:00Z")
    for when, status in (("2026-03-02T07:10Z", "open"), ("2026-03-02T07:20Z", "in_progress"),
                         ("2026-03-02T08:00Z", "waiting"), ("2026-03-02T09:00Z", "in_progress"),
                         ("2026-03-02T10:00Z", "waiting")):
        act(when, services.tasks.transition, org.agent, task.id, status)
    cycles = list(Cycle.select().where(Cycle.task_id == task.id).order_by(Cycle.number))
    assert [(c.number, c.state) for c in cycles] == [(1, "met"), (2, "running")]
    assert cycles[1].due_at == at("2026-03-02T14:00Z")


def test_sla_compliance_per_target_team_and_person(org, make_policy, file_task, act, tick, make_department,
                                                   enable_plugin, make_user):
    make_policy([{"kind": "resolution", "hours": 2}, {"kind": "first_response", "hours": 1}], time_mode="calendar",
                warn_percent=0)
    met = file_task("2026-03-02T07:00Z", title="Quick", assignee_id=org.agent.id)
    for when, status in (("2026-03-02T07:30Z", "open"), ("2026-03-02T07:40Z", "in_progress"),
                         ("2026-03-02T08:00Z", "resolved")):
        act(when, services.tasks.transition, org.agent, met.id, status)
    late = file_task("2026-03-02T07:00Z", title="Slow")
    tick("2026-03-02T12:00Z")  # both clocks of "Slow" breached while it is open
    act("2026-03-02T13:00Z", services.tasks.transition, org.agent, late.id, "open")
    for when, status in (("2026-03-02T13:10Z", "in_progress"), ("2026-03-02T14:00Z", "resolved")):
        act(when, services.tasks.transition, org.agent, late.id, status)  # resolved late: stays breached
    elsewhere = make_department("Facilities")
    file_task("2026-03-02T07:00Z", title="Outside the scope")
    Task.update(department=elsewhere).where(Task.title == "Outside the scope").execute()
    metric = next(m for m in contributed_metrics() if m.key == "escalation.sla_compliance")
    scope = ReportScope(start=at("2026-03-01T00:00Z"), end=at("2026-03-08T00:00Z"), viewer=org.admin,
                        zone=ZoneInfo("Europe/Sofia"), department_ids=(org.helpdesk.id,),
                        task_query=Task.select().where((Task.department == org.helpdesk)
                                                       & (Task.title != "Outside the scope")))
    table = metric.compute(scope)
    rows = {row["name"]: row for row in table.rows}
    assert rows["Target: Resolution"] == {"name": "Target: Resolution", "targets": 2, "met": 1, "breached": 1,
                                          "compliance": 50.0}
    assert rows["Target: First response"]["met"] == 1 and rows["Target: First response"]["breached"] == 1
    assert rows["Team: Helpdesk"]["targets"] == 4 and rows["Team: Helpdesk"]["compliance"] == 50.0
    assert rows["Person: Eve Agent"] == {"name": "Person: Eve Agent", "targets": 2, "met": 2, "breached": 0,
                                         "compliance": 100.0}
    assert rows["Person: Unassigned"]["breached"] == 2
    outside = ReportScope(start=at("2026-04-01T00:00Z"), end=at("2026-05-01T00:00Z"), viewer=org.admin,
                          zone=ZoneInfo("UTC"), department_ids=None, task_query=Task.select())
    assert list(metric.compute(outside).rows) == []  # nothing was met or breached in April
