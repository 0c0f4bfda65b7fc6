"""The API (rules CRUD, preview, batches, OpenAPI), the admin views, batch dispatch and the report metric."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from workdesk import ReportScope, Task, ValidationFailed, contributed_metrics, utcnow, write_transaction
from workdesk.registry import PluginState
from workdesk.plugins.dispatch.models import Batch, Rule
from workdesk.services import absences

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_rules_crud_through_the_api_with_errors_in_the_house_format(team, api_client, client):
    admin = api_client(user=team["admin"])
    agents = team["agents"]
    created = admin.post("/api/v1/dispatch/rules", json={
        "name": "Urgent", "position": 5, "priorities": ["urgent"], "pool": "people",
        "pool_user_ids": [agents[0].id], "strategy": "round_robin", "cap": 3})
    assert created.status_code == 201, created.json
    rule_id = created.json["id"]
    assert created.json["priorities"] == ["urgent"] and created.json["cap"] == 3
    listed = admin.get("/api/v1/dispatch/rules").json["items"]
    assert [r["name"] for r in listed] == ["Urgent"]
    changed = admin.patch(f"/api/v1/dispatch/rules/{rule_id}", json={"strategy": "least_loaded", "cap": None})
    assert changed.status_code == 200 and changed.json["strategy"] == "least_loaded" and changed.json["cap"] is None
    for body, field, message in [
        ({"name": "X", "pool": "people", "pool_user_ids": [999999]}, "pool_user_ids", "No user with id 999999"),
        ({"name": "X", "pool": "role"}, "pool_role_id", "Name the role"),
        ({"name": "X", "pool": "skills"}, "skills", "Name the skill tags"),
        ({"name": "X", "strategy": "coin_toss"}, "strategy", None),
        ({"name": "X", "department_id": 2 ** 40}, "department_id", None),
        ({"name": "\u0000"}, "name", None),
    ]:
        refused = admin.post("/api/v1/dispatch/rules", json=body)
        assert refused.status_code == 422, (body, refused.json)
        assert set(refused.json["error"]) == {"code", "message", "fields"} and field in refused.json["error"]["fields"]
        if message:
            assert message in refused.json["error"]["fields"][field][0]
    assert admin.get("/api/v1/dispatch/rules/999999").status_code == 404
    assert api_client(user=agents[0]).get("/api/v1/dispatch/rules").status_code == 403
    assert admin.delete(f"/api/v1/dispatch/rules/{rule_id}").status_code == 204
    assert Rule.select().count() == 0
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/dispatch/rules", "/api/v1/dispatch/preview", "/api/v1/dispatch/batch"} <= set(paths)


def test_preview_says_who_and_why_not_the_others(team, make_rule, api_client, make_task):
    agents = team["agents"]
    make_rule(cap=1, pool_user_ids=[a.id for a in agents] + [team["outsider"].id])
    make_task(team["head"], team["department"], assignee_id=agents[0].id)
    absences.create_absence(team["admin"], user_id=agents[1].id, starts_at=utcnow() - dt.timedelta(hours=1),
                            ends_at=utcnow() + dt.timedelta(hours=1))
    answer = api_client(user=team["admin"]).post("/api/v1/dispatch/preview",
                                                 json={"department_id": team["department"].id}).json
    assert answer["rule"]["name"] == "Support" and answer["chosen"]["user_id"] == agents[2].id
    why = {c["user_id"]: c["filtered"] for c in answer["candidates"]}
    assert why == {agents[0].id: "at_cap", agents[1].id: "absent", agents[2].id: None, agents[3].id: None,
                   team["outsider"].id: "not_allowed"}
    assert Task.select().count() == 1  # a preview assigns nothing
    none = api_client(user=team["admin"]).post("/api/v1/dispatch/preview",
                                               json={"department_id": team["warehouse"].id}).json
    assert none["rule"] is None and none["candidates"] == []


@BOTH_DATABASES
def test_batch_dispatch_per_member_and_per_team(team, make_rule, api_client, make_user):
    agents = team["agents"]
    absences.create_absence(team["admin"], user_id=agents[3].id, starts_at=utcnow() - dt.timedelta(hours=1),
                            ends_at=utcnow() + dt.timedelta(hours=1))
    admin = api_client(user=team["admin"])
    template = {"title": "Daily equipment inspection", "priority": "high", "due_in_hours": 8}
    per_member = admin.post("/api/v1/dispatch/batch", json={"template": template, "per": "member",
                                                           "department_ids": [team["department"].id,
                                                                              team["warehouse"].id]})
    assert per_member.status_code == 201, per_member.json
    got = sorted(t["assignee_id"] for t in per_member.json["created"])
    assert got == sorted([team["head"].id, *[a.id for a in agents[:3]], team["outsider"].id])
    assert per_member.json["skipped"] == [{"department_id": team["department"].id, "user_id": agents[3].id,
                                           "reason": "absent"}]
    assert Task.select().where(Task.title == "Daily equipment inspection", Task.priority == "high").count() == 5
    make_rule(strategy="round_robin")
    per_team = admin.post("/api/v1/dispatch/batch", json={"template": {"title": "Team check"}, "per": "team",
                                                         "department_ids": [team["operations"].id],
                                                         "include_subdepartments": True})
    assert per_team.status_code == 201
    by_department = {t["department_id"]: t["assignee_id"] for t in per_team.json["created"]}
    assert by_department == {team["operations"].id: None, team["department"].id: agents[0].id}
    refused = admin.post("/api/v1/dispatch/batch", json={"template": {"title": ""}, "department_ids": [1]})
    assert refused.status_code == 422 and "template.title" in refused.json["error"]["fields"]


def test_saved_batch_runs_once_a_day_at_its_local_time(team, api_client, run_jobs, make_department):
    admin = api_client(user=team["admin"])
    saved = admin.post("/api/v1/dispatch/batches", json={
        "name": "Morning inspection", "template": {"title": "Inspect the forklifts"},
        "department_ids": [team["warehouse"].id], "daily_at": "07:30", "timezone": "Europe/Sofia"})
    assert saved.status_code == 201, saved.json
    inspections = Task.select().where(Task.title == "Inspect the forklifts")
    run_jobs("2026-03-02T05:00:00+00:00")  # 07:00 in Sofia
    assert inspections.count() == 0
    run_jobs("2026-03-02T05:31:00+00:00")
    run_jobs("2026-03-02T09:00:00+00:00")
    assert inspections.count() == 1 and Batch.get().last_run_on == "2026-03-02"
    run_jobs("2026-03-03T05:35:00+00:00")
    assert inspections.count() == 2
    assert admin.post(f"/api/v1/dispatch/batches/{saved.json['id']}/run").status_code == 201
    assert inspections.count() == 3
    # a batch whose department is gone is recorded against the plugin and skipped for the day; others run
    gone = make_department("Closed depot")
    admin.post("/api/v1/dispatch/batches", json={"name": "Depot", "template": {"title": "Depot check"},
                                                 "department_ids": [gone.id], "daily_at": "05:00"})
    with write_transaction():
        gone.delete_instance()
    run_jobs("2026-03-04T05:35:00+00:00")
    assert inspections.count() == 4
    assert "was not run on 2026-03-04" in PluginState.get(PluginState.name == "dispatch").last_error
    bad = admin.post("/api/v1/dispatch/batches", json={"name": "X", "template": {"title": "T"},
                                                      "department_ids": [team["warehouse"].id], "daily_at": "7am"})
    assert bad.status_code == 422 and "daily_at" in bad.json["error"]["fields"]
    # on working days only: the Saturday (local) passes, the Monday runs
    changed = admin.patch(f"/api/v1/dispatch/batches/{saved.json['id']}", json={"weekdays": [5, 1, 2, 3, 4, 1]})
    assert changed.status_code == 200 and changed.json["weekdays"] == [1, 2, 3, 4, 5]
    run_jobs("2026-03-07T05:35:00+00:00")  # Saturday 07:35 in Sofia
    assert inspections.count() == 4
    run_jobs("2026-03-09T05:35:00+00:00")  # Monday
    assert inspections.count() == 5
    for weekdays in ([0], [8], ["1"], [True], "1-5"):
        bad = admin.patch(f"/api/v1/dispatch/batches/{saved.json['id']}", json={"weekdays": weekdays})
        assert bad.status_code == 422, weekdays
        assert [f.partition(".")[0] for f in bad.json["error"]["fields"]] == ["weekdays"], weekdays
    from workdesk.plugins.dispatch import batch as batches
    with pytest.raises(ValidationFailed) as refused:  # the service refuses what the API's schema would
        batches.save_batch(team["admin"], {"weekdays": [9]}, Batch.get_by_id(saved.json["id"]))
    assert refused.value.fields["weekdays"] == ["Days of the week as numbers from 1 (Monday) to 7 (Sunday); "
                                                "empty: every day."]


def test_admin_rules_preview_and_batch(team, client, login, make_rule):
    login(client, team["admin"])
    url = "/admin/dispatch/rules/new/"
    agents = team["agents"]
    created = client.post(url, data={
        "csrf_token": csrf(client, url), "name": "Printers", "position": "3", "enabled": "y",
        "department_id": str(team["department"].id), "types": "incident", "priorities": "high, urgent",
        "impacts": "", "fields": "site = Sofia", "pool": "people", "pool_department_id": "", "pool_role_id": "",
        "pool_user_ids": f"{agents[1].id}, {agents[2].id}", "skills": "", "strategy": "round_robin", "cap": ""})
    assert created.status_code == 302, created.get_data(as_text=True)[:3000]
    rule = Rule.get(Rule.name == "Printers")
    assert rule.priorities == ["high", "urgent"] and rule.fields == {"site": "Sofia"}
    assert rule.pool_user_ids == [agents[1].id, agents[2].id]
    assert "Printers" in client.get("/admin/dispatch/rules/").get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": csrf(client, url), "name": "Bad", "position": "1",
                                     "pool": "people", "pool_user_ids": "999999", "strategy": "least_loaded",
                                     "department_id": "", "pool_department_id": "", "pool_role_id": ""})
    assert refused.status_code == 200 and "No user with id 999999" in refused.get_data(as_text=True)
    preview = "/admin/dispatch/preview/"
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "department_id": str(team["department"].id),
                                      "type": "incident", "priority": "high", "impact": "", "fields": "site = Sofia"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Would go to {agents[1].name}" in html
    assert client.post(preview, data={"department_id": str(team["department"].id)}).status_code == 400  # no CSRF
    batch = "/admin/dispatch/batch/"
    sent = client.post(batch, data={"csrf_token": csrf(client, batch), "title": "Inventory", "priority": "normal",
                                    "department_ids": str(team["warehouse"].id), "per": "member"})
    assert sent.status_code == 200 and Task.select().where(Task.title == "Inventory").count() == 1
    login(client, team["agents"][0])
    assert client.get(preview).status_code in (403, 404)


@BOTH_DATABASES
def test_failures_metric_counts_unplaced_tasks_by_reason_and_department(team, make_rule, make_task, enable_plugin):
    agents = team["agents"]
    make_rule(pool_user_ids=[agents[0].id], cap=1)
    make_rule(name="Warehouse", department_id=team["warehouse"].id, pool_user_ids=[agents[0].id])
    for _ in range(3):
        make_task(team["head"], team["department"])  # one placed, two at the cap
    make_task(team["admin"], team["warehouse"])  # not allowed there: no pool
    metric = next(m for m in contributed_metrics() if m.key == "dispatch.failures")
    now = utcnow()

    def compute(task_query, start=now - dt.timedelta(days=1)):
        return [dict(r) for r in metric.compute(ReportScope(
            start=start, end=now + dt.timedelta(minutes=1), viewer=team["admin"], zone=ZoneInfo("UTC"),
            department_ids=None, task_query=task_query)).rows]

    rows = compute(Task.select())
    assert rows == [{"reason": "Everyone in the pool is at their cap", "department": "Support", "tasks": 2},
                    {"reason": "The rule's pool has nobody who may work the department's tasks",
                     "department": "Warehouse", "tasks": 1}]
    assert compute(Task.select().where(Task.department == team["warehouse"].id)) == rows[1:]
    assert compute(Task.select(), start=now + dt.timedelta(seconds=30)) == []


HOSTILE = ["99999999999999999999", "-1", "\x00", "\ud800", "x" * 25000, "9" * 5000, "", "<script>", "a = \x00",
           "1,99999999999999999999", "²"]


def test_hostile_values_on_the_rule_form_and_the_pages_never_answer_500(team, client, login):
    login(client, team["admin"])
    good = {"name": "Printers", "position": "3", "enabled": "y", "department_id": str(team["department"].id),
            "types": "incident", "priorities": "high", "impacts": "", "fields": "site = Sofia", "pool": "people",
            "pool_department_id": "", "pool_role_id": "", "pool_user_ids": str(team["agents"][0].id), "skills": "",
            "strategy": "round_robin", "cap": "2"}
    batch = {"title": "Inventory", "description": "", "priority": "normal", "due_in_hours": "",
             "department_ids": str(team["warehouse"].id), "per": "member"}
    preview = {"department_id": str(team["department"].id), "type": "task", "priority": "normal", "impact": "",
               "fields": ""}
    for url, form in (("/admin/dispatch/rules/new/", good), ("/admin/dispatch/batch/", batch),
                      ("/admin/dispatch/preview/", preview)):
        token = csrf(client, url)
        for field in form:
            for value in HOSTILE:
                # lone surrogates travel as the bytes a careless client would send
                body = urlencode({**form, field: value, "csrf_token": token}, encoding="utf-8", errors="surrogatepass")
                answer = client.post(url, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")
                assert answer.status_code < 500, (url, field, value[:20])


@BOTH_DATABASES
def test_batch_dispatch_per_shift_group_on_duty(team, api_client, enable_plugin, make_department, make_user):
    enable_plugin("duty_roster")
    from workdesk.plugins.duty_roster import services as duty
    agents, support, warehouse = team["agents"], team["department"], team["warehouse"]
    yesterday = (utcnow().date() - dt.timedelta(days=1)).isoformat()

    def rotation(department, name, members):
        duty.create_rotation(team["admin"], {"department_id": department.id, "name": name, "member_ids": members,
                                             "shift_length": 1, "shift_unit": "weeks", "timezone": "UTC",
                                             "start_date": yesterday})
    rotation(support, "Line 1", [agents[0].id, agents[3].id])
    rotation(support, "Line 2", [agents[1].id])
    depot = make_department("Depot")
    keeper = make_user("agent", departments=[depot], name="Kim Keeper")
    rotation(depot, "Depot", [keeper.id])
    absences.create_absence(team["admin"], user_id=keeper.id, starts_at=utcnow() - dt.timedelta(hours=1),
                            ends_at=utcnow() + dt.timedelta(hours=1))
    answer = api_client(user=team["admin"]).post("/api/v1/dispatch/batch", json={
        "template": {"title": "Shift inspection"}, "per": "shift",
        "department_ids": [support.id, warehouse.id, depot.id]})
    assert answer.status_code == 201, answer.json
    # one task per shift group covering Support now, to whoever covers it; nobody else in Support gets one
    assert sorted((t["department_id"], t["assignee_id"]) for t in answer.json["created"]) == sorted(
        [(support.id, agents[0].id), (support.id, agents[1].id)])
    # the Warehouse keeps no roster; the Depot's only person on its rota is away, so nobody covers it (the
    # roster leaves absent people out): no task, and each says why
    assert sorted(answer.json["skipped"], key=lambda s: s["department_id"]) == sorted([
        {"department_id": warehouse.id, "user_id": None, "reason": "no_roster"},
        {"department_id": depot.id, "user_id": None, "reason": "nobody_on_duty"}], key=lambda s: s["department_id"])
    assert Task.select().where(Task.title == "Shift inspection").count() == 2
