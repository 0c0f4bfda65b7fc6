"""Quick create, the expanded create form and the "my work" start page."""
from __future__ import annotations

import datetime as dt

from workdesk.models import Task
from workdesk.services.tasks import transition, update_task


def test_quick_create_files_a_task_in_the_first_department(client, login, cast, make_department):
    extra = make_department("Zeta")
    from workdesk.services.users import update_user
    update_user(cast.admin, cast.requester.id, {"department_ids": [cast.it.id, extra.id]})
    login(client, cast.requester)
    response = client.post("/tasks/quick", data={"title": "  The printer is jammed  "})
    task = Task.get(Task.title == "The printer is jammed")
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task.id}"
    assert (task.department_id, task.reporter_id, task.status, task.priority) == (cast.it.id, cast.requester.id,
                                                                               "new", "normal")
    assert f"Task #{task.number} is filed in IT." in client.get(response.headers["Location"]).text


def test_quick_create_without_a_title_says_so_on_the_start_page(client, login, cast):
    login(client, cast.requester)
    response = client.post("/tasks/quick", data={"title": "  "})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Type what needs doing, then press Add." in client.get("/").text
    assert Task.select().count() == 0


def test_a_requester_in_no_department_files_into_the_oldest_top_level_department(client, login, cast,
                                                                                  make_user, make_department):
    make_department("Annex", parent_id=cast.facilities.id)
    loner = make_user("requester", [])
    login(client, loner)
    response = client.post("/tasks/quick", data={"title": "Where does this go?"})
    task = Task.get(Task.title == "Where does this go?")
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task.id}"
    assert (task.department_id, task.reporter_id) == (cast.it.id, loner.id)
    page = client.get(response.headers["Location"]).text
    assert f"Task #{task.number} is filed in IT." in page and "Where does this go?" in page


def test_quick_create_uses_the_intake_department_by_name_or_id(workdesk_app, client, login, cast, make_user):
    loner = make_user("requester", [])
    login(client, loner)
    workdesk_app.config["WORKDESK"]["intake_department"] = "Facilities"
    client.post("/tasks/quick", data={"title": "Door sticks"})
    workdesk_app.config["WORKDESK"]["intake_department"] = cast.it.id
    client.post("/tasks/quick", data={"title": "Mouse is dead"})
    assert Task.get(Task.title == "Door sticks").department_id == cast.facilities.id
    assert Task.get(Task.title == "Mouse is dead").department_id == cast.it.id
    login(client, cast.requester)  # a member of IT files into IT whatever the intake is
    workdesk_app.config["WORKDESK"]["intake_department"] = "Facilities"
    client.post("/tasks/quick", data={"title": "Screen flickers"})
    assert Task.get(Task.title == "Screen flickers").department_id == cast.it.id


def test_quick_create_that_cannot_file_sends_to_the_full_form_with_the_title(workdesk_app, client, login, make_user):
    workdesk_app.config["WORKDESK"]["intake_department"] = "Front Desk"
    loner = make_user("requester", [])
    login(client, loner)
    response = client.post("/tasks/quick", data={"title": "Where does this go?"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks/new?title=Where+does+this+go?"
    page = client.get(response.headers["Location"]).text
    assert 'value="Where does this go?"' in page and 'role="alert"' in page
    assert "The intake department Front Desk does not exist" in page
    assert Task.select().count() == 0


def test_a_requester_lands_on_what_they_reported(client, login, cast, make_task):
    make_task(cast.requester, cast.it, title="My printer is jammed")
    make_task(cast.agent, cast.it, title="Something Ana filed", assignee_id=cast.agent.id)
    login(client, cast.requester)
    page = client.get("/").text
    assert "My printer is jammed" in page
    assert 'href="/?view=reported" aria-current="page">Reported' in page
    assert "view=assigned" not in page  # nothing is assigned to a requester: no empty tab
    login(client, cast.agent)
    page = client.get("/").text
    assert 'href="/?view=assigned" aria-current="page">Assigned' in page and "Something Ana filed" in page


def test_expanded_form_sets_every_field(client, login, cast, make_task):
    parent = make_task(cast.agent, cast.it, title="Office move")
    from workdesk.services.users import update_user
    update_user(cast.agent, cast.agent.id, {"timezone": "Europe/Sofia"})
    login(client, cast.agent)
    page = client.get("/tasks/new?title=Pack+the+servers")
    assert 'value="Pack the servers"' in page.text
    assert f'<option selected value="{cast.it.id}">IT</option>' in page.text
    response = client.post("/tasks/new", data={
        "title": "Pack the servers", "description": "Label every cable.", "department_id": cast.it.id,
        "priority": "high", "assignee_id": str(cast.agent.id), "due_at": "2030-03-01T09:30",
        "watchers": "rita@example.com, OTTO@example.com", "parent": f"#{parent.number}"})
    assert response.status_code == 302, response.text
    task = Task.get(Task.title == "Pack the servers")
    assert task.description == "Label every cable."
    assert (task.department_id, task.priority, task.assignee_id, task.parent_id) == (
        cast.it.id, "high", cast.agent.id, parent.id)  # Ana works IT's tasks: she may be their assignee
    # 09:30 in Sofia (UTC+2 in March) is 07:30 UTC.
    assert task.due_at == dt.datetime(2030, 3, 1, 7, 30, tzinfo=dt.timezone.utc)
    assert task.watcher_ids == sorted([cast.requester.id, cast.other_requester.id])


def test_expanded_form_shows_reference_errors_next_to_their_fields(client, login, cast, make_task):
    hidden = make_task(cast.other_agent, cast.facilities, title="Not yours")
    login(client, cast.requester)
    response = client.post("/tasks/new", data={"title": "x", "department_id": cast.it.id, "priority": "normal",
                                                "assignee_id": "", "watchers": "nobody@example.com"})
    assert response.status_code == 422
    assert "No user with the email nobody@example.com." in response.text
    response = client.post("/tasks/new", data={"title": "x", "department_id": cast.it.id, "priority": "normal",
                                                "assignee_id": "", "parent": str(hidden.number)})
    assert response.status_code == 422
    assert f"No task #{hidden.number}." in response.text
    assert Task.select().where(Task.title == "x").count() == 0


def test_a_requester_cannot_assign_someone_else(client, login, cast):
    login(client, cast.requester)
    page = client.get("/tasks/new").text
    assert "Ana Agent" not in page  # only "automatic" and "me" are offered
    response = client.post("/tasks/new", data={"title": "x", "department_id": cast.it.id, "priority": "normal",
                                                "assignee_id": str(cast.agent.id)})
    assert response.status_code == 403
    assert "Your role does not allow this: “Assign tasks to people”." in response.text
    assert Task.select().count() == 0


def test_my_work_lists_assigned_reported_and_watching(client, login, cast, make_task):
    make_task(cast.admin, cast.it, title="Assigned to Ana", assignee_id=cast.agent.id)
    make_task(cast.agent, cast.it, title="Filed by Ana")
    watched = make_task(cast.other_agent, cast.facilities, title="Watched by Ana")
    update_task(cast.other_agent, watched.id, {"watcher_ids": [cast.agent.id]})
    login(client, cast.agent)
    assigned_page = client.get("/").text
    assert "Assigned to Ana" in assigned_page and "Filed by Ana" not in assigned_page
    reported_page = client.get("/?view=reported").text
    assert "Filed by Ana" in reported_page and "Watched by Ana" not in reported_page
    watching_page = client.get("/?view=watching").text
    assert "Watched by Ana" in watching_page and "Assigned to Ana" not in watching_page


def test_my_work_puts_overdue_first_and_counts_per_status(client, login, cast, make_task):
    now = dt.datetime.now(dt.timezone.utc)
    later = make_task(cast.agent, cast.it, title="Due next week", assignee_id=cast.agent.id,
                      due_at=now + dt.timedelta(days=7))
    make_task(cast.agent, cast.it, title="No due date", assignee_id=cast.agent.id)
    make_task(cast.agent, cast.it, title="Was due yesterday", assignee_id=cast.agent.id,
                        due_at=now - dt.timedelta(days=1))
    done = make_task(cast.agent, cast.it, title="Already done", assignee_id=cast.agent.id)
    for status in ("open", "in_progress", "resolved"):
        transition(cast.agent, done.id, status)
    transition(cast.agent, later.id, "open")
    login(client, cast.agent)
    page = client.get("/").text
    assert page.index("Was due yesterday") < page.index("Due next week") < page.index("No due date")
    assert "Already done" not in page
    assert 'class="task is-overdue"' in page and "overdue since" in page
    assert 'New <span class="count">2</span>' in page
    assert 'Open <span class="count">1</span>' in page
    assert 'Resolved <span class="count">1</span>' in page
    resolved_page = client.get("/?status=resolved").text
    assert "Already done" in resolved_page and "No due date" not in resolved_page


def test_a_requester_cannot_learn_from_the_watchers_field_which_addresses_have_accounts(client, login, cast):
    # The other agent has never worked with the requester: the directory is closed to them, so their
    # address is answered like an address nobody has (#11 item 8).
    login(client, cast.requester)
    response = client.post("/tasks/new", data={"title": "Probe", "department_id": cast.it.id, "priority": "normal",
                                                "assignee_id": "", "watchers": cast.other_agent.email})
    assert response.status_code == 422
    assert f"No user with the email {cast.other_agent.email}." in response.text
    login(client, cast.agent)  # who works tasks sees every colleague
    response = client.post("/tasks/new", data={"title": "Ask", "department_id": cast.it.id, "priority": "normal",
                                                "assignee_id": "", "watchers": cast.other_agent.email})
    assert response.status_code == 302, response.text
