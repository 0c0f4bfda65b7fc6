"""Fixtures for the duty roster's tests: the plugin enabled, a department with people, rotation helpers."""
from __future__ import annotations

import datetime as dt

import pytest

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    """An aware instant from ISO text with an offset (``2026-03-30T06:00Z``)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def duty(workdesk_app, enable_plugin):
    enable_plugin("duty_roster")
    from workdesk.plugins.duty_roster import services
    return services


@pytest.fixture
def team(duty, make_department, make_user):
    """A department with a head, an admin (who manages rosters) and three agents, and an outsider."""
    department = make_department("Support")
    head = make_user("manager", departments=[department], name="Hana Head")
    department.head = head
    department.save()
    admin = make_user("admin", departments=[department], name="Ada Admin")
    agents = [make_user("agent", departments=[department], name=f"Agent {n}") for n in range(3)]
    elsewhere = make_department("Warehouse")
    outsider = make_user("agent", departments=[elsewhere], name="Olga Outsider")
    return {"department": department, "head": head, "admin": admin, "agents": agents, "outsider": outsider,
            "elsewhere": elsewhere}


@pytest.fixture
def make_rotation(duty, team):
    """A weekly rotation of the team's agents, Monday 09:00 Europe/Sofia from 5 January 2026."""
    def make(**values):
        data = {"department_id": team["department"].id, "name": "Primary",
                "member_ids": [a.id for a in team["agents"]], "shift_length": 1, "shift_unit": "weeks",
                "handoff_time": "09:00", "handoff_weekday": 1, "timezone": "Europe/Sofia",
                "start_date": "2026-01-05", **values}
        return duty.create_rotation(team["admin"], data)
    return make
