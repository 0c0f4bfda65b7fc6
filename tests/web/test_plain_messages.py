"""People read plain words: HTTP error pages, conflicts, refusals and no-op changes (issue 11, item 19)."""
from __future__ import annotations

import html

import pytest
from flask import abort
from werkzeug.exceptions import default_exceptions

from workdesk.app import http_error_message
from workdesk.models import Task, TaskEvent


@pytest.fixture
def task(cast, make_task):
    return make_task(cast.agent, cast.it, title="Projector flickers", assignee_id=cast.agent.id,
                     watcher_ids=[cast.requester.id])


def test_every_http_error_page_speaks_plainly(workdesk_app, client, login, cast):
    workdesk_app.add_url_rule("/test-abort/<int:code>", "test_abort", lambda code: abort(code))
    login(client, cast.agent)
    for code, exception in sorted(default_exceptions.items()):
        if code < 400:
            continue
        response = client.get(f"/test-abort/{code}")
        text = html.unescape(response.get_data(as_text=True))
        assert response.status_code == code
        assert exception.description not in text, code  # Werkzeug's words for developers
        assert http_error_message(code) in text, code


def test_the_403_page_says_what_is_going_on(client, login, cast):
    login(client, cast.agent)
    response = client.get("/admin/")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 403
    assert "You are not allowed to open this page. If you need it, ask an administrator for access." in text
    assert "read-protected" not in text


def test_an_api_client_keeps_a_description_given_on_purpose(workdesk_app, client):
    workdesk_app.add_url_rule("/api/v1/test-abort", "test_api_abort", lambda: abort(400, "Missing field x."))
    workdesk_app.add_url_rule("/test-abort-page", "test_page_abort", lambda: abort(400, "Missing field x."))
    assert client.get("/api/v1/test-abort").get_json()["error"]["message"] == "Missing field x."
    assert "Missing field x." not in client.get("/test-abort-page").get_data(as_text=True)


def test_a_conflict_is_said_in_human_terms(client, login, cast, task):
    login(client, cast.agent)
    stale = task.version
    client.post(f"/tasks/{task.id}/edit", data={"title": "Projector flickers again", "priority": "normal",
                                                "version": stale})
    response = client.post(f"/tasks/{task.id}/edit", data={"title": "Projector is dead", "priority": "high",
                                                           "version": stale})
    text = html.unescape(response.text)
    assert response.status_code == 409
    assert "Someone else changed this task since you opened it. Reload it to see their change, then try again." in text
    assert "you sent" not in text
    assert Task.get_by_id(task.id).title == "Projector flickers again"


def test_reassigning_to_the_current_assignee_says_nothing_changed(client, login, cast, task):
    login(client, cast.agent)
    events = TaskEvent.select().count()
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": str(cast.agent.id),
                                                              "version": task.version}, follow_redirects=True)
    assert "Nothing changed: Ana Agent was already assigned to the task." in response.text
    assert "The assignee is changed." not in response.text
    assert TaskEvent.select().count() == events and Task.get_by_id(task.id).version == task.version
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": "", "version": task.version},
                           follow_redirects=True)
    assert "Nobody is assigned to the task now." in response.text
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": str(cast.agent.id),
                                                              "version": task.version + 1}, follow_redirects=True)
    assert "Ana Agent is now assigned to the task." in response.text


def test_saving_an_unchanged_task_says_nothing_changed(client, login, cast, task):
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/edit", data={"title": task.title, "priority": "normal",
                                                           "version": task.version}, follow_redirects=True)
    assert "Nothing changed." in response.text and "The task is saved." not in response.text


def test_a_refusal_names_what_the_role_lacks_in_words(client, login, cast, task):
    login(client, cast.requester)
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": "", "version": task.version})
    text = html.unescape(response.text)
    assert response.status_code == 403
    assert "Your role does not allow this: “Assign tasks to people”." in text and "task.assign" not in text


def test_the_timeline_words_every_field(client, login, cast, task):
    from workdesk.services.tasks import update_task
    update_task(cast.agent, task.id, {"type": "incident", "impact": "whole floor", "fields": {"room": "4"}})
    login(client, cast.agent)
    text = html.unescape(client.get(f"/tasks/{task.id}").text)
    assert "changed the type to Incident" in text and "changed the impact to whole floor" in text
    assert "changed the custom fields" in text and "changed fields" not in text
