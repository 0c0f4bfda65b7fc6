"""/api/v1/duty: who is on duty, shifts, rotations CRUD with 422s naming the field, overrides,
permissions (members see their department's roster, others 404), OpenAPI, disable/enable keeping rosters."""
from __future__ import annotations

import pytest

from workdesk.registry import set_plugin_enabled

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
ROTATIONS = "/api/v1/duty/rotations"


@pytest.fixture
def body(team):
    return {"department_id": team["department"].id, "name": "Primary", "member_ids": [a.id for a in team["agents"]],
            "shift_length": 1, "shift_unit": "weeks", "handoff_time": "09:00", "handoff_weekday": 1,
            "timezone": "Europe/Sofia", "start_date": "2026-01-05"}


def test_rotation_crud_and_who_is_on_duty(api_client, team, body):
    admin = api_client(user=team["admin"])
    created = admin.post(ROTATIONS, json=body)
    assert created.status_code == 201, created.json
    rotation = created.json
    assert rotation["member_ids"] == body["member_ids"] and rotation["restrictions"] == []
    assert rotation["advance"] == "windows"
    # The week of Monday 30 March (after the spring change) is shift 12: agents[0]'s, 06:00 UTC to 06:00 UTC.
    now = admin.get("/api/v1/duty/now", query_string={"department_id": team["department"].id,
                                                      "at": "2026-04-01T12:00:00Z"})
    assert now.status_code == 200, now.json
    person = now.json["people"][0]
    assert (person["user_id"], person["shift_start"], person["shift_end"]) == (
        team["agents"][0].id, "2026-03-30T06:00:00+00:00", "2026-04-06T06:00:00+00:00")
    changed = admin.patch(f"{ROTATIONS}/{rotation['id']}", json={"handoff_time": "10:30", "name": "First line"})
    assert changed.status_code == 200 and changed.json["handoff_time"] == "10:30"
    assert admin.patch(f"{ROTATIONS}/{rotation['id']}", json={"advance": "calendar"}).json["advance"] == "calendar"
    assert [r["name"] for r in admin.get(ROTATIONS).json["items"]] == ["First line"]
    assert admin.delete(f"{ROTATIONS}/{rotation['id']}").status_code == 204
    assert admin.get(f"{ROTATIONS}/{rotation['id']}").status_code == 404
    gone = admin.get("/api/v1/duty/now", query_string={"department_id": team["department"].id})
    assert gone.json["keeps_roster"] is False and gone.json["people"] == []


def test_shifts_and_my_shifts(api_client, team, body):
    api_client(user=team["admin"]).post(ROTATIONS, json=body)
    agent = api_client(user=team["agents"][1])
    period = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-23T00:00:00Z"}
    shifts = agent.get("/api/v1/duty/shifts", query_string={**period, "department_id": team["department"].id})
    assert shifts.status_code == 200
    # Shift 7 (from 23 February) runs into the period, then shifts 8, 9 and 10 (Mondays 2, 9 and 16 March).
    assert [s["user_id"] for s in shifts.json["items"]] == [team["agents"][i].id for i in (1, 2, 0, 1)]
    assert shifts.json["items"][1]["start"] == "2026-03-02T07:00:00+00:00"
    mine = agent.get("/api/v1/duty/my-shifts", query_string=period)
    assert [(s["start"], s["end"], s["shift_start"]) for s in mine.json["items"]] == [
        ("2026-03-02T00:00:00+00:00", "2026-03-02T07:00:00+00:00", "2026-02-23T07:00:00+00:00"),
        ("2026-03-16T07:00:00+00:00", "2026-03-23T00:00:00+00:00", "2026-03-16T07:00:00+00:00")]
    one = agent.get("/api/v1/duty/shifts", query_string={**period, "user_id": team["agents"][0].id})
    assert [s["start"] for s in one.json["items"]] == ["2026-03-09T07:00:00+00:00"]
    backwards = agent.get("/api/v1/duty/shifts", query_string={"from": period["to"], "to": period["from"]})
    assert backwards.status_code == 422 and "to" in backwards.json["error"]["fields"]
    too_long = agent.get("/api/v1/duty/shifts", query_string={"from": "2026-01-01T00:00Z", "to": "2026-12-01T00:00Z"})
    assert too_long.status_code == 422 and "92 days" in too_long.json["error"]["fields"]["to"][0]
    missing = agent.get("/api/v1/duty/shifts")
    assert missing.status_code == 422 and {"from", "to"} <= set(missing.json["error"]["fields"])


@pytest.mark.parametrize("change, field, message", [
    ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
    ({"handoff_time": "25:00"}, "handoff_time", "HH:MM"),
    ({"shift_unit": "months"}, "shift_unit", "Must be one of"),
    ({"shift_unit": "days", "shift_length": 400}, "shift_length", "From 1 to 366 days"),
    ({"handoff_weekday": 8}, "handoff_weekday", "less than or equal to 7"),
    ({"member_ids": []}, "member_ids", "between 1 and 200"),
    ({"member_ids": [99999]}, "member_ids", "No user with id 99999"),
    ({"department_id": 99999}, "department_id", "No department"),
    ({"start_date": "soon"}, "start_date", "date"),
    ({"name": ""}, "name", "Length"),
    ({"restrictions": [{"weekdays": [], "start": "09:00", "end": "18:00"}]}, "restrictions", "at least one weekday"),
    ({"restrictions": [{"weekdays": [1], "start": "9", "end": "18:00"}]}, "restrictions", "HH:MM"),
    ({"layer": -1}, "layer", "greater than or equal"),
    ({"advance": "weekly"}, "advance", "Must be one of"),
])
def test_invalid_rotations_are_422_naming_the_field(api_client, team, body, change, field, message):
    response = api_client(user=team["admin"]).post(ROTATIONS, json={**body, **change})
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error" and field in error["fields"], error
    assert any(message.lower() in m.lower() for m in error["fields"][field]), error


def test_a_member_must_belong_to_the_department(api_client, team, body):
    response = api_client(user=team["admin"]).post(ROTATIONS, json={**body, "member_ids": [team["outsider"].id]})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["member_ids"] == [
        f"User {team['outsider'].id} is not a member of the department."]


def test_permissions_members_see_others_do_not(api_client, team, body):
    rotation = api_client(user=team["admin"]).post(ROTATIONS, json=body).json
    agent = api_client(user=team["agents"][0])
    refused = agent.post(ROTATIONS, json=body)
    assert refused.status_code == 403 and refused.json["error"]["permission"] == "duty.manage"
    assert agent.patch(f"{ROTATIONS}/{rotation['id']}", json={"name": "Mine"}).status_code == 403
    assert agent.get(f"{ROTATIONS}/{rotation['id']}").status_code == 200
    assert [r["id"] for r in agent.get(ROTATIONS).json["items"]] == [rotation["id"]]
    outsider = api_client(user=team["outsider"])
    assert outsider.get(f"{ROTATIONS}/{rotation['id']}").status_code == 404
    assert outsider.get(ROTATIONS).json["items"] == []
    hidden = outsider.get("/api/v1/duty/now", query_string={"department_id": team["department"].id})
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "not_found"
    assert outsider.get("/api/v1/duty/shifts", query_string={
        "department_id": team["department"].id, "from": "2026-03-02T00:00Z", "to": "2026-03-03T00:00Z"}).status_code == 404
    assert api_client(user=team["agents"][0]).get("/api/v1/duty/rotations").status_code == 200


def test_overrides_through_the_api(api_client, team, body):
    admin = api_client(user=team["admin"])
    rotation = admin.post(ROTATIONS, json=body).json
    override = admin.post("/api/v1/duty/overrides", json={
        "rotation_id": rotation["id"], "user_id": team["agents"][2].id,
        "starts_at": "2026-04-01T00:00:00Z", "ends_at": "2026-04-02T00:00:00Z", "note": "Dentist"})
    assert override.status_code == 201, override.json
    now = admin.get("/api/v1/duty/now", query_string={"department_id": team["department"].id,
                                                      "at": "2026-04-01T12:00:00Z"}).json
    assert [(p["user_id"], p["kind"]) for p in now["people"]] == [(team["agents"][2].id, "override")]
    nobody = admin.post("/api/v1/duty/overrides", json={
        "rotation_id": rotation["id"], "user_id": None, "starts_at": "2026-04-03T00:00:00Z",
        "ends_at": "2026-04-04T00:00:00Z"})
    quiet = admin.get("/api/v1/duty/now", query_string={"department_id": team["department"].id,
                                                        "at": "2026-04-03T12:00:00Z"}).json
    assert quiet["people"] == [] and quiet["slots"][0]["kind"] == "nobody"
    assert len(admin.get(f"{ROTATIONS}/{rotation['id']}/overrides").json["items"]) == 2
    backwards = admin.post("/api/v1/duty/overrides", json={
        "rotation_id": rotation["id"], "user_id": None, "starts_at": "2026-04-04T00:00:00Z",
        "ends_at": "2026-04-03T00:00:00Z"})
    assert backwards.status_code == 422 and "ends_at" in backwards.json["error"]["fields"]
    stranger = admin.post("/api/v1/duty/overrides", json={
        "rotation_id": rotation["id"], "user_id": team["outsider"].id, "starts_at": "2026-04-03T00:00:00Z",
        "ends_at": "2026-04-04T00:00:00Z"})
    assert stranger.status_code == 422 and "user_id" in stranger.json["error"]["fields"]
    assert admin.delete(f"/api/v1/duty/overrides/{nobody.json['id']}").status_code == 204


def test_in_the_openapi_document_and_rosters_kept_across_disable_and_enable(api_client, team, body, client):
    admin = api_client(user=team["admin"])
    admin.post(ROTATIONS, json=body)
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/duty/now", "/api/v1/duty/shifts", "/api/v1/duty/my-shifts", ROTATIONS,
            "/api/v1/duty/rotations/{rotation_id}", "/api/v1/duty/overrides", "/api/v1/duty/quality",
            "/api/v1/duty/feeds", "/api/v1/duty/handovers", "/api/v1/duty/handovers/{handover_id}/acknowledge",
            "/api/v1/duty/log", "/api/v1/duty/swaps", "/api/v1/duty/report"} <= set(paths)
    set_plugin_enabled("duty_roster", False)
    assert admin.get(ROTATIONS).status_code == 404
    assert ROTATIONS not in client.get("/api/v1/openapi.json").json["paths"]
    set_plugin_enabled("duty_roster", True)
    assert [r["name"] for r in admin.get(ROTATIONS).json["items"]] == ["Primary"]
