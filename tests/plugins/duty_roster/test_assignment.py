"""Work follows the duty: the core's people_on_duty answers from the roster, and new unassigned tasks go
to whoever is on duty when the department switched it on, after an explicit assignee and dispatch rules."""
from __future__ import annotations

import datetime as dt

import pytest

import workdesk
from workdesk import utcnow
from workdesk.services import absences

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": ["tests.plugins.duty_roster.rules_plugin:UrgentRulesPlugin"]}


def test_people_on_duty_answers_from_the_roster(team, make_rotation):
    agents = team["agents"]
    assert workdesk.people_on_duty(team["department"].id, at("2026-03-04T12:00Z")) is None  # no roster yet
    make_rotation()
    assert workdesk.people_on_duty(team["department"].id, at("2026-03-04T12:00Z")) == [agents[2]]
    assert workdesk.people_on_duty(team["department"].id, at("2026-01-01T12:00Z")) == []  # before it starts
    assert workdesk.people_on_duty(team["elsewhere"].id, at("2026-03-04T12:00Z")) is None


def test_new_unassigned_tasks_follow_the_duty_with_the_core_precedence(team, make_rotation, make_task, api_client,
                                                                      enable_plugin):
    department, agents, head = team["department"], team["agents"], team["head"]
    make_rotation(member_ids=[agents[1].id])
    assert make_task(head, department).assignee_id is None  # switched off by default

    admin = api_client(user=team["admin"])
    switched = admin.patch(f"/api/v1/duty/departments/{department.id}", json={"auto_assign": True})
    assert switched.status_code == 200 and switched.json == {"department_id": department.id, "auto_assign": True}
    assert api_client(user=agents[0]).patch(f"/api/v1/duty/departments/{department.id}",
                                            json={"auto_assign": False}).status_code == 403

    assert make_task(head, department).assignee_id == agents[1].id  # whoever is on duty
    assert make_task(head, department, assignee_id=agents[2].id).assignee_id == agents[2].id  # explicit wins
    enable_plugin("urgentrules")
    candidates_first = min((head, team["admin"], *agents), key=lambda u: u.id)
    assert make_task(head, department, priority="urgent").assignee_id == candidates_first.id  # rules win
    assert make_task(head, department).assignee_id == agents[1].id

    # Someone away is not on duty: the task waits unassigned until someone takes the shift.
    absences.create_absence(team["admin"], user_id=agents[1].id, starts_at=utcnow() - dt.timedelta(hours=1),
                            ends_at=utcnow() + dt.timedelta(days=1))
    assert make_task(head, department).assignee_id is None
    assert workdesk.people_on_duty(department.id, utcnow()) == []
