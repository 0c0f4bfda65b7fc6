"""Every form carries a CSRF token and every write refuses a request without one."""
from __future__ import annotations

import pytest

from workdesk.models import Comment, Task

from .conftest import csrf_token_from

REFUSAL = "The form expired or did not come from this site. Reload the page and try again."


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize("action", ["status", "assign", "take", "watch", "comments", "edit"])
def test_task_actions_without_a_token_are_refused(client, login, cast, make_task, csrf_on, action):
    task = make_task(cast.requester, cast.it, title="Guarded")
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/{action}", data={"status": "open", "body": "x", "watching": "1",
                                                               "title": "Hijacked", "priority": "low",
                                                               "assignee_id": str(cast.agent.id)})
    assert response.status_code == 400
    assert REFUSAL in response.text
    saved = Task.get_by_id(task.id)
    assert (saved.status, saved.title, saved.assignee_id, saved.watcher_ids) == ("new", "Guarded", None, [])
    assert Comment.select().count() == 0


@pytest.mark.parametrize("url", ["/tasks/quick", "/tasks/new", "/account/preferences", "/account/password",
                                 "/logout", "/login"])
def test_other_forms_without_a_token_are_refused(client, login, cast, csrf_on, url):
    login(client, cast.agent)
    response = client.post(url, data={"title": "Forged", "email": "ana@example.com", "password": "password123"})
    assert response.status_code == 400
    assert REFUSAL in response.text
    assert Task.select().count() == 0


def test_the_token_from_the_page_is_accepted(client, login, cast, make_task, csrf_on):
    login(client, cast.agent)
    token = csrf_token_from(client.get("/").text)
    response = client.post("/tasks/quick", data={"title": "Real form", "csrf_token": token})
    assert response.status_code == 302
    task = Task.get(Task.title == "Real form")
    page = client.get(f"/tasks/{task.id}").text
    response = client.post(f"/tasks/{task.id}/comments", data={"body": "Genuine", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and Comment.get().body == "Genuine"


def test_every_form_on_the_task_page_carries_a_token(client, login, cast, make_task, csrf_on):
    task = make_task(cast.requester, cast.it)
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert page.count('<form method="post"') == page.count('name="csrf_token"')
    assert page.count('<form method="post"') >= 6  # status, edit, comment, take, assign, watch (+ logout)
