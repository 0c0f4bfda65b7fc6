"""The admin panel's task list offers the task-list catalogue: its due range, type and impact filters, the
filters of enabled plugins, and every sort, plugins' joined ones included."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from workdesk.db import utcnow
from workdesk.registry import set_plugin_enabled

from tests.sla_plugin import TEST_PLUGINS
from tests.sla_plugin.models import SlaClock


@pytest.fixture
def workdesk_config(workdesk_config, request, monkeypatch):
    monkeypatch.syspath_prepend(str(request.config.rootpath))
    return {**workdesk_config, "extra_plugins": [*workdesk_config["extra_plugins"], *TEST_PLUGINS]}


def filter_index(app, parameter: str) -> int:
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "admin_tasks")
    return next(i for i, flt in enumerate(view._filters) if getattr(flt, "parameter", None) == parameter)


def listed(text: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<a href="/admin/tasks/details/\?id=\d+[^"]*">([^<]+)</a>', text)]


def test_catalogue_filters_in_the_admin_list(client, admin, department, make_task, workdesk_app):
    now = utcnow()
    make_task(admin, department, title="Late incident", type="incident", due_at=now - dt.timedelta(hours=1))
    make_task(admin, department, title="Calm request", impact="one desk", due_at=now + dt.timedelta(days=40))
    due, kind, impact = (filter_index(workdesk_app, name) for name in ("due", "type", "impact"))
    assert listed(client.get(f"/admin/tasks/?flt0_{due}=overdue").text) == ["Late incident"]
    assert listed(client.get(f"/admin/tasks/?flt0_{kind}=incident").text) == ["Late incident"]
    assert listed(client.get(f"/admin/tasks/?flt0_{impact}=one+desk").text) == ["Calm request"]
    bad = client.get(f"/admin/tasks/?flt0_{due}=soon").text
    assert "Invalid Filter Value" in bad and sorted(listed(bad)) == ["Calm request", "Late incident"]


def test_a_plugin_filter_and_sort_in_the_admin_list(client, admin, department, make_task, workdesk_app,
                                                    enable_plugin):
    tasks = [make_task(admin, department, title=f"Clocked {i}") for i in range(4)]
    now = utcnow().replace(microsecond=0)
    for i, task in enumerate(tasks[:3]):
        SlaClock.create(task_id=task.id, state="breached" if i != 1 else "at_risk",
                        deadline=now + dt.timedelta(hours=3 - i))
    sla = filter_index(workdesk_app, "sla")
    page = client.get("/admin/tasks/").text
    assert "Nearest deadline first" not in page and '"SLA"' not in page  # disabled: neither offered
    refused = client.get(f"/admin/tasks/?flt0_{sla}=breached").text
    assert "The filter “sla” is left out: its plugin is disabled." in html.unescape(refused)
    assert len(listed(refused)) == 4

    enable_plugin("slatest")
    page = client.get("/admin/tasks/").text
    assert "Nearest deadline first" in page and "SLA" in page
    assert sorted(listed(client.get(f"/admin/tasks/?flt0_{sla}=breached").text)) == ["Clocked 0", "Clocked 2"]
    assert listed(client.get("/admin/tasks/?order=sla_deadline").text) == ["Clocked 2", "Clocked 1", "Clocked 0",
                                                                           "Clocked 3"]
    assert listed(client.get("/admin/tasks/?order=-sla_deadline").text)[0] == "Clocked 0"
    # The order goes with a filter, and the order form keeps the filter.
    ordered = client.get(f"/admin/tasks/?order=sla_deadline&flt0_{sla}=breached").text
    assert listed(ordered) == ["Clocked 2", "Clocked 0"]
    assert '<option value="sla_deadline" selected>' in ordered
    assert f'<input type="hidden" name="flt0_{sla}" value="breached">' in ordered
    set_plugin_enabled("slatest", False)
    assert listed(client.get("/admin/tasks/?order=sla_deadline").text)[0] == "Clocked 3"  # back to the default
