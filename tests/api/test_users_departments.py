"""Users and departments through the API."""
from __future__ import annotations

import pytest

from workdesk.models import User

from .conftest import error_of

USER_KEYS = {"id", "email", "name", "role", "department_ids", "skills", "timezone", "is_active", "absence"}


def test_me_has_no_secrets(api_as, make_user, dept):
    user = make_user("agent", departments=[dept], timezone="Europe/Sofia", skills=["printers"])
    body = api_as(user).get("/api/v1/me").get_json()
    assert set(body) == USER_KEYS | {"permissions"}
    assert body["department_ids"] == [dept.id] and body["timezone"] == "Europe/Sofia"
    assert body["skills"] == ["printers"] and body["role"] == "agent"


def test_admin_creates_a_user_and_the_password_is_never_returned(api_as, admin, dept):
    response = api_as(admin).post("/api/v1/users", json={
        "email": "New@Example.com", "name": "New Person", "password": "long-enough-1", "role": "manager",
        "department_ids": [dept.id], "skills": ["network"], "timezone": "Europe/Berlin"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == USER_KEYS
    assert body["email"] == "new@example.com" and body["role"] == "manager" and body["department_ids"] == [dept.id]
    assert response.headers["Location"] == f"/api/v1/users/{body['id']}"
    assert "long-enough-1" not in response.get_data(as_text=True)
    assert User.get_by_id(body["id"]).password_hash.startswith("$argon2")


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email", "name": "N", "password": "long-enough-1"}, "email"),
    ({"email": "a@example.com", "name": "N", "password": "short"}, "password"),
    ({"email": "a@example.com", "name": "N", "password": "long-enough-1", "role": "wizard"}, "role"),
    ({"email": "a@example.com", "name": "N", "password": "long-enough-1", "department_ids": [999]}, "department_ids"),
    ({"email": "a@example.com", "name": "N", "password": "long-enough-1", "timezone": "Mars/Base"}, "timezone"),
    ({"email": "a@example.com", "name": "N", "password": "long-enough-1", "password_hash": "x"}, "password_hash"),
    ({"email": "a@example.com", "password": "long-enough-1"}, "name"),
])
def test_create_user_validation(api_as, admin, body, field):
    response = api_as(admin).post("/api/v1/users", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


def test_duplicate_email_is_422(api_as, admin, make_user):
    make_user("agent", email="taken@example.com")
    response = api_as(admin).post("/api/v1/users", json={"email": "TAKEN@example.com", "name": "X",
                                                          "password": "long-enough-1"})
    assert error_of(response)["fields"] == {"email": ["A user with this email exists."]}


@pytest.mark.parametrize("role", ["manager", "agent", "reviewer", "requester"])
def test_only_admins_create_users_change_roles_or_deactivate(api_as, make_user, role):
    actor = make_user(role)
    other = make_user("agent")
    api = api_as(actor)
    response = api.post("/api/v1/users", json={"email": "x@example.com", "name": "X", "password": "long-enough-1"})
    assert response.status_code == 403 and error_of(response)["permission"] == "user.manage"
    hidden = 404 if role == "requester" else 403  # a requester does not even see an unrelated user
    for change in ({"role": "admin"}, {"is_active": False}, {"department_ids": []}, {"email": "me@example.com"}):
        assert api.patch(f"/api/v1/users/{actor.id}", json=change).status_code == 403, change
        assert api.patch(f"/api/v1/users/{other.id}", json=change).status_code == hidden, change
    assert api.patch(f"/api/v1/users/{other.id}", json={"name": "Renamed"}).status_code == hidden
    assert User.get_by_id(actor.id).role.name == role


def test_people_change_their_own_name_and_timezone(api_as, make_user):
    user = make_user("requester")
    response = api_as(user).patch(f"/api/v1/users/{user.id}", json={"name": "Me Myself", "timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert response.get_json()["name"] == "Me Myself" and response.get_json()["timezone"] == "Asia/Tokyo"


def test_admin_changes_role_departments_and_deactivates(api_as, admin, make_user, dept):
    user = make_user("agent")
    api = api_as(admin)
    body = api.patch(f"/api/v1/users/{user.id}", json={"role": "reviewer", "department_ids": [dept.id]}).get_json()
    assert body["role"] == "reviewer" and body["department_ids"] == [dept.id]
    assert api.patch(f"/api/v1/users/{user.id}", json={"is_active": "no"}).status_code == 422
    assert api.patch(f"/api/v1/users/{user.id}", json={"is_active": False}).get_json()["is_active"] is False


def test_user_lists_hide_deactivated_accounts_from_non_admins(api_as, admin, make_user):
    agent = make_user("agent")
    gone = make_user("agent")
    api_as(admin).patch(f"/api/v1/users/{gone.id}", json={"is_active": False})
    listed = [u["id"] for u in api_as(agent).get("/api/v1/users").get_json()["items"]]
    assert gone.id not in listed and agent.id in listed
    assert api_as(agent).get(f"/api/v1/users/{gone.id}").status_code == 404
    assert gone.id in [u["id"] for u in api_as(admin).get("/api/v1/users?limit=200").get_json()["items"]]
    assert api_as(admin).get(f"/api/v1/users/{gone.id}").status_code == 200


def test_user_pages(api_as, make_user):
    users = [make_user("agent") for _ in range(5)]
    api = api_as(users[0])
    first = api.get("/api/v1/users?limit=2").get_json()
    rest = api.get(f"/api/v1/users?limit=10&cursor={first['next_cursor']}").get_json()
    assert [u["id"] for u in first["items"] + rest["items"]] == [u.id for u in users]
    assert rest["next_cursor"] is None
    assert api.get("/api/v1/users/999999").status_code == 404


# -- the people directory ---------------------------------------------------------------------------------

@pytest.fixture
def office(make_department, make_user, make_task):
    """Rita, a requester, reported a task (assigned to Ann, watched by Wes) and watches Rob's task (assigned
    to Vic); Stella (a requester) and Cole (an agent) have nothing to do with her."""
    from workdesk.services.tasks import add_watchers, assign
    dept = make_department("Front desk")
    boss = make_user("admin", name="Boss")
    people = {"boss": boss}
    for name, role in (("rita", "requester"), ("rob", "requester"), ("stella", "requester"), ("ann", "agent"),
                       ("wes", "agent"), ("vic", "agent"), ("cole", "agent")):
        people[name] = make_user(role, departments=[] if role == "requester" else [dept], name=name.title())
    reported = make_task(people["rita"], dept, title="Badge does not open the door")
    watched = make_task(people["rob"], dept, title="Coffee machine")
    for task, assignee, watcher in ((reported, "ann", "wes"), (watched, "vic", "rita")):
        assign(boss, task.id, people[assignee].id)
        add_watchers(task.id, [people[watcher].id])
    return people


def _listed(api) -> set[int]:
    ids, cursor = set(), None
    while True:
        page = api.get("/api/v1/users?limit=200" + (f"&cursor={cursor}" if cursor else "")).get_json()
        ids |= {u["id"] for u in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_requesters_see_only_the_people_they_work_with(api_as, office):
    p = office
    rita = api_as(p["rita"])
    related = {p[n].id for n in ("rita", "ann", "wes", "rob", "vic")}
    assert _listed(rita) == related
    for name in ("ann", "rob", "vic"):
        assert rita.get(f"/api/v1/users/{p[name].id}").status_code == 200
    for name in ("stella", "cole", "boss"):
        response = rita.get(f"/api/v1/users/{p[name].id}")
        assert response.status_code == 404 and error_of(response) == {
            "code": "not_found", "message": "No such user.", "fields": {}}
        assert rita.patch(f"/api/v1/users/{p[name].id}", json={"name": "x"}).status_code == 404
        assert error_of(rita.get(f"/api/v1/absences?user_id={p[name].id}"))["fields"] == {
            "user_id": [f"No such record (id {p[name].id})."]}  # absences do not reveal who exists either
    assert _listed(api_as(p["stella"])) == {p["stella"].id}  # nothing filed, nobody else
    everyone = {u.id for u in p.values()}
    assert _listed(api_as(p["cole"])) == everyone  # who works tasks sees the directory
    assert _listed(api_as(p["boss"])) == everyone


def test_the_open_directory_setting_opens_it_to_everyone(api_as, office):
    from workdesk.site_settings import save_site_settings, site_settings
    p = office
    assert site_settings()["open_directory"] is False  # closed by default
    save_site_settings(p["boss"], {"open_directory": True})
    assert _listed(api_as(p["stella"])) == {u.id for u in p.values()}
    assert api_as(p["stella"]).get(f"/api/v1/users/{p['cole'].id}").status_code == 200
    save_site_settings(p["boss"], {"open_directory": False})
    assert _listed(api_as(p["stella"])) == {p["stella"].id}
    from workdesk.errors import Forbidden
    with pytest.raises(Forbidden):
        save_site_settings(p["cole"], {"open_directory": True})


# -- departments -----------------------------------------------------------------------------------------

def test_departments_crud(api_as, admin, make_user):
    api = api_as(admin)
    head = make_user("manager")
    response = api.post("/api/v1/departments", json={"name": "Facilities", "head_id": head.id})
    assert response.status_code == 201
    parent = response.get_json()
    assert parent == {"id": parent["id"], "name": "Facilities", "parent_id": None, "head_id": head.id,
                      "calendar_id": None}
    assert response.headers["Location"] == f"/api/v1/departments/{parent['id']}"
    child = api.post("/api/v1/departments", json={"name": "Cleaning", "parent_id": parent["id"]}).get_json()
    assert child["parent_id"] == parent["id"]
    renamed = api.patch(f"/api/v1/departments/{child['id']}", json={"name": "Housekeeping", "head_id": None})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Housekeeping"
    cycle = api.patch(f"/api/v1/departments/{parent['id']}", json={"parent_id": child["id"]})
    assert error_of(cycle)["fields"] == {"parent_id": ["A department cannot be inside itself."]}
    listed = api.get("/api/v1/departments").get_json()
    assert [d["name"] for d in listed["items"]] == ["Facilities", "Housekeeping"]
    assert api.get(f"/api/v1/departments/{parent['id']}").get_json()["name"] == "Facilities"
    assert api.get("/api/v1/departments/4242").status_code == 404
    assert api.patch("/api/v1/departments/4242", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize("body, field", [({"name": ""}, "name"), ({}, "name"), ({"name": "x", "head_id": 999}, "head_id"),
                                         ({"name": "x", "parent_id": 999}, "parent_id"),
                                         ({"name": "x", "calendar": 1}, "calendar")])
def test_department_validation(api_as, admin, body, field):
    response = api_as(admin).post("/api/v1/departments", json=body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("role", ["manager", "agent", "reviewer", "requester"])
def test_only_department_managers_change_departments(api_as, make_user, dept, role):
    api = api_as(make_user(role))
    assert api.get("/api/v1/departments").status_code == 200
    assert api.post("/api/v1/departments", json={"name": "Mine"}).status_code == 403
    assert api.patch(f"/api/v1/departments/{dept.id}", json={"name": "Mine"}).status_code == 403
