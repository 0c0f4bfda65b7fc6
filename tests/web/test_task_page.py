"""The task page: what it shows, who may see it, and every action on it."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.models import Comment, PluginState, Task
from workdesk.services.tasks import add_comment, transition


@pytest.fixture
def task(cast, make_task):
    return make_task(cast.requester, cast.it, title="Projector flickers", description="Room 4, since Monday.")


def test_task_page_shows_the_fields(client, login, cast, task):
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    for text in (f"#{task.number}", "Projector flickers", "Room 4, since Monday.", "Rita Requester", "IT",
                 'class="badge status-new">New<'):
        assert text in page


def test_buttons_only_for_allowed_transitions(client, login, cast, task):
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert 'name="status" value="open"' in page
    assert 'value="resolved"' not in page and 'value="in_progress"' not in page
    transition(cast.agent, task.id, "open")
    transition(cast.agent, task.id, "in_progress")
    page = client.get(f"/tasks/{task.id}").text
    assert 'name="status" value="waiting"' in page and 'name="status" value="resolved"' in page
    assert 'name="status" value="closed"' not in page


def test_a_requester_sees_own_task_but_no_status_or_assign_controls(client, login, cast, task):
    login(client, cast.requester)
    page = client.get(f"/tasks/{task.id}").text
    assert "Projector flickers" in page
    assert 'name="status"' not in page and "Reassign" not in page and "Take it" not in page
    assert "Write a comment" in page  # requesters may comment
    response = client.post(f"/tasks/{task.id}/status", data={"status": "open", "version": task.version})
    assert response.status_code == 403
    assert "Your role does not allow this: “Move tasks through the workflow”." in response.text
    assert Task.get_by_id(task.id).status == "new"


def test_a_requester_cannot_see_another_requesters_task(client, login, cast, task):
    login(client, cast.other_requester)
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 404
    assert "Projector flickers" not in response.text
    assert "Not found" in response.text and "No such task." in response.text
    for action, data in (("comments", {"body": "hello"}), ("watch", {"watching": "1"}),
                         ("status", {"status": "open"}), ("assign", {"assignee_id": ""})):
        assert client.post(f"/tasks/{task.id}/{action}", data=data).status_code == 404, action
    assert Comment.select().count() == 0


def test_an_agent_of_another_department_gets_404(client, login, cast, task):
    login(client, cast.other_agent)
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert client.post(f"/tasks/{task.id}/edit", data={"title": "Mine now", "priority": "low"}).status_code == 404
    assert Task.get_by_id(task.id).title == "Projector flickers"


def test_a_missing_task_is_the_same_404(client, login, cast):
    login(client, cast.admin)
    response = client.get("/tasks/999999")
    assert response.status_code == 404 and "No such task." in response.text


def test_moving_through_the_workflow(client, login, cast, task):
    login(client, cast.agent)
    for status in ("open", "in_progress", "resolved"):
        version = Task.get_by_id(task.id).version
        response = client.post(f"/tasks/{task.id}/status", data={"status": status, "version": version})
        assert response.status_code == 302, response.text
    task = Task.get_by_id(task.id)
    assert task.status == "resolved" and task.resolved_at is not None
    page = client.get(f"/tasks/{task.id}").text
    assert "Status changed to Resolved." in page
    assert ">Reopen</button>" in page and ">Close</button>" in page


def test_a_transition_the_workflow_forbids_is_explained(client, login, cast, task):
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/status", data={"status": "resolved", "version": task.version})
    assert response.status_code == 409
    assert "A task cannot move from New to Resolved. Allowed: Open." in response.text


def test_a_stale_page_gets_a_conflict_not_a_lost_update(client, login, cast, task):
    login(client, cast.agent)
    stale = task.version
    transition(cast.admin, task.id, "open")
    response = client.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "version": stale})
    assert response.status_code == 409
    assert "Someone else changed this task since you opened it. Reload it to see their change" in response.text
    assert "you sent" not in response.text  # no version numbers for people
    assert Task.get_by_id(task.id).status == "open"


def test_a_plugin_veto_is_shown_with_its_reason(client, login, cast, make_task, enable_plugin):
    enable_plugin("webveto")
    held = make_task(cast.agent, cast.it, title="Server swap [hold]")
    for status in ("open", "in_progress"):
        transition(cast.agent, held.id, status)
    login(client, cast.agent)
    response = client.post(f"/tasks/{held.id}/status", data={"status": "resolved",
                                                              "version": Task.get_by_id(held.id).version})
    assert response.status_code == 409
    assert "Hold blocks this change: the task is on hold" in response.text
    assert 'role="alert"' in response.text
    assert Task.get_by_id(held.id).status == "in_progress"


def test_reassign_and_unassign(client, login, cast, task, make_user):
    colleague = make_user("agent", [cast.it], name="Carl Colleague")
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert f'<option value="{colleague.id}">Carl Colleague</option>' in page
    assert "Fred Facilities" not in page  # not a member of the task's department
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": str(colleague.id),
                                                              "version": task.version})
    assert response.status_code == 302
    assert Task.get_by_id(task.id).assignee_id == colleague.id
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": "",
                                                              "version": Task.get_by_id(task.id).version})
    assert response.status_code == 302 and Task.get_by_id(task.id).assignee_id is None
    response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": "nobody",
                                                              "version": Task.get_by_id(task.id).version})
    assert response.status_code == 422 and "Choose someone from the list." in response.text


def test_the_assign_form_offers_and_accepts_only_people_who_may_work_the_task(client, login, cast, task):
    """The task page's choices are the core's eligible assignees (a requester of the department is not one)
    and a posted requester is refused by the service with its reason on the form."""
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    choices = page[page.index('name="assignee_id"'):].split("</select>")[0]
    assert f'<option value="{cast.agent.id}">Ana Agent</option>' in choices
    assert "Rita Requester" not in choices and "Otto Other" not in choices and "Fred Facilities" not in choices
    for person in (cast.requester, cast.other_agent):
        response = client.post(f"/tasks/{task.id}/assign", data={"assignee_id": str(person.id),
                                                                  "version": task.version})
        assert response.status_code == 422
        assert "Only active members of IT whose role lets them work tasks can be assigned its tasks." in response.text
    assert Task.get_by_id(task.id).assignee_id is None


def test_watch_and_unwatch(client, login, cast, task):
    login(client, cast.agent)
    assert ">Watch</button>" in client.get(f"/tasks/{task.id}").text
    client.post(f"/tasks/{task.id}/watch", data={"watching": "1"})
    assert cast.agent.id in Task.get_by_id(task.id).watcher_ids
    page = client.get(f"/tasks/{task.id}").text
    assert ">Stop watching</button>" in page and "You are watching this task." in page
    client.post(f"/tasks/{task.id}/watch", data={"watching": "0"})
    assert cast.agent.id not in Task.get_by_id(task.id).watcher_ids


def test_comments_are_added_and_shown(client, login, cast, task):
    login(client, cast.requester)
    response = client.post(f"/tasks/{task.id}/comments", data={"body": "It got worse.\nNow it is off."})
    assert response.status_code == 302 and response.headers["Location"].endswith("#comments")
    page = client.get(f"/tasks/{task.id}").text
    assert "It got worse.\nNow it is off." in page
    assert 'Comments <span class="count">1</span>' in page


def test_an_empty_comment_is_refused_on_the_form(client, login, cast, task):
    login(client, cast.requester)
    response = client.post(f"/tasks/{task.id}/comments", data={"body": "   "})
    assert response.status_code in (400, 422)
    assert "This field is required." in response.text or "A comment cannot be empty." in response.text
    assert Comment.select().count() == 0


def test_user_content_is_escaped_everywhere(client, login, cast, make_task):
    evil = "<script>alert('x')</script>"
    task = make_task(cast.requester, cast.it, title=f"Title {evil}", description=f"Body {evil}")
    add_comment(cast.requester, task.id, f"Comment {evil}")
    from workdesk.services.users import update_user
    update_user(cast.requester, cast.requester.id, {"name": f"Rita {evil}"})
    login(client, cast.agent)
    for url in (f"/tasks/{task.id}", "/queue", "/search?q=Title", "/?view=reported"):
        page = client.get(url).text
        assert "<script>" not in page, url
    page = client.get(f"/tasks/{task.id}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    login(client, cast.requester)
    assert "<script>" not in client.get("/").text  # own name in the top bar


def test_the_audit_trail_reads_as_a_timeline(client, login, cast, task):
    login(client, cast.agent)
    client.post(f"/tasks/{task.id}/take", data={"version": task.version})
    client.post(f"/tasks/{task.id}/status", data={"status": "open", "version": Task.get_by_id(task.id).version})
    client.post(f"/tasks/{task.id}/comments", data={"body": "On it."})
    client.post(f"/tasks/{task.id}/edit", data={"title": "Projector flickers badly", "priority": "high",
                                                "due_at": "2030-05-01T10:00", "description": "Room 4",
                                                "version": Task.get_by_id(task.id).version})
    page = client.get(f"/tasks/{task.id}").text
    timeline = page[page.index('<ol class="timeline">'):]
    for text in ("<strong>Rita Requester</strong> filed the task",
                 "<strong>Ana Agent</strong> took it",
                 "changed the status from New to Open",
                 "<strong>Ana Agent</strong> commented",
                 "renamed it from “Projector flickers” to “Projector flickers badly”",
                 "changed the priority from Normal to High",
                 "set the due date to",
                 "edited the description"):
        assert text in timeline, text
    assert timeline.index("filed the task") < timeline.index("commented") < timeline.index("renamed it")


def test_edit_form_saves_and_reports_errors(client, login, cast, task, make_task):
    other = make_task(cast.other_agent, cast.facilities, title="Hidden parent")
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/edit", data={"title": "", "priority": "low",
                                                            "version": task.version})
    assert response.status_code == 400 and "This field is required." in response.text
    response = client.post(f"/tasks/{task.id}/edit", data={"title": "Still here", "priority": "low",
                                                            "parent": str(other.number), "version": task.version})
    assert response.status_code == 422 and f"No task #{other.number}." in response.text
    response = client.post(f"/tasks/{task.id}/edit", data={"title": "Still here", "priority": "low",
                                                            "due_at": "2031-01-02T03:04", "version": task.version})
    assert response.status_code == 302
    saved = Task.get_by_id(task.id)
    assert (saved.title, saved.priority) == ("Still here", "low")
    assert saved.due_at == dt.datetime(2031, 1, 2, 3, 4, tzinfo=dt.timezone.utc)


def test_a_requester_gets_no_edit_form_and_cannot_edit(client, login, cast, task):
    login(client, cast.requester)
    assert "<summary>Edit</summary>" not in client.get(f"/tasks/{task.id}").text
    response = client.post(f"/tasks/{task.id}/edit", data={"title": "Changed", "priority": "low",
                                                            "version": task.version})
    assert response.status_code == 403
    assert "Your role does not allow this: “Edit the fields of tasks one can see”." in response.text


def test_plugin_panels_are_shown_escaped_and_isolated(client, login, cast, make_task, enable_plugin):
    enable_plugin("webpanel")
    enable_plugin("webpanel_broken")
    task = make_task(cast.requester, cast.it, title="Panel <b>check</b>")
    login(client, cast.agent)
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 200  # the raising plugin does not break the page
    page = response.text
    assert '<section class="card plugin-panel" data-plugin="webpanel">' in page
    assert '<p class="probe">Panel &lt;b&gt;check&lt;/b&gt; seen by Ana Agent</p>' in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page  # a plain string is text, not markup
    broken = PluginState.get_by_id("webpanel_broken")
    assert "task_page_panels raised RuntimeError('panel exploded')" in broken.last_error
    assert "<dt>webpanel · checklist</dt><dd>2 of 3 done</dd>" in page  # extra_task_data, shown as text
    assert "<dd>&lt;i&gt;plain&lt;/i&gt;</dd>" in page


def test_plugins_describe_the_audit_trail_entries_they_recorded(client, login, cast, make_task, enable_plugin,
                                                                caplog):
    from workdesk import TaskEvent
    enable_plugin("webpanel")
    enable_plugin("webpanel_broken")
    task = make_task(cast.requester, cast.it, title="Checklist")
    for kind in ("webpanel.ticked", "webpanel_broken.ticked", "webpanel.unknown"):
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=cast.agent, kind=kind,
                         changes={"item": [None, "<b>fuse</b>"]})
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "ticked “&lt;b&gt;fuse&lt;/b&gt;” on the checklist" in page  # the plugin's words, escaped
    assert page.count("changed item") == 2  # a raising plugin and a None answer: the generic line
    assert "webpanel_broken: describe_task_event raised RuntimeError('description exploded')" in caplog.text


def test_a_disabled_plugin_adds_no_panel(client, login, cast, task, enable_plugin):
    from workdesk.registry import set_plugin_enabled
    enable_plugin("webpanel")
    set_plugin_enabled("webpanel", False)
    login(client, cast.agent)
    assert "plugin-panel" not in client.get(f"/tasks/{task.id}").text


def test_subtasks_and_parent_are_linked(client, login, cast, task, make_task):
    child = make_task(cast.agent, cast.it, title="Order a new lamp", parent_id=task.id)
    login(client, cast.agent)
    parent_page = client.get(f"/tasks/{task.id}").text
    assert f'href="/tasks/{child.id}">#{child.number} Order a new lamp</a>' in parent_page
    child_page = client.get(f"/tasks/{child.id}").text
    assert f'href="/tasks/{task.id}">#{task.number} Projector flickers</a>' in child_page


def test_editing_keeps_a_parent_the_editor_cannot_see(client, login, cast, make_task, make_department):
    from workdesk.services.tasks import update_task
    secret = make_task(cast.other_agent, cast.facilities, title="Facilities project")
    child = make_task(cast.agent, cast.it, title="IT part")
    update_task(cast.admin, child.id, {"parent_id": secret.id})
    login(client, cast.agent)
    page = client.get(f"/tasks/{child.id}").text
    assert "Facilities project" not in page and f"#{secret.number}" not in page
    assert "made it part of another task" in page
    response = client.post(f"/tasks/{child.id}/edit", data={"title": "IT part, renamed", "priority": "normal",
                                                             "parent": "", "version": Task.get_by_id(child.id).version})
    assert response.status_code == 302
    saved = Task.get_by_id(child.id)
    assert (saved.title, saved.parent_id) == ("IT part, renamed", secret.id)


def test_the_edit_form_shows_the_due_date_in_the_users_time_zone(client, login, cast, make_task):
    from workdesk.services.users import update_user
    task = make_task(cast.agent, cast.it, due_at=dt.datetime(2030, 6, 1, 22, 30, tzinfo=dt.timezone.utc))
    update_user(cast.agent, cast.agent.id, {"timezone": "Europe/Sofia"})
    login(client, cast.agent)
    assert 'name="due_at" type="datetime-local" value="2030-06-02T01:30"' in client.get(f"/tasks/{task.id}").text
