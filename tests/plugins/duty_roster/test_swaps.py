"""Swap requests between members: validation, acceptance creating overrides (and the return duty), decline,
cancel, and expiry by the job (``tick --at``); the API around them."""
from __future__ import annotations

import pytest

import workdesk
from workdesk import Conflict, Forbidden, Notification, ValidationFailed

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def swaps(duty):
    from workdesk.plugins.duty_roster import swaps
    return swaps


def ask(swaps, team, rotation, requester, target, **values):
    data = {"rotation_id": rotation.id, "user_id": target.id, "starts_at": at("2026-03-31T06:00Z"),
            "ends_at": at("2026-04-02T06:00Z"), **values}
    return swaps.request_swap(requester, data, now=at(values.pop("now", "2026-03-20T00:00Z")))


def test_accepting_a_swap_gives_the_duty_and_takes_the_return(team, make_rotation, swaps):
    agents, department = team["agents"], team["department"]
    rotation = make_rotation()  # weekly: agent 0 has 30 March to 6 April, agent 1 the week after
    swap = ask(swaps, team, rotation, agents[0], agents[1], return_starts_at=at("2026-04-07T06:00Z"),
               return_ends_at=at("2026-04-08T06:00Z"), expires_at=at("2026-03-25T00:00Z"), note="Wedding")
    assert swap.status == "pending"
    assert [n.subject for n in Notification.select().where(Notification.recipient == agents[1])] == [
        f"{agents[0].name} asks you to take their duty"]
    with pytest.raises(Forbidden):
        swaps.answer_swap(agents[0], swap.id, accept=True, now=at("2026-03-21T00:00Z"))
    accepted = swaps.answer_swap(agents[1], swap.id, accept=True, now=at("2026-03-21T00:00Z"))
    assert accepted.status == "accepted"
    assert workdesk.people_on_duty(department.id, at("2026-04-01T12:00Z")) == [agents[1]]
    assert workdesk.people_on_duty(department.id, at("2026-04-03T12:00Z")) == [agents[0]]
    assert workdesk.people_on_duty(department.id, at("2026-04-07T12:00Z")) == [agents[0]]
    assert workdesk.people_on_duty(department.id, at("2026-04-08T12:00Z")) == [agents[1]]
    with pytest.raises(Conflict):
        swaps.answer_swap(agents[1], swap.id, accept=False, now=at("2026-03-21T00:00Z"))


@pytest.mark.parametrize("values, field", [
    ({"starts_at": at("2026-04-07T06:00Z"), "ends_at": at("2026-04-08T06:00Z")}, "starts_at"),  # not theirs
    ({"starts_at": at("2026-03-10T06:00Z")}, "starts_at"),  # already begun
    ({"ends_at": at("2026-03-30T06:00Z")}, "ends_at"),
    ({"expires_at": at("2026-04-01T00:00Z")}, "expires_at"),
    ({"return_starts_at": at("2026-04-07T06:00Z")}, "return_ends_at"),
    ({"return_starts_at": at("2026-04-14T06:00Z"), "return_ends_at": at("2026-04-15T06:00Z")}, "return_starts_at"),
])
def test_invalid_swap_requests_name_the_field(team, make_rotation, swaps, values, field):
    rotation = make_rotation()
    with pytest.raises(ValidationFailed) as refused:
        ask(swaps, team, rotation, team["agents"][0], team["agents"][1], **values)
    assert field in refused.value.fields


def test_nobody_outside_the_department_can_be_asked(team, make_rotation, swaps):
    rotation = make_rotation()
    with pytest.raises(ValidationFailed) as refused:
        ask(swaps, team, rotation, team["agents"][0], team["outsider"])
    assert refused.value.fields == {"user_id": ["Choose another active member of the department."]}


def test_an_unanswered_request_expires(team, make_rotation, swaps, run_jobs):
    agents = team["agents"]
    rotation = make_rotation()
    swap = ask(swaps, team, rotation, agents[0], agents[2], expires_at=at("2026-03-25T00:00Z"))
    run_jobs("2026-03-24T23:59Z", force=True)
    assert type(swap).get_by_id(swap.id).status == "pending"
    run_jobs("2026-03-25T00:00Z", force=True)
    assert type(swap).get_by_id(swap.id).status == "expired"
    with pytest.raises(Conflict):
        swaps.answer_swap(agents[2], swap.id, accept=True, now=at("2026-03-25T00:01Z"))
    told = [n.subject for n in Notification.select().where((Notification.recipient == agents[0])
                                                           & (Notification.kind == "duty_roster.swap"))]
    assert told == [f"Your swap request to {agents[2].name} expired unanswered"]
    assert workdesk.people_on_duty(team["department"].id, at("2026-04-01T12:00Z")) == [agents[0]]
    # Past its expiry, an answer is refused even before the job has run.
    late = ask(swaps, team, rotation, agents[0], agents[1], expires_at=at("2026-03-26T00:00Z"))
    with pytest.raises(Conflict) as refused:
        swaps.answer_swap(agents[1], late.id, accept=True, now=at("2026-03-26T00:00Z"))
    assert refused.value.message == "This swap request expired."


def test_swaps_through_the_api(team, make_rotation, api_client, client):
    agents = team["agents"]
    rotation = make_rotation(start_date="2099-01-05")  # in the future whenever the test runs
    asker, asked = api_client(user=agents[0]), api_client(user=agents[1])
    created = asker.post("/api/v1/duty/swaps", json={"rotation_id": rotation.id, "user_id": agents[1].id,
                                                     "starts_at": "2099-01-05T09:00:00Z",
                                                     "ends_at": "2099-01-06T09:00:00Z"})
    assert created.status_code == 201, created.json
    assert created.json["expires_at"] == "2099-01-05T09:00:00+00:00"
    assert [s["id"] for s in asked.get("/api/v1/duty/swaps").json["items"]] == [created.json["id"]]
    assert api_client(user=agents[2]).post(f"/api/v1/duty/swaps/{created.json['id']}/accept").status_code == 404
    declined = asked.post(f"/api/v1/duty/swaps/{created.json['id']}/decline")
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    again = asker.post(f"/api/v1/duty/swaps/{created.json['id']}/cancel")
    assert again.status_code == 409 and again.json["error"]["message"] == "This swap request was already answered."
    bad = asker.post("/api/v1/duty/swaps", json={"rotation_id": rotation.id, "user_id": agents[1].id,
                                                 "starts_at": "2099-01-05T09:00:00Z", "ends_at": "soon"})
    assert bad.status_code == 422 and "ends_at" in bad.json["error"]["fields"]
    assert "/api/v1/duty/swaps/{swap_id}/accept" in client.get("/api/v1/openapi.json").json["paths"]
