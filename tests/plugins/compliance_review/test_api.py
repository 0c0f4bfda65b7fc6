"""/api/v1/compliance: policies CRUD with validation, a task's review, decisions, resubmit, expedite, the queue,
the log; the OpenAPI document; permissions and plugin gating."""
from __future__ import annotations

import pytest

from workdesk.registry import set_plugin_enabled

from .conftest import people_stage

BASE = "/api/v1/compliance"
both_databases = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def manager_api(org, api_client):
    return api_client(user=org.admin)


def policy_body(org, **changes):
    return {"name": "Purchases", "match": {"types": ["purchase"], "priorities": ["high", "urgent"]},
            "restart_from": "rejecting_stage",
            "steps": [{"stages": [{"name": "Cost", "approver_kind": "department_members",
                                   "approver_department_id": org.finance.id, "pass_rule": "count", "pass_count": 2,
                                   "deadline_hours": 8, "timeout_action": "notify_escalate"}]},
                      {"stages": [{"name": "Sign-off", "approver_kind": "top_department_head"},
                                  {"name": "Security", "approver_kind": "people",
                                   "approver_user_ids": [org.engineer.id], "skippable_when_urgent": True}]}],
            **changes}


@both_databases
def test_policy_crud(org, manager_api):
    created = manager_api.post(f"{BASE}/policies", json=policy_body(org))
    assert created.status_code == 201, created.json
    policy = created.json
    assert [[s["name"] for s in step["stages"]] for step in policy["steps"]] == [["Cost"], ["Sign-off", "Security"]]
    assert policy["steps"][0]["stages"][0]["pass_count"] == 2 and policy["restart_from"] == "rejecting_stage"
    assert manager_api.get(f"{BASE}/policies").json["items"][0]["id"] == policy["id"]
    changed = manager_api.patch(f"{BASE}/policies/{policy['id']}", json={"active": False, "match": {"impacts": ["major"]}})
    assert changed.status_code == 200
    assert changed.json["active"] is False
    assert changed.json["match"]["priorities"] == ["high", "urgent"] and changed.json["match"]["impacts"] == ["major"]
    assert len(changed.json["steps"]) == 2  # steps not sent: kept
    replaced = manager_api.patch(f"{BASE}/policies/{policy['id']}", json={"steps": [{"stages": [
        {"name": "Only", "approver_kind": "task_department_head"}]}]})
    assert [s["name"] for step in replaced.json["steps"] for s in step["stages"]] == ["Only"]
    assert manager_api.delete(f"{BASE}/policies/{policy['id']}").status_code == 204
    missing = manager_api.get(f"{BASE}/policies/{policy['id']}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("change, field, message", [
    ({"steps": []}, "steps", "Length must be between 1 and 50."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "people"}]}]}, "steps.0.stages.0.approver_user_ids",
     "Name at least one person."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "role", "approver_role": "agent"}]}]},
     "steps.0.stages.0.approver_role", "The role agent does not grant compliance.review; add it to the role first."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "department_head"}]}]},
     "steps.0.stages.0.approver_department_id", "No department with id None."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "task_department_head", "pass_rule": "count"}]}]},
     "steps.0.stages.0.pass_count", "Give how many approvals pass the stage (1 or more)."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "task_department_head", "deadline_hours": 4}]}]},
     "steps.0.stages.0.timeout_action", "Choose what happens at the deadline: notify_escalate, reassign, approve, reject."),
    ({"steps": [{"stages": [{"name": "X", "approver_kind": "task_department_head", "timeout_action": "approve"}]}]},
     "steps.0.stages.0.timeout_action", "A timeout action needs a deadline."),
    ({"match": {"priorities": ["someday"]}}, "match.priorities.0", "Must be one of: low, normal, high, urgent."),
    ({"match": {"department_ids": [999999]}}, "match.department_ids", "No department with id 999999."),
    ({"match": {"fields": {"amount": []}}}, "match.fields",
     "amount: give a non-empty list of accepted values (text, numbers, true or false)."),
    ({"name": "x" * 201}, "name", "Length must be between 1 and 200."),
    ({"restart_from": "middle"}, "restart_from", "Must be one of: first_stage, rejecting_stage."),
])
def test_invalid_policies_are_refused_naming_the_field(org, manager_api, change, field, message):
    answer = manager_api.post(f"{BASE}/policies", json=policy_body(org, **change))
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["fields"][field] == [message]
    assert manager_api.get(f"{BASE}/policies").json["items"] == []


@both_databases
def test_duplicate_names_and_permissions(org, manager_api, api_client):
    assert manager_api.post(f"{BASE}/policies", json=policy_body(org)).status_code == 201
    again = manager_api.post(f"{BASE}/policies", json=policy_body(org))
    assert again.status_code == 422 and again.json["error"]["fields"]["name"] == ["A policy with this name exists already."]
    agent = api_client("agent")
    refused = agent.post(f"{BASE}/policies", json=policy_body(org, name="Other"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert agent.get(f"{BASE}/policies").status_code == 403
    assert agent.get(f"{BASE}/decisions", query_string={"since": "2026-01-01T00:00Z",
                                                       "until": "2026-02-01T00:00Z"}).status_code == 403


@both_databases
def test_review_decisions_queue_and_log_through_the_api(org, make_policy, file_task, api_client, manager_api):
    make_policy([people_stage("Cost", [org.finance_head]), people_stage("Sign-off", [org.ceo])],
                restart_from="rejecting_stage")
    task = file_task()
    finance = api_client(user=org.finance_head)
    queue = finance.get(f"{BASE}/queue").json["items"]
    assert [(i["task_id"], i["stage"], i["policy"]) for i in queue] == [(task.id, "Cost", "Purchases")]
    review = finance.get(f"{BASE}/tasks/{task.id}/review").json
    assert review["status"] == "in_review" and review["waiting_for"] == ["Fay Finance-Head"]
    assert review["you_decide"] == [review["stages"][0]["id"]]
    no_comment = finance.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "reject"})
    assert no_comment.status_code == 422 and no_comment.json["error"]["fields"]["comment"]
    rejected = finance.post(f"{BASE}/tasks/{task.id}/review/decisions",
                            json={"decision": "reject", "comment": "=HYPERLINK(\"http://x\")"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    reporter = api_client(user=org.reporter)
    assert reporter.get(f"/api/v1/tasks/{task.id}").json["status"] == "open"
    plugin_data = reporter.get(f"/api/v1/tasks/{task.id}").json["plugins"]["compliance_review"]
    assert plugin_data["status"] == "rejected" and plugin_data["policy"] == "Purchases"
    not_yours = finance.post(f"{BASE}/tasks/{task.id}/review/resubmit")
    assert not_yours.status_code == 403
    resubmitted = reporter.post(f"{BASE}/tasks/{task.id}/review/resubmit")
    assert resubmitted.status_code == 200 and resubmitted.json["round"] == 2
    twice = reporter.post(f"{BASE}/tasks/{task.id}/review/resubmit")
    assert twice.status_code == 409 and twice.json["error"]["code"] == "conflict"
    approved = finance.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "approve"})
    assert approved.json["stages"][1]["state"] == "active"
    not_approver = reporter.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "approve"})
    assert not_approver.status_code == 403
    expedite = reporter.post(f"{BASE}/tasks/{task.id}/review/expedite", json={"reason": "Hurry."})
    assert expedite.status_code == 403
    log = manager_api.get(f"{BASE}/decisions", query_string={"since": "2000-01-01T00:00Z", "until": "2100-01-01T00:00Z",
                                                            "limit": 3})
    assert log.status_code == 200 and len(log.json["items"]) == 3 and log.json["next_cursor"]
    rest = manager_api.get(f"{BASE}/decisions", query_string={"since": "2000-01-01T00:00Z", "until": "2100-01-01T00:00Z",
                                                             "cursor": log.json["next_cursor"], "limit": 200})
    actions = [d["action"] for d in log.json["items"] + rest.json["items"]]
    assert actions == ["started", "reject", "stage_rejected", "resubmitted", "approve", "stage_approved"]
    backwards = manager_api.get(f"{BASE}/decisions", query_string={"since": "2026-02-01T00:00Z",
                                                                  "until": "2026-01-01T00:00Z"})
    assert backwards.status_code == 422 and backwards.json["error"]["fields"]["until"]
    beyond_utc = manager_api.get(f"{BASE}/decisions", query_string={"since": "2026-01-01T00:00Z",
                                                                   "until": "9999-12-31T23:59:59-14:00"})
    assert beyond_utc.status_code == 422
    assert beyond_utc.json["error"]["fields"]["until"] == ["Lies beyond the years 1 to 9999 in UTC."]


def test_someone_who_cannot_see_the_task_gets_404(org, make_policy, file_task, api_client):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task()
    outsider = api_client("agent")
    for method, path in (("get", "review"), ("post", "review/resubmit")):
        answer = getattr(outsider, method)(f"{BASE}/tasks/{task.id}/{path}")
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_the_openapi_document_lists_the_endpoints_while_enabled(org, client, workdesk_app):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = {path for path in document["paths"] if path.startswith(BASE)}
    assert paths == {f"{BASE}/policies", f"{BASE}/policies/{{policy_id}}", f"{BASE}/policies/templates/change-request",
                     f"{BASE}/tasks/{{task_id}}/review", f"{BASE}/tasks/{{task_id}}/review/decisions",
                     f"{BASE}/tasks/{{task_id}}/review/resubmit", f"{BASE}/tasks/{{task_id}}/review/expedite",
                     f"{BASE}/queue", f"{BASE}/decisions"}
    decide = document["paths"][f"{BASE}/tasks/{{task_id}}/review/decisions"]["post"]
    assert decide["x-workdesk-plugin"] == "compliance_review" and "409" in decide["responses"]
    set_plugin_enabled("compliance_review", False)
    document = client.get("/api/v1/openapi.json").get_json()
    assert not [path for path in document["paths"] if path.startswith(BASE)]


def test_messages_follow_the_readers_language(org, make_policy, file_task, api_client):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task()
    reporter = api_client(user=org.reporter)
    reporter.patch(f"/api/v1/tasks/{task.id}", json={"status": "open"})
    reporter.patch(f"/api/v1/tasks/{task.id}", json={"status": "in_progress"})
    answer = reporter.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"}, headers={"Accept-Language": "de"})
    assert answer.status_code == 409
    assert answer.json["error"]["message"].endswith(
        "Die Prüfung „Purchases“ ist nicht abgeschlossen: die Stufe „Cost“ wartet auf Fay Finance-Head.")
    finance = api_client(user=org.finance_head)
    refused = finance.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "reject"},
                           headers={"Accept-Language": "bg"})
    assert refused.json["error"]["fields"]["comment"] == ["Обяснете защо: нужна е писмена причина."]
