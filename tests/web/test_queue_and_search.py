"""The department queue ("take it") and search, with their permission rules."""
from __future__ import annotations

import datetime as dt

from workdesk.models import Task
from workdesk.services.tasks import transition


def test_queue_shows_unassigned_open_tasks_of_my_departments_only(client, login, cast, make_task):
    make_task(cast.requester, cast.it, title="Unassigned IT task")
    make_task(cast.admin, cast.it, title="Already taken", assignee_id=cast.agent.id)
    make_task(cast.other_agent, cast.facilities, title="Facilities task")
    resolved = make_task(cast.requester, cast.it, title="Finished task")
    for status in ("open", "in_progress", "resolved"):
        transition(cast.admin, resolved.id, status)
    login(client, cast.agent)
    page = client.get("/queue").text
    assert "Unassigned IT task" in page
    for absent in ("Already taken", "Facilities task", "Finished task"):
        assert absent not in page
    assert page.count(">Take it</button>") == 1


def test_queue_filters_by_priority_status_department_and_text(client, login, cast, make_task, make_department):
    make_task(cast.requester, cast.it, title="Urgent printer fire", priority="urgent")
    calm = make_task(cast.requester, cast.it, title="Calm request about chairs", priority="low")
    transition(cast.agent, calm.id, "open")
    login(client, cast.agent)
    assert "Calm request" not in client.get("/queue?priority=urgent").text
    assert "Urgent printer" not in client.get("/queue?status=open").text
    by_text = client.get("/queue?q=chairs").text
    assert "Calm request" in by_text and "Urgent printer" not in by_text
    # Someone else's department cannot be smuggled in through the filter.
    make_task(cast.other_agent, cast.facilities, title="Facilities only")
    assert "Facilities only" not in client.get(f"/queue?department={cast.facilities.id}").text


def test_queue_puts_overdue_then_urgent_first(client, login, cast, make_task):
    now = dt.datetime.now(dt.timezone.utc)
    make_task(cast.requester, cast.it, title="Old normal")
    make_task(cast.requester, cast.it, title="Newer urgent", priority="urgent")
    make_task(cast.requester, cast.it, title="Late low", priority="low", due_at=now - dt.timedelta(hours=1))
    login(client, cast.agent)
    page = client.get("/queue").text
    assert page.index("Late low") < page.index("Newer urgent") < page.index("Old normal")


def test_take_it_assigns_to_me_and_returns_to_the_queue(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it, title="Take me")
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/take?next=/queue%3Fpriority%3D", data={"version": task.version})
    assert response.status_code == 302 and response.headers["Location"] == "/queue?priority="
    assert Task.get_by_id(task.id).assignee_id == cast.agent.id
    page = client.get("/queue?priority=").text
    assert f"You took #{task.number}." in page and "Take me" not in page


def test_taking_a_task_someone_else_just_took_is_refused(client, login, cast, make_task, make_user):
    task = make_task(cast.requester, cast.it, title="Race")
    seen_version = task.version
    quicker = make_user("agent", [cast.it], name="Quinn Quicker")
    from workdesk.services.tasks import assign
    assign(quicker, task.id, quicker.id)
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/take?next=/queue", data={"version": seen_version})
    assert response.status_code == 409
    assert "Someone else changed this task since you opened it." in response.text
    assert Task.get_by_id(task.id).assignee_id == quicker.id


def test_a_requester_has_no_queue_and_cannot_take(client, login, cast, make_task):
    own = make_task(cast.requester, cast.it, title="Mine")
    login(client, cast.requester)
    assert ">Queue<" not in client.get("/").text
    response = client.get("/queue")
    assert response.status_code == 403
    assert "Only members of a department&#39;s staff have a queue." in response.text
    response = client.post(f"/tasks/{own.id}/take", data={"version": own.version})
    assert response.status_code == 403
    assert "Your role does not allow this: “Assign tasks to people”." in response.text
    assert Task.get_by_id(own.id).assignee_id is None


def test_an_agent_of_another_department_cannot_take_and_learns_nothing(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it, title="IT only")
    login(client, cast.other_agent)
    response = client.post(f"/tasks/{task.id}/take", data={"version": task.version})
    assert response.status_code == 404
    assert "IT only" not in response.text
    assert Task.get_by_id(task.id).assignee_id is None


def test_search_finds_only_what_the_user_may_see(client, login, cast, make_task):
    own = make_task(cast.requester, cast.it, title="Broken laptop screen")
    make_task(cast.other_requester, cast.it, title="Broken chair", description="")
    make_task(cast.other_agent, cast.facilities, title="Door", description="broken hinge")
    login(client, cast.requester)
    page = client.get("/search?q=broken").text
    assert "Broken laptop screen" in page and "Broken chair" not in page and "Door" not in page
    assert "1 match" in page
    login(client, cast.agent)
    page = client.get("/search?q=broken").text
    assert "Broken laptop screen" in page and "Broken chair" in page and "Door" not in page
    login(client, cast.admin)
    page = client.get("/search?q=BROKEN").text
    assert "Door" in page and "3 matches" in page
    by_number = client.get(f"/search?q=%23{own.number}").text
    assert "Broken laptop screen" in by_number


def test_search_filters_by_status_and_escapes_the_query(client, login, cast, make_task):
    task = make_task(cast.agent, cast.it, title="Needs a look")
    transition(cast.agent, task.id, "open")
    login(client, cast.agent)
    assert "Needs a look" not in client.get("/search?q=look&status=new").text
    assert "Needs a look" in client.get("/search?q=look&status=open").text
    page = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.get("/search?q=").status_code == 200
