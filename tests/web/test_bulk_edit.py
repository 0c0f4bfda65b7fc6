"""Bulk edit in the team pages: managers change the ticked tasks of a list, each change on its own through
the task service, and the page says per task why a change was refused."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.models import Task, TaskEvent
from workdesk.services.tasks import transition

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def manager(make_user, cast):
    return make_user("manager", [cast.it], name="Mona Manager", email="mona@example.com")


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


@BOTH_DATABASES
def test_bulk_edit_changes_each_task_and_says_why_one_was_refused(client, login, cast, manager, make_task,
                                                                   enable_plugin):
    enable_plugin("webveto")
    plain = make_task(cast.requester, cast.it, title="Monitor flickers")
    held = make_task(cast.requester, cast.it, title="Cable mess [hold]")
    other = make_task(cast.other_agent, cast.facilities, title="Door squeaks")  # invisible to the manager
    for task in (plain, held):
        for status in ("open", "in_progress"):
            transition(cast.agent, task.id, status)
    login(client, manager)
    page = client.get("/search?status=active&layout=table").text
    assert 'id="bulk-form"' in page and f'name="task_ids" value="{plain.id}" form="bulk-form"' in page
    response = client.post("/tasks/bulk?next=/search?status=active", data={
        "task_ids": [str(plain.id), str(held.id), str(other.id), "x"], "status": "resolved", "priority": "high",
        "assignee_id": str(cast.agent.id), "due_preset": "", "due_at": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/search?status=active"
    messages = _flashes(client)
    assert "2 tasks changed." in messages
    assert f"#{held.number}, status: Hold blocks this change: the task is on hold" in messages
    assert f"id {other.id}, status: No such task." in messages or any(m.startswith(f"id {other.id}, ") for m in messages)
    assert not any(f"#{other.number}," in m and "Door" in m for m in messages)  # nothing about the invisible task
    assert "x, status: Not a task id." in messages
    plain, held = Task.get_by_id(plain.id), Task.get_by_id(held.id)
    assert (plain.status, plain.priority, plain.assignee_id) == ("resolved", "high", cast.agent.id)
    assert (held.status, held.priority, held.assignee_id) == ("in_progress", "high", cast.agent.id)
    assert Task.get_by_id(other.id).priority == "normal"
    # Each change is its own audited step by the manager.
    assert TaskEvent.select().where((TaskEvent.task_id == plain.id) & (TaskEvent.actor == manager)).count() == 3


def test_bulk_due_dates_per_task_and_refused_people(client, login, cast, manager, make_task):
    first = make_task(cast.requester, cast.it, title="Keyboard")
    second = make_task(cast.requester, cast.it, title="Mouse", due_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    login(client, manager)
    client.post("/tasks/bulk", data={"task_ids": [first.id, second.id], "due_preset": "week",
                                     "assignee_id": str(cast.other_agent.id)})
    messages = _flashes(client)
    assert "2 tasks changed." in messages
    assert f"#{first.number}, assignee: Fred Facilities cannot be assigned tasks of IT." in messages
    for task in (first, second):
        due = Task.get_by_id(task.id).due_at
        assert due is not None and due > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=6)
        assert due.astimezone(dt.timezone.utc).weekday() < 5  # a working day
    client.post("/tasks/bulk", data={"task_ids": [first.id], "clear_due": "y"})
    assert Task.get_by_id(first.id).due_at is None


def test_bulk_edit_is_for_managers_and_needs_something_to_do(client, login, cast, manager, make_task):
    task = make_task(cast.requester, cast.it, title="Chair")
    login(client, cast.agent)
    assert 'id="bulk-form"' not in client.get("/search?status=active").text
    assert client.post("/tasks/bulk", data={"task_ids": [task.id], "priority": "high"}).status_code == 403
    login(client, manager)
    client.post("/tasks/bulk", data={"priority": "high"})
    assert "Tick the tasks to change first." in _flashes(client)
    client.post("/tasks/bulk", data={"task_ids": [task.id]})
    assert "Choose what to change first." in _flashes(client)
    client.post("/tasks/bulk", data={"task_ids": [task.id], "priority": "sky-high"})
    assert any("Choose a priority from the list." in m for m in _flashes(client))
    assert Task.get_by_id(task.id).priority == "normal"
