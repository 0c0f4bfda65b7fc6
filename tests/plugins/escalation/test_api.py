"""The API: policies (CRUD, 422 naming the field, escalation.manage), a task's clocks (whoever sees the
task), the preview, the task-list filter and sort, the OpenAPI document and the task page's panel."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Role, utcnow

from .conftest import BOTH_DATABASES

POLICY = {"name": "Helpdesk SLA", "match": {"department_ids": [], "priorities": ["normal", "high"]},
          "time_mode": "calendar", "warn_percent": 80,
          "targets": [{"kind": "resolution", "hours": 8}, {"kind": "first_response", "hours": 1}],
          "levels": [{"delay_minutes": 30, "actions": [{"type": "notify", "to": ["head"]}]}]}


@pytest.fixture
def manager_client(org, api_client):
    role = Role.get(Role.name == "manager")
    role.permissions = [*role.permissions, "escalation.manage"]
    role.save()
    return api_client(user=org.helpdesk_head)


def test_policies_crud_and_validation(org, manager_client, api_client):
    created = manager_client.post("/api/v1/escalation/policies", json=POLICY)
    assert created.status_code == 201, created.json
    policy = created.json
    assert [t["kind"] for t in policy["targets"]] == ["resolution", "first_response"] and policy["revision"] == 1
    assert all("status" not in t for t in policy["targets"])  # only a time-in-status target names one
    assert manager_client.get("/api/v1/escalation/policies").json["items"][0]["id"] == policy["id"]
    changed = manager_client.patch(f"/api/v1/escalation/policies/{policy['id']}", json={"warn_percent": 50})
    assert changed.json["warn_percent"] == 50 and changed.json["revision"] == 2
    cases = [({"targets": []}, "targets"),
             ({"targets": [{"kind": "status_time", "hours": 1}]}, "targets.0.status"),
             ({"targets": [{"kind": "resolution", "hours": -1}]}, "targets.0.hours"),
             ({"targets": [{"kind": "resolution", "hours": 3.2e-184}]}, "targets.0.hours"),  # found by the fuzz
             ({"calendar_id": 999999}, "calendar_id"),
             ({"match": {"department_ids": [999999]}}, "match.department_ids.0"),
             ({"levels": [{"actions": [{"type": "notify"}]}]}, "levels.0.actions.0.to"),
             ({"levels": [{"actions": [{"type": "notify", "to": ["role"], "role": "nobody"}]}]},
              "levels.0.actions.0.role"),
             ({"levels": [{"actions": [{"type": "comment"}]}]}, "levels.0.actions.0.body"),
             ({"name": "x\u0000y"}, "name")]
    for body, field in cases:
        refused = manager_client.patch(f"/api/v1/escalation/policies/{policy['id']}", json=body)
        assert refused.status_code == 422, (body, refused.json)
        assert field in refused.json["error"]["fields"], (body, refused.json)
    agent = api_client(user=org.agent)
    assert agent.get("/api/v1/escalation/policies").status_code == 403
    assert agent.post("/api/v1/escalation/policies", json=POLICY).status_code == 403
    assert manager_client.get("/api/v1/escalation/policies/999999").status_code == 404
    assert manager_client.delete(f"/api/v1/escalation/policies/{policy['id']}").status_code == 204


@BOTH_DATABASES
def test_task_clocks_filters_and_sort(org, manager_client, api_client, make_task, drain_events, make_user, login,
                                      workdesk_app):
    workdesk_app_client = workdesk_app.test_client
    policy = {**POLICY, "targets": [{"kind": "resolution", "hours": 8}, {"kind": "first_response", "hours": 100}]}
    assert manager_client.post("/api/v1/escalation/policies", json=policy).status_code == 201
    now = utcnow()
    titles = {}
    import workdesk.services.tasks as task_services
    original = task_services.utcnow
    try:
        for title, hours_ago in (("Breached", 10), ("At risk", 7), ("Fresh", 0)):
            task_services.utcnow = lambda hours_ago=hours_ago: now - dt.timedelta(hours=hours_ago)
            titles[title] = make_task(org.admin, org.helpdesk, title=title, assignee_id=org.agent.id)
    finally:
        task_services.utcnow = original
    drain_events()
    agent = api_client(user=org.agent)

    def listed(query: str) -> list[str]:
        response = agent.get(f"/api/v1/tasks?{query}")
        assert response.status_code == 200, response.json
        return [item["title"] for item in response.json["items"]]
    assert listed("sla=breached") == ["Breached"]
    assert listed("sla=at_risk") == ["At risk"]
    assert listed("sort=sla_deadline") == ["Breached", "At risk", "Fresh"]
    assert listed("sort=-sla_deadline") == ["Fresh", "At risk", "Breached"]
    assert agent.get("/api/v1/tasks?sla=late").status_code == 422

    # The admin panel's task list and the team pages offer the same filter and sort, on the same clocks.
    import html
    import re

    from flask import current_app
    view = next(v for v in current_app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "admin_tasks")
    sla = next(i for i, flt in enumerate(view._filters) if getattr(flt, "parameter", None) == "sla")
    admin_client = workdesk_app_client()
    login(admin_client, org.admin)

    def admin_listed(query: str) -> list[str]:
        text = admin_client.get(f"/admin/tasks/?{query}").get_data(as_text=True)
        return [html.unescape(t) for t in re.findall(r'<a href="/admin/tasks/details/\?id=\d+[^"]*">([^<]+)</a>', text)]
    assert admin_listed(f"flt0_{sla}=breached") == ["Breached"]
    assert admin_listed(f"flt0_{sla}=at_risk") == ["At risk"]
    assert admin_listed("order=sla_deadline") == ["Breached", "At risk", "Fresh"]
    login(admin_client, org.agent)
    row = re.compile(r'<span class="num">#\d+</span> ([^<]+)</a>')
    assert row.findall(admin_client.get("/search?sla=breached").get_data(as_text=True)) == ["Breached"]
    assert row.findall(admin_client.get("/search?sort=sla_deadline").get_data(as_text=True)) == [
        "Breached", "At risk", "Fresh"]

    task = titles["At risk"]
    clocks = agent.get(f"/api/v1/escalation/tasks/{task.id}")
    assert clocks.status_code == 200
    by_target = {c["target"]: c for c in clocks.json["clocks"]}
    assert set(by_target) == {"resolution", "first_response"}  # every clock, not only the nearest
    assert by_target["resolution"]["at_risk"] and by_target["resolution"]["state"] == "running"
    assert by_target["first_response"]["state"] == "running" and not by_target["first_response"]["at_risk"]
    shown = agent.get(f"/api/v1/tasks/{task.id}").json["plugins"]["escalation"]
    assert shown["policy"]["name"] == "Helpdesk SLA" and len(shown["clocks"]) == 2
    outsider = api_client(role="agent", departments=[org.company], name="Otto Outsider")
    requester = api_client(user=make_user("requester", name="Another Requester"))
    assert requester.get(f"/api/v1/escalation/tasks/{task.id}").status_code == 404
    assert outsider.get("/api/v1/escalation/tasks/999999").status_code == 404


def test_preview_of_a_hypothetical_task(org, manager_client):
    manager_client.post("/api/v1/escalation/policies", json=POLICY)
    preview = manager_client.post("/api/v1/escalation/preview", json={
        "department_id": org.helpdesk.id, "priority": "high", "created_at": "2026-03-02T07:00:00Z"})
    assert preview.status_code == 200, preview.json
    steps = [(s["target"], s["step"], s["at"]) for s in preview.json["steps"]]
    assert ("first_response", "warning", "2026-03-02T07:48:00+00:00") in steps
    assert ("resolution", "breach", "2026-03-02T15:00:00+00:00") in steps
    assert ("resolution", "level 1", "2026-03-02T15:30:00+00:00") in steps
    assert manager_client.post("/api/v1/escalation/preview", json={"priority": "low"}).json["policy"] is None
    assert manager_client.post("/api/v1/escalation/preview", json={"created_at": "soon"}).status_code == 422


def test_openapi_and_the_task_page_panel(org, manager_client, client, login, make_task, drain_events):
    manager_client.post("/api/v1/escalation/policies", json=POLICY)
    paths = manager_client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/escalation/policies" in paths and "/api/v1/escalation/tasks/{task_id}" in paths
    task = make_task(org.admin, org.helpdesk, title="Printer")
    drain_events()
    login(client, org.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "escalation-sla" in page and "Helpdesk SLA" in page and "First response" in page
    listed = client.get("/search?sla=at_risk&sort=sla_deadline")  # the team pages offer the same filter and sort
    assert listed.status_code == 200 and "Printer" not in listed.text  # filed just now: not at risk


def test_due_date_reminders_without_a_policy(org, file_task, tick, escalation):
    from workdesk import Notification
    task = file_task("2026-03-02T07:00Z", assignee_id=org.agent.id, due_at=dt.datetime(2026, 3, 3, 12, tzinfo=dt.timezone.utc))
    tick("2026-03-02T11:00Z")
    tick("2026-03-02T12:00Z")  # one day before
    tick("2026-03-02T12:30Z")
    tick("2026-03-03T11:00Z")  # one hour before
    tick("2026-03-03T11:30Z")
    reminders = Notification.select().where((Notification.recipient == org.agent)
                                            & (Notification.kind == "escalation.reminder"))
    assert reminders.count() == 2 and f"#{task.number}" in reminders.first().subject
