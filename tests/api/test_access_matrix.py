"""Who sees and does what: every role against tasks of every relation, through every API action.

The actor belongs to department A. Relations: ``own`` (reported by the actor, in department B),
``same_department`` (reported by a colleague in A), ``other_department`` (reported by a stranger in B),
``assigned`` and ``watched`` (tasks in B the actor is assigned to / watches).
"""
from __future__ import annotations

import pytest

from workdesk.models import Task
from workdesk.services.tasks import create_task

from .conftest import error_of

ROLES = ("admin", "manager", "agent", "reviewer", "requester")
RELATIONS = ("own", "same_department", "other_department", "assigned", "watched")
ACTIONS = ("read", "list", "search", "update", "comment", "delete")
CAN_EDIT = {"admin", "manager", "agent"}
CAN_DELETE = {"admin"}
SEARCH_WORD = "zebracorn"


def visible(role: str, relation: str) -> bool:
    if role == "admin" or relation in ("own", "assigned", "watched"):
        return True
    if relation == "same_department":
        return role != "requester"
    return False


def expected_status(role: str, relation: str, action: str) -> int | bool:
    if action in ("list", "search"):
        return visible(role, relation)
    if not visible(role, relation):
        return 404
    if action == "read":
        return 200
    if action == "comment":
        return 201
    if action == "update":
        return 200 if role in CAN_EDIT else 403
    return 204 if role in CAN_DELETE else 403


@pytest.fixture
def scene(make_department, make_user):
    dept_a, dept_b = make_department("A"), make_department("B")
    return {"a": dept_a, "b": dept_b, "colleague": make_user("agent", departments=[dept_a]),
            "stranger": make_user("agent", departments=[dept_b])}


def _task_for(relation: str, actor, scene):
    title = f"{relation} {SEARCH_WORD}"
    if relation == "own":
        return create_task(actor, title=title, department_id=scene["b"].id)
    if relation == "same_department":
        return create_task(scene["colleague"], title=title, department_id=scene["a"].id)
    if relation == "assigned":
        # Assigned while the actor could work B's tasks (they have since moved to A, or changed role): only
        # being the assignee makes it visible. The service would refuse this assignment today.
        task = create_task(scene["stranger"], title=title, department_id=scene["b"].id)
        Task.update(assignee=actor).where(Task.id == task.id).execute()
        return Task.get_by_id(task.id)
    if relation == "watched":
        return create_task(scene["stranger"], title=title, department_id=scene["b"].id, watcher_ids=[actor.id])
    return create_task(scene["stranger"], title=title, department_id=scene["b"].id)


def _run(api, action: str, task):
    if action == "read":
        return api.get(f"/api/v1/tasks/{task.id}")
    if action == "update":
        return api.patch(f"/api/v1/tasks/{task.id}", json={"title": "changed"})
    if action == "comment":
        return api.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "hello"})
    if action == "delete":
        return api.delete(f"/api/v1/tasks/{task.id}")
    query = f"q={SEARCH_WORD}" if action == "search" else f"department_id={task.department_id}"
    return api.get(f"/api/v1/tasks?{query}")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(api_as, make_user, scene, role, relation, action):
    actor = make_user(role, departments=[scene["a"]])
    task = _task_for(relation, actor, scene)
    response = _run(api_as(actor), action, task)
    expected = expected_status(role, relation, action)
    if action in ("list", "search"):
        assert response.status_code == 200
        ids = [t["id"] for t in response.get_json()["items"]]
        assert (task.id in ids) is expected
        return
    assert response.status_code == expected, response.get_json()
    if expected == 404:
        assert error_of(response) == {"code": "not_found", "message": "No such task.", "fields": {}}
    if expected == 403:
        assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("workdesk_database", ["postgresql"], indirect=True)
@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_visibility_on_postgresql(api_as, make_user, scene, role, relation):
    actor = make_user(role, departments=[scene["a"]])
    task = _task_for(relation, actor, scene)
    api = api_as(actor)
    listed = [t["id"] for t in api.get(f"/api/v1/tasks?q={SEARCH_WORD}").get_json()["items"]]
    assert (task.id in listed) is visible(role, relation)
    assert api.get(f"/api/v1/tasks/{task.id}").status_code == (200 if visible(role, relation) else 404)


# -- an invisible task leaks nowhere ---------------------------------------------------------------------

def test_invisible_task_is_404_on_every_route_and_absent_from_every_list(api_as, make_user, scene, enable_plugin):
    enable_plugin("apisample")
    hidden = _task_for("other_department", None, scene)
    requester = make_user("requester", departments=[scene["b"]])  # same department, still not visible
    api = api_as(requester)
    for method, url, body in [
        ("GET", f"/api/v1/tasks/{hidden.id}", None),
        ("PATCH", f"/api/v1/tasks/{hidden.id}", {"title": "x"}),
        ("PATCH", f"/api/v1/tasks/{hidden.id}", {"nonsense": 1}),  # validation does not reveal it either
        ("DELETE", f"/api/v1/tasks/{hidden.id}", None),
        ("GET", f"/api/v1/tasks/{hidden.id}/comments", None),
        ("POST", f"/api/v1/tasks/{hidden.id}/comments", {"body": "hi"}),
        ("GET", f"/api/v1/tasks/{hidden.id}/events", None),
        ("GET", f"/api/v1/apisample/tasks/{hidden.id}/summary", None),
    ]:
        response = api.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.get_json())
        assert error_of(response)["message"] == "No such task."
    missing = api.get("/api/v1/tasks/987654")
    assert missing.get_json() == api.get(f"/api/v1/tasks/{hidden.id}").get_json()  # indistinguishable
    for query in ("", f"department_id={scene['b'].id}", f"reporter_id={scene['stranger'].id}",
                  f"q={SEARCH_WORD}", "status=new", "limit=200"):
        page = api.get(f"/api/v1/tasks?{query}").get_json()
        assert page == {"items": [], "next_cursor": None}, query
    # As a parent or a comment target it is "no such task" too.
    response = api.post("/api/v1/tasks", json={"title": "child", "department_id": scene["b"].id,
                                               "parent_id": hidden.id})
    assert error_of(response)["fields"] == {"parent_id": [f"No task with id {hidden.id}."]}


def test_a_page_never_reveals_hidden_tasks_through_its_size_or_cursor(api_as, make_user, scene):
    agent = make_user("agent", departments=[scene["a"]])
    mine = [_task_for("same_department", agent, scene).id for _ in range(3)]
    for _ in range(5):
        _task_for("other_department", agent, scene)
    api = api_as(agent)
    first = api.get("/api/v1/tasks?limit=2").get_json()
    second = api.get(f"/api/v1/tasks?limit=2&cursor={first['next_cursor']}").get_json()
    assert [t["id"] for t in first["items"] + second["items"]] == sorted(mine, reverse=True)
    assert second["next_cursor"] is None


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_merged_rule_pages_equal_the_plain_visibility_query(api_as, make_user, make_department):
    """Paging each visibility rule separately and merging yields exactly ``visible_tasks`` in order."""
    import random

    from workdesk.access import may_be_assignee, visible_tasks
    from workdesk.models import Task
    rng = random.Random(7)
    depts = [make_department() for _ in range(3)]
    people = [make_user(role, departments=rng.sample(depts, rng.randint(0, 2)))
              for role in ("manager", "agent", "reviewer", "requester", "agent", "requester")]
    for index in range(60):
        reporter, dept = rng.choice(people), rng.choice(depts)
        eligible = [p.id for p in people if may_be_assignee(p, dept.id)]
        create_task(reporter, title=f"mixed {index}", department_id=dept.id,
                    priority=rng.choice(["low", "normal"]),
                    assignee_id=rng.choice([None, rng.choice(eligible)])
                    if eligible and reporter.has_permission("task.assign") else None,
                    watcher_ids=rng.sample([p.id for p in people], rng.randint(0, 2)))
    for person in people:
        api = api_as(person)
        for query, narrowed in (("", Task.select()), ("&priority=low", Task.select().where(Task.priority == "low"))):
            expected = [t.id for t in visible_tasks(person, narrowed).order_by(Task.id.desc())]
            seen, cursor = [], None
            while True:
                page = api.get(f"/api/v1/tasks?limit=4{query}" + (f"&cursor={cursor}" if cursor else "")).get_json()
                seen.extend(t["id"] for t in page["items"])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == expected, (person.role.name, query)
