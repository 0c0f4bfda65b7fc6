"""Absences through the API: record, read, change and delete; who may; 422 naming the field; the user's
representation says who is away until when."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.models import Absence
from workdesk.services.users import update_department

from .conftest import error_of

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def people(make_user, make_department, dept, admin):
    head = make_user("agent")
    update_department(admin, dept.id, {"head_id": head.id})
    return {"ana": make_user("agent", departments=[dept], name="Ana"), "bob": make_user("agent", departments=[dept]),
            "head": head, "outsider": make_user("agent", departments=[make_department()]), "admin": admin}


def iso(hours: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


@BOTH_DATABASES
def test_record_read_change_delete_and_the_user_representation(api_as, people):
    ana, bob = people["ana"], people["bob"]
    api = api_as(ana)
    made = api.post("/api/v1/absences", json={"starts_at": iso(-1), "ends_at": "2099-01-01T12:00:00+01:00",
                                              "delegate_id": bob.id, "note": "Conference"})
    assert made.status_code == 201, made.get_json()
    absence = made.get_json()
    assert made.headers["Location"] == f"/api/v1/absences/{absence['id']}"
    assert absence["user_id"] == ana.id and absence["ends_at"] == "2099-01-01T11:00:00+00:00"
    assert absence["delegate_id"] == bob.id and absence["created_by_id"] == ana.id
    me = api.get("/api/v1/me").get_json()
    assert me["absence"] == {"starts_at": absence["starts_at"], "ends_at": absence["ends_at"], "delegate_id": bob.id}
    users = {u["id"]: u for u in api_as(bob).get("/api/v1/users").get_json()["items"]}
    assert users[ana.id]["absence"]["ends_at"] == "2099-01-01T11:00:00+00:00" and users[bob.id]["absence"] is None
    assert api_as(bob).get(f"/api/v1/users/{ana.id}").get_json()["absence"]["delegate_id"] == bob.id

    assert [a["id"] for a in api.get("/api/v1/absences").get_json()["items"]] == [absence["id"]]
    changed = api.patch(f"/api/v1/absences/{absence['id']}", json={"delegate_id": None, "note": ""})
    assert changed.status_code == 200 and changed.get_json()["delegate_id"] is None
    assert api.delete(f"/api/v1/absences/{absence['id']}").status_code == 204
    assert api.get(f"/api/v1/absences/{absence['id']}").status_code == 404
    assert api.get("/api/v1/me").get_json()["absence"] is None


@pytest.mark.parametrize("body, field", [
    ({"starts_at": "2026-13-45T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z"}, "starts_at"),
    ({"starts_at": "tomorrow", "ends_at": "2026-01-02T10:00:00Z"}, "starts_at"),
    ({"starts_at": "2026-01-02T10:00:00Z"}, "ends_at"),
    ({"starts_at": "2026-01-02T10:00:00Z", "ends_at": "2026-01-01T10:00:00Z"}, "ends_at"),
    ({"starts_at": "2026-01-02T10:00:00Z", "ends_at": "99999-01-01T10:00:00Z"}, "ends_at"),
    ({"starts_at": "2026-01-02T10:00:00Z", "ends_at": "9999-12-31T23:00:00-05:00"}, "ends_at"),  # beyond UTC's 9999
    ({"starts_at": "0001-01-01T00:30:00+05:00", "ends_at": "2026-01-02T10:00:00Z"}, "starts_at"),
    ({"starts_at": 12, "ends_at": "2026-01-02T10:00:00Z"}, "starts_at"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "delegate_id": 99999999999999999999},
     "delegate_id"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "delegate_id": "7"}, "delegate_id"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "delegate_id": 424242}, "delegate_id"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "note": "x\x00"}, "note"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "user_id": 424242}, "user_id"),
    ({"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-02T10:00:00Z", "colour": "red"}, "colour"),
])
def test_bad_absences_are_422_naming_the_field(api_as, people, body, field):
    response = api_as(people["ana"]).post("/api/v1/absences", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"], error_of(response)
    assert Absence.select().count() == 0


def test_who_may_record_and_see_someone_elses_absences(api_as, people):
    ana, bob, head, outsider, admin = (people[k] for k in ("ana", "bob", "head", "outsider", "admin"))
    by_head = api_as(head).post("/api/v1/absences", json={"user_id": ana.id, "starts_at": iso(1), "ends_at": iso(5)})
    assert by_head.status_code == 201
    absence_id = by_head.get_json()["id"]
    assert api_as(admin).get(f"/api/v1/absences?user_id={ana.id}").get_json()["items"][0]["id"] == absence_id
    for person in (bob, outsider):
        refused = api_as(person).post("/api/v1/absences", json={"user_id": ana.id, "starts_at": iso(6),
                                                                 "ends_at": iso(7)})
        assert refused.status_code == 403 and error_of(refused)["permission"] == "user.manage"
        assert api_as(person).get(f"/api/v1/absences?user_id={ana.id}").status_code == 403
        for method in ("get", "patch", "delete"):
            kwargs = {"json": {"note": "mine"}} if method == "patch" else {}
            assert getattr(api_as(person), method)(f"/api/v1/absences/{absence_id}", **kwargs).status_code == 404
    overlap = api_as(admin).post("/api/v1/absences", json={"user_id": ana.id, "starts_at": iso(2), "ends_at": iso(3)})
    assert overlap.status_code == 422 and "starts_at" in error_of(overlap)["fields"]
    assert api_as(ana).get("/api/v1/absences?user_id=99999999999").status_code == 422


def test_absences_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/api/v1/absences"]) == {"get", "post"}
    assert set(spec["paths"]["/api/v1/absences/{absence_id}"]) == {"get", "patch", "delete"}
    assert "absence" in spec["components"]["schemas"]["User"]["properties"]


def test_a_due_date_beyond_what_utc_holds_is_a_422_not_a_500(api_as, people, dept):
    response = api_as(people["ana"]).post("/api/v1/tasks", json={"title": "x", "department_id": dept.id,
                                                                 "due_at": "9999-12-31T23:00:00-05:00"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"due_at": ["Lies beyond the years 1 to 9999 in UTC."]}
