"""/api/v1/recurring/rules: CRUD, lifecycle, preview, 422s naming the field, OpenAPI, plugin gating."""
from __future__ import annotations

import pytest

from workdesk.auth import issue_token
from workdesk.registry import set_plugin_enabled

RULES = "/api/v1/recurring/rules"


@pytest.fixture
def api(client, team):
    token = issue_token(team["admin"])

    class Api:
        def __getattr__(self, method):
            def call(url, **kwargs):
                return getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            return call
    return Api()


@pytest.fixture
def body(team):
    return {"title": "Fire extinguisher check", "department_id": team["department"].id, "timezone": "Europe/Sofia",
            "dtstart": "2026-01-06T09:00", "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "due_after_minutes": 2880,
            "assign_mode": "round_robin", "assignee_ids": [a.id for a in team["agents"]]}


def test_crud_and_lifecycle(api, body):
    created = api.post(RULES, json=body)
    assert created.status_code == 201, created.json
    rule = created.json
    assert rule["sentence"] == "every 2 weeks on Tuesday at 9:00\u202fAM, Europe/Sofia"
    assert rule["status"] == "active" and rule["next_run_at"]
    assert api.get(RULES).json["items"][0]["id"] == rule["id"]
    assert api.get(f"{RULES}/{rule['id']}").json["title"] == "Fire extinguisher check"

    changed = api.patch(f"{RULES}/{rule['id']}", json={"title": "Extinguishers", "exdates": ["2099-01-06T09:00"]})
    assert changed.status_code == 200 and changed.json["title"] == "Extinguishers"
    assert changed.json["sentence"].endswith("except 1 date")

    assert api.post(f"{RULES}/{rule['id']}/pause").json["status"] == "paused"
    assert api.get(RULES, query_string={"status": "paused"}).json["items"][0]["id"] == rule["id"]
    assert api.post(f"{RULES}/{rule['id']}/resume").json["status"] == "active"
    assert api.post(f"{RULES}/{rule['id']}/end").json["status"] == "ended"
    refused = api.post(f"{RULES}/{rule['id']}/pause")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "conflict"

    assert api.delete(f"{RULES}/{rule['id']}").status_code == 204
    missing = api.get(f"{RULES}/{rule['id']}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_preview_lists_local_times(api, body):
    body = {**body, "dtstart": "2099-03-17T09:00", "rrule": "FREQ=WEEKLY;BYDAY=TU"}
    rule = api.post(RULES, json=body).json
    preview = api.get(f"{RULES}/{rule['id']}/preview", query_string={"count": 3})
    assert preview.status_code == 200
    assert preview.json["sentence"] == "every Tuesday at 9:00\u202fAM, Europe/Sofia"
    # 2099-03-29 is the spring change in Sofia: 09:00 local stays 09:00, the offset changes.
    assert [o["local"] for o in preview.json["occurrences"]] == [
        "2099-03-17T09:00:00+02:00", "2099-03-24T09:00:00+02:00", "2099-03-31T09:00:00+03:00"]
    too_many = api.get(f"{RULES}/{rule['id']}/preview", query_string={"count": 1000})
    assert too_many.status_code == 422 and "count" in too_many.json["error"]["fields"]


@pytest.mark.parametrize("change, field, message", [
    ({"rrule": "FREQ=SOMETIMES"}, "rrule", "FREQ must be one of"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=FUNDAY"}, "rrule", "Not a valid RFC 5545 RRULE"),
    ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
    ({"dtstart": "tomorrow"}, "dtstart", "local date and time"),
    ({"department_id": 99999}, "department_id", "No department"),
    ({"priority": "whenever"}, "priority", "Must be one of"),
    ({"assign_mode": "fixed", "assignee_ids": []}, "assignee_ids", "exactly one"),
    ({"assignee_ids": [99999]}, "assignee_ids", "No user"),
    ({"title": ""}, "title", "Length"),
    ({"catch_up": "maybe"}, "catch_up", "Must be one of"),
    ({"rrule": "FREQ=MINUTELY"}, "rrule", "INTERVAL=5"),
    # values beyond what the database can hold or pages can render (#11 item 14)
    ({"watcher_ids": [2**63]}, "watcher_ids.0", "less than or equal to 2147483647"),
    ({"assignee_ids": [10**20]}, "assignee_ids.0", "less than or equal to 2147483647"),
    ({"department_id": 2**63}, "department_id", "less than or equal to 2147483647"),
    ({"due_after_minutes": 10**20}, "due_after_minutes", "less than or equal"),
    ({"timezone": "Factory"}, "timezone", "IANA"),
    ({"timezone": "posix/Europe/Sofia"}, "timezone", "IANA"),
    ({"title": "\ud800"}, "title", "valid Unicode"),
    ({"description": "a\x00b"}, "description", "NUL"),
])
def test_invalid_input_is_422_naming_the_field(api, body, change, field, message):
    response = api.post(RULES, json={**body, **change})
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert any(message.lower() in m.lower() for m in error["fields"][field]), error


def test_missing_fields_and_bad_json(api):
    response = api.post(RULES, json={})
    assert response.status_code == 422
    assert {"title", "department_id", "dtstart", "rrule"} <= set(response.json["error"]["fields"])
    broken = api.post(RULES, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json["error"]["code"] == "bad_request"


def test_permission_and_authentication(client, team, body):
    anonymous = client.get(RULES)
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "unauthorized"
    token = issue_token(team["agents"][0])
    refused = client.post(RULES, json=body, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and refused.json["error"]["permission"] == "recurring.manage"
    assert refused.json["error"]["message"] == ("Your role does not allow this: “Create, change, pause and end "
                                                "recurring task rules”.")


def test_in_the_openapi_document_and_gone_while_disabled(api, client):
    document = client.get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(document["paths"]["/api/v1/recurring/rules"])
    assert "get" in document["paths"]["/api/v1/recurring/rules/{rule_id}/preview"]
    set_plugin_enabled("recurring", False)
    gone = api.get(RULES)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    assert "/api/v1/recurring/rules" not in client.get("/api/v1/openapi.json").json["paths"]
