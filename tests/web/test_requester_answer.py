"""A requester confirms a resolution or reopens the task with a reason: through the task service (the
workflow, the plugins' vetoes), recorded in the audit trail, told to the people on the task."""
from __future__ import annotations

import pytest

from workdesk.models import Task, TaskEvent
from workdesk.notifications import Notification
from workdesk.services.tasks import assign, transition

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def _resolve(task, agent):
    for status in ("open", "in_progress", "resolved"):
        transition(agent, task.id, status)


@BOTH_DATABASES
def test_the_reporter_confirms_a_resolution(client, login, cast, make_task, drain_events):
    task = make_task(cast.requester, cast.it, title="Projector in room 4")
    assign(cast.agent, task.id, cast.agent.id)
    login(client, cast.requester)
    assert "Is it done?" not in client.get(f"/tasks/{task.id}").text  # only once it is resolved
    _resolve(task, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "Is it done?" in page and "Yes, it is done" in page
    response = client.post(f"/tasks/{task.id}/confirm", data={"version": Task.get_by_id(task.id).version},
                           follow_redirects=True)
    assert "Thank you: the task is closed." in response.text
    assert Task.get_by_id(task.id).status == "closed"
    event = TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc()).first()
    assert (event.kind, event.actor_id, event.changes["status"]) == ("confirmed", cast.requester.id,
                                                                    ["resolved", "closed"])
    assert "confirmed the resolution and closed the task" in response.text
    drain_events()
    note = Notification.get((Notification.recipient == cast.agent) & (Notification.task_id == task.id)
                            & (Notification.kind == "task.status_changed") & Notification.subject.contains("Closed"))
    assert "Rita Requester moved" in note.body


@BOTH_DATABASES
def test_the_reporter_reopens_with_a_reason(client, login, cast, make_task, drain_events):
    task = make_task(cast.requester, cast.it, title="Scanner offline")
    assign(cast.agent, task.id, cast.agent.id)
    _resolve(task, cast.agent)
    login(client, cast.requester)
    version = Task.get_by_id(task.id).version
    response = client.post(f"/tasks/{task.id}/reopen", data={"version": version, "reason": "  "})
    assert response.status_code == 400 and Task.get_by_id(task.id).status == "resolved"
    response = client.post(f"/tasks/{task.id}/reopen", data={"version": version,
                                                              "reason": "It still shows offline."},
                           follow_redirects=True)
    assert "The task is open again" in response.text
    assert Task.get_by_id(task.id).status == "open"
    event = TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc()).first()
    assert event.kind == "reopened" and event.changes["reason"] == [None, "It still shows offline."]
    assert "reopened the task: “It still shows offline.”" in response.text
    drain_events()
    note = Notification.get((Notification.recipient == cast.agent) & Notification.subject.contains("is now Open"))
    assert "Reason: It still shows offline." in note.body


def test_only_the_reporter_or_staff_may_answer_and_only_a_done_task(cast, make_task, api_client):
    def api(user):
        return api_client(user=user)

    task = make_task(cast.requester, cast.it, title="Desk lamp")
    # Not resolved yet: nothing to confirm.
    response = api(cast.requester).post(f"/api/v1/tasks/{task.id}/confirm", json={})
    assert response.status_code == 409 and response.json["error"]["code"] == "invalid_transition"
    assert "Only a resolved task can be confirmed" in response.json["error"]["message"]
    _resolve(task, cast.agent)
    # Another requester of the same department cannot see it: 404.
    assert api(cast.other_requester).post(f"/api/v1/tasks/{task.id}/confirm", json={}).status_code == 404
    # Reopening through the API needs the reason.
    response = api(cast.requester).post(f"/api/v1/tasks/{task.id}/reopen", json={"reason": ""})
    assert response.status_code == 422 and "reason" in response.json["error"]["fields"]
    response = api(cast.requester).post(f"/api/v1/tasks/{task.id}/reopen", json={"reason": "Flickers."})
    assert response.status_code == 200 and response.json["status"] == "open"


def test_a_veto_refuses_the_confirmation_and_the_reopening_with_its_reason(client, login, cast, make_task,
                                                                           enable_plugin):
    enable_plugin("webveto")
    task = make_task(cast.requester, cast.it, title="Lift out of order [locked]")
    _resolve(task, cast.agent)
    login(client, cast.requester)
    version = Task.get_by_id(task.id).version
    response = client.post(f"/tasks/{task.id}/confirm", data={"version": version})
    assert response.status_code == 409 and "Hold blocks this change: the task is locked" in response.text
    response = client.post(f"/tasks/{task.id}/reopen", data={"version": version, "reason": "Still stuck."})
    assert response.status_code == 409 and "the task is locked" in response.text
    assert Task.get_by_id(task.id).status == "resolved"
