"""The admin panel: the policy form validates through the same rules as the API (the message next to the
field), the preview shows every step with its instant, a recompute shows its progress; a scan interrupted
mid-way fires nothing twice when run again."""
from __future__ import annotations

import json
import re

import pytest

from workdesk import TaskEvent
from workdesk.plugins.escalation.models import Firing, Policy, Recompute


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_admin_policy_form_preview_and_recompute(org, client, login, file_task):
    login(client, org.admin)
    new = "/admin/escalation/policies/new/"
    data = {"csrf_token": csrf(client, new), "name": "Helpdesk SLA", "active": "y", "position": "0",
            "match_departments": str(org.helpdesk.id), "include_subdepartments": "y", "match_types": "",
            "match_impacts": "", "time_mode": "working", "calendar_id": "", "pausing_statuses": "waiting",
            "warn_percent": "80", "targets_json": json.dumps([{"kind": "status_time", "hours": 2}]),
            "levels_json": "[]"}
    refused = client.post(new, data=data).get_data(as_text=True)
    assert "A time-in-status target names its status." in refused and Policy.select().count() == 0
    broken = client.post(new, data={**data, "targets_json": "not json"}).get_data(as_text=True)
    assert "Write a JSON list." in broken
    chain = [{"delay_minutes": 30, "actions": [{"type": "notify", "to": ["head"]}]}]
    created = client.post(new, data={**data, "targets_json": json.dumps([{"kind": "resolution", "hours": 8}]),
                                     "levels_json": json.dumps(chain)})
    assert created.status_code == 302, created.get_data(as_text=True)
    policy = Policy.get(Policy.name == "Helpdesk SLA")
    edit = client.get(f"/admin/escalation/policies/edit/?id={policy.id}").get_data(as_text=True)
    assert "resolution" in edit and "delay_minutes" in edit

    preview = "/admin/escalation/preview/"
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "department_id": str(org.helpdesk.id),
                                      "type": "task", "priority": "normal", "impact": "",
                                      "created_at": "2026-03-02T09:00"}).get_data(as_text=True)
    assert "Helpdesk SLA" in page and "level 1" in page and "breach" in page
    task = file_task("2026-03-02T07:00Z")
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "task_number": str(task.number),
                                      "priority": "normal"}).get_data(as_text=True)
    assert "warning" in page
    missing = client.post(preview, data={"csrf_token": csrf(client, preview), "task_number": "999999",
                                         "priority": "normal"}).get_data(as_text=True)
    assert "No such task." in missing
    asked = client.post(f"{preview}recompute/", data={"csrf_token": csrf(client, preview)})
    assert asked.status_code == 302 and Recompute.select().where(Recompute.finished_at.is_null()).count() >= 1
    assert "asked in the admin panel" in client.get(preview).get_data(as_text=True)
    queued = Recompute.select().count()
    assert client.post(f"{preview}recompute/", data={}).status_code == 400  # no CSRF token: refused
    assert Recompute.select().count() == queued


def test_only_managers_of_policies_reach_the_admin_views(org, client, login, make_user):
    login(client, org.agent)
    assert client.get("/admin/escalation/policies/").status_code in (403, 404)
    assert client.get("/admin/escalation/preview/").status_code in (403, 404)


def test_a_scan_interrupted_mid_way_fires_nothing_twice(org, make_policy, file_task, tick, monkeypatch):
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=0,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}])
    tasks = [file_task("2026-03-02T07:00Z", title=f"Outage {n}") for n in range(3)]
    from workdesk.plugins.escalation import scan as scanning
    original = scanning.insert_rows

    def crash(model, rows, *args, **kwargs):
        if model is TaskEvent:
            raise RuntimeError("the worker was killed here")
        return original(model, rows, *args, **kwargs)
    monkeypatch.setattr(scanning, "insert_rows", crash)
    with pytest.raises(RuntimeError):
        scanning.scan(scanning.dt.datetime(2026, 3, 2, 9, tzinfo=scanning.dt.timezone.utc))
    assert Firing.select().count() == 0  # the whole batch rolled back: nothing half-fired
    monkeypatch.setattr(scanning, "insert_rows", original)
    tick("2026-03-02T09:00Z")
    tick("2026-03-02T09:01Z")
    for task in tasks:
        assert sorted(f.step for f in Firing.select().where(Firing.task_id == task.id)) == [1, 2]
