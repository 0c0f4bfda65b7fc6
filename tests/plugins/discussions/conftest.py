"""Fixtures for the discussions tests: the plugin enabled, two departments with people."""
from __future__ import annotations

import pytest


@pytest.fixture
def disc(workdesk_app, enable_plugin):
    enable_plugin("discussions")
    from workdesk.plugins.discussions import services
    return services


@pytest.fixture
def team(disc, make_department, make_user):
    """Support (a head, two agents), Warehouse (an outsider) and an admin in no department."""
    department = make_department("Support")
    head = make_user("manager", departments=[department], name="Hana Head")
    department.head = head
    department.save()
    agents = [make_user("agent", departments=[department], name=name, email=f"{name.split()[0].lower()}@example.com")
              for name in ("Anna Agent", "Boris Agent")]
    elsewhere = make_department("Warehouse")
    outsider = make_user("agent", departments=[elsewhere], name="Olga Outsider", email="olga@example.com")
    admin = make_user("admin", name="Ada Admin")
    return {"department": department, "head": head, "agents": agents, "outsider": outsider,
            "elsewhere": elsewhere, "admin": admin}


@pytest.fixture
def support_space(disc, team):
    disc.ensure_department_spaces()
    from workdesk.plugins.discussions.models import Space
    return Space.get(Space.department == team["department"].id)
