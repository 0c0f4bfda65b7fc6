"""Tasks through the API: create, read, change, delete, comments, events, lists and filters."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.db import utcnow
from workdesk.models import Membership, Task, TaskEvent, User

from .conftest import error_of

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def agent(make_user, dept):
    return make_user("agent", departments=[dept])


@pytest.fixture
def api(api_as, agent):
    return api_as(agent)


# -- create -------------------------------------------------------------------------------------------

@BOTH_DATABASES
def test_create_returns_201_location_and_the_full_task(api, agent, dept, make_user):
    colleague = make_user("agent", departments=[dept])
    response = api.post("/api/v1/tasks", json={
        "title": "  Printer on fire ", "description": "3rd floor", "priority": "urgent", "department_id": dept.id,
        "assignee_id": colleague.id, "due_at": "2030-01-02T10:00:00+02:00", "type": "incident", "impact": "high",
        "watcher_ids": [colleague.id, agent.id], "fields": {"room": "3.14", "tags": ["a"]}})
    assert response.status_code == 201, response.get_json()
    task = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tasks/{task['id']}"
    assert set(task) == {"id", "number", "title", "description", "status", "priority", "type", "impact",
                         "department_id", "reporter_id", "assignee_id", "watcher_ids", "parent_id", "due_at", "fields",
                         "created_at", "updated_at", "resolved_at", "closed_at", "version", "plugins"}
    assert task["title"] == "Printer on fire" and task["status"] == "new" and task["priority"] == "urgent"
    assert task["reporter_id"] == agent.id and task["assignee_id"] == colleague.id
    assert task["watcher_ids"] == sorted([colleague.id, agent.id])
    assert task["due_at"] == "2030-01-02T08:00:00+00:00"  # stored and returned in UTC, with the offset
    assert dt.datetime.fromisoformat(task["created_at"]).utcoffset() == dt.timedelta(0)
    assert task["fields"] == {"room": "3.14", "tags": ["a"]} and task["version"] == 1
    assert api.get(response.headers["Location"]).get_json() == task


def test_create_defaults(api, dept):
    task = api.post("/api/v1/tasks", json={"title": "Minimal", "department_id": dept.id}).get_json()
    assert task["priority"] == "normal" and task["type"] == "task" and task["due_at"] is None
    assert task["watcher_ids"] == [] and task["fields"] == {} and task["plugins"] == {}


@pytest.mark.parametrize("body, field, message", [
    ({"department_id": 1}, "title", "Missing data for required field."),
    ({"title": "", "department_id": 1}, "title", "Length must be between 1 and 200."),
    ({"title": "x" * 201, "department_id": 1}, "title", "Length must be between 1 and 200."),
    ({"title": "   ", "department_id": 1}, "title", "Between 1 and 200 characters."),
    ({"title": "t"}, "department_id", "Missing data for required field."),
    ({"title": "t", "department_id": 1, "priority": "critical"}, "priority", "Must be one of: low, normal, high, urgent."),
    ({"title": "t", "department_id": 1, "colour": "red"}, "colour", "Unknown field."),
    ({"title": "t", "department_id": 1, "status": "open"}, "status", "Unknown field."),
    ({"title": "t", "department_id": 999}, "department_id", "No department with id 999."),
    ({"title": "t", "department_id": "1"}, "department_id", "Not a valid integer."),
    ({"title": "t", "department_id": 2**40}, "department_id", "Must be greater than or equal to 1 and less than or equal to 2147483647."),
    ({"title": "t", "department_id": 1, "assignee_id": 999}, "assignee_id", "No user with id 999."),
    ({"title": "t", "department_id": 1, "watcher_ids": [999]}, "watcher_ids", "No user with id 999."),
    ({"title": "t", "department_id": 1, "watcher_ids": ["x"]}, "watcher_ids.0", "Not a valid integer."),
    ({"title": "t", "department_id": 1, "parent_id": 999}, "parent_id", "No task with id 999."),
    ({"title": "t", "department_id": 1, "due_at": "tomorrow"}, "due_at", "Not a valid datetime."),
    ({"title": "t\x00", "department_id": 1}, "title", "Must not contain NUL characters."),
    ({"title": "t", "department_id": 1, "fields": {"k": "\x00"}}, "fields", "Must not contain NUL characters."),
    ({"title": "t", "department_id": 1, "fields": []}, "fields", "Not a valid mapping type."),
    ({"title": "t", "department_id": 1, "type": "x" * 65}, "type", "Longer than maximum length 64."),
])
def test_create_validation_names_the_field(api, dept, body, field, message):
    assert dept.id == 1
    response = api.post("/api/v1/tasks", json=body)
    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert any(message in m for m in error["fields"][field]), error
    assert Task.select().count() == 0


def test_parent_the_user_cannot_see_is_reported_like_a_missing_one(api, make_task, make_user, make_department, dept):
    elsewhere = make_department()
    hidden = make_task(make_user("agent", departments=[elsewhere]), elsewhere)
    response = api.post("/api/v1/tasks", json={"title": "child", "department_id": dept.id, "parent_id": hidden.id})
    assert error_of(response)["fields"] == {"parent_id": [f"No task with id {hidden.id}."]}


# -- read and change -----------------------------------------------------------------------------

def test_get_missing_task_is_404(api):
    for url in ("/api/v1/tasks/424242", "/api/v1/tasks/99999999999999999999", "/api/v1/tasks/0",
                "/api/v1/tasks/abc"):
        response = api.get(url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_patch_changes_fields_and_records_the_trail(api, agent, dept, make_task):
    task = make_task(agent, dept)
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"title": "Renamed", "priority": "high",
                                                           "due_at": None, "fields": {"a": 1}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Renamed" and body["priority"] == "high" and body["version"] == 2
    assert response.headers["ETag"] == '"2"'
    events = api.get(f"/api/v1/tasks/{task.id}/events").get_json()["items"]
    assert [e["kind"] for e in events] == ["created", "updated"]
    assert events[1]["changes"]["title"] == [task.title, "Renamed"]
    assert events[1]["actor_id"] == agent.id
    assert set(events[1]) == {"id", "at", "actor_id", "kind", "changes"}


def test_patch_status_through_the_workflow(api, agent, dept, make_task):
    task = make_task(agent, dept)
    for status in ("open", "in_progress", "resolved"):
        response = api.patch(f"/api/v1/tasks/{task.id}", json={"status": status})
        assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolved" and body["resolved_at"] is not None


def test_transition_outside_the_workflow_is_409_invalid_transition(api, agent, dept, make_task):
    task = make_task(agent, dept)
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"status": "closed"})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["allowed"] == ["open"]
    assert "cannot move from New to Closed" in error["message"]


def test_unknown_status_is_422(api, agent, dept, make_task):
    task = make_task(agent, dept)
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"status": "done"})
    assert response.status_code == 422
    assert "status" in error_of(response)["fields"]


def test_plugin_veto_is_409_transition_blocked(api, agent, dept, make_task, enable_plugin):
    enable_plugin("apisample")
    task = make_task(agent, dept, fields={"checklist": "open"})
    for status in ("open", "in_progress"):
        api.patch(f"/api/v1/tasks/{task.id}", json={"status": status})
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "transition_blocked"
    assert error["plugin"] == "apisample" and error["reason"] == "the checklist is not done"
    assert Task.get_by_id(task.id).status == "in_progress"


def test_stale_version_in_body_or_if_match_is_409_conflict(api, agent, dept, make_task):
    task = make_task(agent, dept)
    assert api.patch(f"/api/v1/tasks/{task.id}", json={"title": "First", "version": 1}).status_code == 200
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"title": "Second", "version": 1})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict" and error["current_version"] == 2
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"title": "Third"}, headers={"If-Match": '"1"'})
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"title": "Fourth"}, headers={"If-Match": 'W/"2"'})
    assert response.status_code == 200 and response.get_json()["title"] == "Fourth"
    for header in ("*x", '"²"', '"99999999999999999999"', '"0"'):  # "²" passes str.isdigit(), not int()
        response = api.patch(f"/api/v1/tasks/{task.id}", json={"title": "Fifth"}, headers={"If-Match": header})
        assert response.status_code == 400 and error_of(response)["code"] == "bad_request", header
    assert Task.get_by_id(task.id).title == "Fourth"


def test_patch_validation(api, agent, dept, make_task):
    task = make_task(agent, dept)
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"number": 5, "reporter_id": 1})
    assert error_of(response)["fields"] == {"number": ["Unknown field."], "reporter_id": ["Unknown field."]}
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"department_id": 999})
    assert error_of(response)["fields"] == {"department_id": ["No department with id 999."]}
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"parent_id": task.id})
    assert error_of(response)["fields"] == {"parent_id": ["A task cannot be its own parent."]}
    assert Task.get_by_id(task.id).version == 1


@BOTH_DATABASES
def test_only_people_who_may_work_the_task_can_be_assigned(api_as, agent, dept, make_task, make_user,
                                                          make_department):
    """Who may be an assignee is defined once (active, a member of the task's department, a role that works
    tasks) and the task service enforces it: 422 naming assignee_id, nothing changed."""
    manager = make_user("manager", departments=[dept])
    api = api_as(manager)
    requester = make_user("requester", departments=[dept], name="Rita Requester")
    outsider = make_user("agent", departments=[make_department("Elsewhere")], name="Otto Outsider")
    leaver = make_user("agent", departments=[dept], name="Lea Leaver")
    User.update(is_active=False).where(User.id == leaver.id).execute()
    task = make_task(manager, dept)
    for person in (requester, outsider):
        response = api.patch(f"/api/v1/tasks/{task.id}", json={"assignee_id": person.id})
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert error["message"] == f"{person.name} cannot be assigned tasks of {dept.name}."
        assert error["fields"] == {"assignee_id": [
            f"Only active members of {dept.name} whose role lets them work tasks can be assigned its tasks."]}
    response = api.patch(f"/api/v1/tasks/{task.id}", json={"assignee_id": leaver.id})
    assert error_of(response)["fields"] == {"assignee_id": [f"User {leaver.id} is deactivated."]}
    response = api.post("/api/v1/tasks", json={"title": "x", "department_id": dept.id, "assignee_id": requester.id})
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"assignee_id"}
    assert Task.get_by_id(task.id).version == 1 and Task.select().count() == 1

    assert api.patch(f"/api/v1/tasks/{task.id}", json={"assignee_id": agent.id}).status_code == 200
    # Moving the task to a department its assignee does not work for is refused too, naming assignee_id;
    # moving it with a new assignee (or nobody) who suits the new department is fine.
    elsewhere = outsider.memberships[0].department
    response = api_as(make_user("admin")).patch(f"/api/v1/tasks/{task.id}", json={"department_id": elsewhere.id})
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"assignee_id"}
    response = api_as(make_user("admin")).patch(f"/api/v1/tasks/{task.id}",
                                                json={"department_id": elsewhere.id, "assignee_id": outsider.id})
    assert response.status_code == 200 and response.get_json()["assignee_id"] == outsider.id


def test_delete_is_admin_only_and_keeps_the_trail(api_as, api, agent, admin, dept, make_task):
    task = make_task(agent, dept)
    response = api.delete(f"/api/v1/tasks/{task.id}")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden" and error_of(response)["permission"] == "task.delete"
    admin_api = api_as(admin)
    assert admin_api.delete(f"/api/v1/tasks/{task.id}").status_code == 204
    assert admin_api.get(f"/api/v1/tasks/{task.id}").status_code == 404
    events = admin_api.get(f"/api/v1/tasks/{task.id}/events").get_json()["items"]
    assert [e["kind"] for e in events] == ["created", "deleted"]
    assert api.get(f"/api/v1/tasks/{task.id}/events").status_code == 404
    assert TaskEvent.select().where(TaskEvent.task_id == task.id).count() == 2


# -- comments and events ------------------------------------------------------------------------------

def test_comments(api, agent, dept, make_task):
    task = make_task(agent, dept)
    response = api.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "Looking into it"})
    assert response.status_code == 201
    comment = response.get_json()
    assert comment["body"] == "Looking into it" and comment["author_id"] == agent.id and comment["task_id"] == task.id
    assert response.headers["Location"] == f"/api/v1/tasks/{task.id}/comments"
    api.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "Fixed"})
    page = api.get(f"/api/v1/tasks/{task.id}/comments?limit=1").get_json()
    assert [c["body"] for c in page["items"]] == ["Looking into it"]
    page = api.get(f"/api/v1/tasks/{task.id}/comments?limit=1&cursor={page['next_cursor']}").get_json()
    assert [c["body"] for c in page["items"]] == ["Fixed"] and page["next_cursor"] is None
    kinds = [e["kind"] for e in api.get(f"/api/v1/tasks/{task.id}/events").get_json()["items"]]
    assert kinds == ["created", "commented", "commented"]


@pytest.mark.parametrize("body, message", [({"body": ""}, "Length must be between 1 and 20000."),
                                           ({"body": "   "}, "A comment cannot be empty."),
                                           ({}, "Missing data for required field.")])
def test_comment_validation(api, agent, dept, make_task, body, message):
    task = make_task(agent, dept)
    response = api.post(f"/api/v1/tasks/{task.id}/comments", json=body)
    assert response.status_code == 422
    assert error_of(response)["fields"]["body"] == [message]


# -- lists, filters, search, pagination --------------------------------------------------------------

@BOTH_DATABASES
def test_cursor_pagination_walks_every_task_once_newest_first(api, agent, dept, make_task):
    created = [make_task(agent, dept, title=f"T{i}").id for i in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/tasks?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).get_json()
        seen.extend(t["id"] for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)
    # A page's cursor keeps working when newer tasks arrive in between (no skipped or repeated rows).
    first = api.get("/api/v1/tasks?limit=3").get_json()
    make_task(agent, dept, title="newer")
    second = api.get(f"/api/v1/tasks?limit=3&cursor={first['next_cursor']}").get_json()
    assert [t["id"] for t in second["items"]] == sorted(created, reverse=True)[3:6]


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                                          ("status=finished", "status"), ("priority=meh", "priority"),
                                          ("overdue=maybe", "overdue"), ("due_before=soon", "due_before"),
                                          ("cursor=bm90LWEtY3Vyc29y", "cursor"), ("cursor=%25%25", "cursor"),
                                          ("sort=title", "sort"), ("department_id=999", "department_id"),
                                          ("assignee_id=999", "assignee_id"), ("reporter_id=0", "reporter_id"),
                                          ("q=%00", "q")])
def test_list_query_validation(api, query, field):
    response = api.get(f"/api/v1/tasks?{query}")
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


def test_limit_default_is_50_and_max_200(api, agent, dept, make_task):
    for i in range(55):
        make_task(agent, dept, title=f"bulk {i}")
    assert len(api.get("/api/v1/tasks").get_json()["items"]) == 50
    assert len(api.get("/api/v1/tasks?limit=200").get_json()["items"]) == 55


@BOTH_DATABASES
def test_filters(api, agent, dept, make_task, make_user, make_department):
    other_dept = make_department()
    agent2 = make_user("agent", departments=[dept, other_dept])
    Membership.create(user=agent, department=other_dept)  # so that agent may be assigned "elsewhere"
    urgent = make_task(agent, dept, title="urgent one", priority="urgent", assignee_id=agent2.id)
    there = make_task(agent2, other_dept, title="elsewhere", assignee_id=agent.id)
    plain = make_task(agent, dept, title="plain", assignee_id=agent.id)
    from workdesk.services.tasks import transition
    transition(agent, plain.id, "open")

    def ids(query):
        response = api.get(f"/api/v1/tasks?{query}")
        assert response.status_code == 200, response.get_json()
        return {t["id"] for t in response.get_json()["items"]}
    assert ids("priority=urgent") == {urgent.id}
    assert ids("status=open") == {plain.id}
    assert ids(f"department_id={other_dept.id}") == {there.id}
    assert ids(f"assignee_id={agent.id}") == {there.id, plain.id}
    assert ids(f"reporter_id={agent2.id}") == {there.id}
    assert ids(f"reporter_id={agent.id}&priority=normal") == {plain.id}


@BOTH_DATABASES
def test_overdue_and_due_before(api, agent, dept, make_task):
    now = utcnow()
    late = make_task(agent, dept, title="late", due_at=now - dt.timedelta(hours=1))
    later = make_task(agent, dept, title="in time", due_at=now + dt.timedelta(days=2))
    undated = make_task(agent, dept, title="whenever")
    done_late = make_task(agent, dept, title="late but done", due_at=now - dt.timedelta(days=1))
    from workdesk.services.tasks import transition
    for status in ("open", "in_progress", "resolved"):
        transition(agent, done_late.id, status)

    def ids(query):
        return {t["id"] for t in api.get(f"/api/v1/tasks?{query}").get_json()["items"]}
    assert ids("overdue=true") == {late.id}
    assert ids("overdue=false") == {later.id, undated.id, done_late.id}
    cutoff = (now + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"due_before={cutoff}") == {late.id, done_late.id}


@BOTH_DATABASES
def test_q_searches_title_and_description_case_insensitively(api, agent, dept, make_task):
    in_title = make_task(agent, dept, title="VPN broken")
    in_description = make_task(agent, dept, title="Remote access", description="the vpn client crashes")
    make_task(agent, dept, title="Coffee machine")
    percent = make_task(agent, dept, title="Disk 100% full")

    def ids(q):
        from urllib.parse import quote
        return {t["id"] for t in api.get(f"/api/v1/tasks?q={quote(q)}").get_json()["items"]}
    assert ids("vpn") == {in_title.id, in_description.id}
    assert ids("100%") == {percent.id}
    assert ids("%") == {percent.id}  # wildcards are searched literally
    assert ids("_") == set()


def test_wrong_method_and_unknown_path_answer_json(api):
    response = api.request("PUT", "/api/v1/tasks")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
