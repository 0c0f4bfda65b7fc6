"""Fixtures of the team web app tests: CSRF off for the test client (tests that check CSRF turn it on),
the test plugins of ``panel_plugin`` loaded, and a small cast of people."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

TEST_PLUGINS = [f"tests.web.panel_plugin:{name}" for name in ("PanelPlugin", "BrokenPanelPlugin", "HoldVetoPlugin",
                                                                       "NavPlugin", "BrokenNavPlugin")]


@pytest.fixture
def workdesk_config(workdesk_config, request, monkeypatch):
    monkeypatch.syspath_prepend(str(request.config.rootpath))  # makes ``tests.web.panel_plugin`` importable
    return {**workdesk_config, "extra_plugins": TEST_PLUGINS, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def cast(make_department, make_user):
    """Two departments; an agent in each, a requester in the first, an admin."""
    it = make_department("IT")
    facilities = make_department("Facilities")
    return SimpleNamespace(
        it=it, facilities=facilities,
        agent=make_user("agent", [it], name="Ana Agent", email="ana@example.com"),
        other_agent=make_user("agent", [facilities], name="Fred Facilities", email="fred@example.com"),
        requester=make_user("requester", [it], name="Rita Requester", email="rita@example.com"),
        other_requester=make_user("requester", [it], name="Otto Other", email="otto@example.com"),
        admin=make_user("admin", [], name="Ada Admin", email="ada@example.com"),
    )


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)
