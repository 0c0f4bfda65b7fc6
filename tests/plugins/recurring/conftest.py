"""Fixtures for the recurring plugin's tests: the plugin enabled, a department with people, rule helpers."""
from __future__ import annotations

import datetime as dt

import pytest

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    """An aware instant from ISO text with an offset (``2026-03-30T06:00Z``)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": ["tests.plugins.recurring.proposer_plugin:LastCandidatePlugin"]}


@pytest.fixture
def recurring(workdesk_app, enable_plugin):
    enable_plugin("recurring")
    from workdesk.plugins.recurring import services
    return services


@pytest.fixture
def team(recurring, make_department, make_user):
    """A department with an admin (who can manage rules) and three agents."""
    department = make_department("Facilities")
    admin = make_user("admin", departments=[department])
    agents = [make_user("agent", departments=[department]) for _ in range(3)]
    return {"department": department, "admin": admin, "agents": agents}


@pytest.fixture
def make_rule(recurring, team):
    """Create a rule through the service as the team's admin, at ``now`` (default 2026-01-01T00:00Z)."""
    def make(now: str = "2026-01-01T00:00Z", **data):
        values = {"title": "Weekly check", "department_id": team["department"].id, "dtstart": "2026-01-05T09:00",
                  "rrule": "FREQ=WEEKLY;BYDAY=MO", "timezone": "Europe/Sofia", **data}
        return recurring.create_rule(team["admin"], values, now=at(now))
    return make


@pytest.fixture
def tick(recurring):
    """Run the plugin's periodic work as ``workdesk tick --at`` does (through workdesk.jobs)."""
    from workdesk.jobs import run_due_jobs

    def run(instant: str) -> dict:
        return run_due_jobs(at(instant), force=True)
    return run


@pytest.fixture
def rule_tasks(recurring):
    """The tasks a rule created, in creation order, with their occurrence instants."""
    from workdesk import Task
    from workdesk.plugins.recurring.models import Occurrence

    def tasks(rule) -> list[tuple[Task, dt.datetime]]:
        rows = (Occurrence.select().where(Occurrence.rule_id == rule.id)
                .order_by(Occurrence.occurrence_at, Occurrence.member_id))
        return [(Task.get_by_id(row.task_id), row.occurrence_at) for row in rows]
    return tasks
