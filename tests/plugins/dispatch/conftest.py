"""Fixtures for the dispatch tests: the plugin enabled and a team with a head, agents and an outsider."""
from __future__ import annotations

import pytest


@pytest.fixture
def dispatch(workdesk_app, enable_plugin):
    enable_plugin("dispatch")
    from workdesk.plugins.dispatch import services
    return services


@pytest.fixture
def team(dispatch, make_department, make_user):
    """Support (a head who manages, four agents) under Operations, and a Warehouse with its own agent."""
    operations = make_department("Operations")
    department = make_department("Support", parent_id=operations.id)
    head = make_user("manager", departments=[department], name="Hana Head")
    department.head = head
    department.save()
    admin = make_user("admin", name="Ada Admin")
    agents = [make_user("agent", departments=[department], name=f"Agent {n}") for n in range(4)]
    warehouse = make_department("Warehouse")
    outsider = make_user("agent", departments=[warehouse], name="Olga Outsider")
    return {"department": department, "operations": operations, "head": head, "admin": admin, "agents": agents,
            "outsider": outsider, "warehouse": warehouse}


@pytest.fixture
def make_rule(dispatch, team):
    """A rule over Support's agents (the head is left to the people pool of each test)."""
    def make(**values):
        data = {"name": "Support", "department_id": team["department"].id, "pool": "people",
                "pool_user_ids": [a.id for a in team["agents"]], "strategy": "least_loaded", **values}
        return dispatch.create_rule(team["admin"], data)
    return make
