"""The task list: escaping, filters, search, CSV export and the four bulk actions (with partial failure)."""
from __future__ import annotations

import csv
import html as html_lib
import io

import pytest

from workdesk.models import Task, TaskEvent
from workdesk.services import tasks as task_service


def run_action(client, csrf_token, action: str, tasks, **params):
    ids = [str(t.id) if hasattr(t, "id") else str(t) for t in tasks]
    data = {"csrf_token": csrf_token(client, "/admin/tasks/"), "action": action, "rowid": ids,
            "url": "/admin/tasks/", **params}
    response = client.post("/admin/tasks/action/", data=data, follow_redirects=True)
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


@pytest.fixture
def agent(make_user, department):
    return make_user("agent", departments=[department], name="Aggie Agent")


def test_script_title_stays_text_in_list_and_details(client, admin, department, make_task):
    task = make_task(admin, department, title="<script>alert('x')</script>", description="<b>bold</b>")
    for url in ("/admin/tasks/", f"/admin/tasks/details/?id={task.id}", "/admin/audit/", "/admin/"):
        text = client.get(url).get_data(as_text=True)
        assert "<script>alert(" not in text, url
        assert "<b>bold</b>" not in text, url
    assert "&lt;script&gt;alert(" in client.get("/admin/tasks/").get_data(as_text=True)
    details = client.get(f"/admin/tasks/details/?id={task.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in details and "&lt;b&gt;bold&lt;/b&gt;" in details


def test_search_filters_and_sorting(client, admin, department, make_department, make_task, agent):
    other = make_department("Facilities")
    make_task(admin, department, title="Printer on fire", priority="urgent", assignee_id=agent.id)
    make_task(admin, other, title="Leaking tap", priority="low")
    text = client.get("/admin/tasks/?search=printer").get_data(as_text=True)
    assert "Printer on fire" in text and "Leaking tap" not in text
    # Filter arguments are flt<position>_<index of the filter in column_filters>.
    by_priority = client.get("/admin/tasks/?flt0_2=urgent").get_data(as_text=True)
    assert "Printer on fire" in by_priority and "Leaking tap" not in by_priority
    by_department = client.get(f"/admin/tasks/?flt0_3={other.id}").get_data(as_text=True)
    assert "Leaking tap" in by_department and "Printer on fire" not in by_department
    by_assignee = client.get(f"/admin/tasks/?flt0_4={agent.id}").get_data(as_text=True)
    assert "Printer on fire" in by_assignee and "Leaking tap" not in by_assignee
    unassigned = client.get("/admin/tasks/?flt0_5=1").get_data(as_text=True)
    assert "Leaking tap" in unassigned and "Printer on fire" not in unassigned
    by_title = client.get("/admin/tasks/?sort=1").get_data(as_text=True)
    assert by_title.index("Leaking tap") < by_title.index("Printer on fire")
    options = client.get("/admin/tasks/").get_data(as_text=True)
    assert "Facilities" in options and "Aggie Agent" in options  # filter options read per request


def test_csv_export_escapes_formulas(client, admin, department, make_task):
    make_task(admin, department, title="=HYPERLINK(\"http://evil\",\"x\")")
    make_task(admin, department, title="+1+2")
    make_task(admin, department, title="plain title")
    response = client.get("/admin/tasks/export/csv/")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    titles = {row[1] for row in rows[1:]}
    assert titles == {"'=HYPERLINK(\"http://evil\",\"x\")", "'+1+2", "plain title"}


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_bulk_assign_with_partial_failure(client, admin, csrf_token, department, make_task, agent):
    first, second, gone = (make_task(admin, department) for _ in range(3))
    task_service.delete_task(admin, gone.id)
    text = run_action(client, csrf_token, "assign", [first, second, gone], bulk_assignee=str(agent.id))
    assert "2 tasks assigned." in text
    assert f"1 task was not changed: id {gone.id}: No such task." in text
    assert {t.assignee_id for t in Task.select().where(Task.id.in_([first.id, second.id]))} == {agent.id}
    entry = TaskEvent.select().where((TaskEvent.task_id == first.id) & (TaskEvent.kind == "updated")).get()
    assert entry.actor_id == admin.id and entry.changes == {"assignee_id": [None, agent.id]}


def test_bulk_assign_refuses_people_who_may_not_work_the_task_per_task(client, admin, csrf_token, department,
                                                                       make_department, make_task, make_user, agent):
    """The task service's one rule on assignees: a requester, or an agent of another department, is refused
    for each task with the reason; the choices offer only people who work tasks (with their departments)."""
    requester = make_user("requester", departments=[department], name="Rita Requester")
    other = make_department("Garage")
    mechanic = make_user("agent", departments=[other], name="Mo Mechanic")
    here, there = make_task(admin, department), make_task(admin, other)
    page = html_lib.unescape(client.get("/admin/tasks/").get_data(as_text=True))
    choices = page[page.index('name="bulk_assignee"'):].split("</select>")[0]
    assert "Aggie Agent (Support)" in choices and "Mo Mechanic (Garage)" in choices and "Rita" not in choices

    text = run_action(client, csrf_token, "assign", [here, there], bulk_assignee=str(requester.id))
    assert (f"2 tasks were not changed: #{here.number}: Rita Requester cannot be assigned tasks of Support.; "
            f"#{there.number}: Rita Requester cannot be assigned tasks of Garage.") in text
    text = run_action(client, csrf_token, "assign", [here, there], bulk_assignee=str(mechanic.id))
    assert "1 task assigned." in text
    assert f"1 task was not changed: #{here.number}: Mo Mechanic cannot be assigned tasks of Support." in text
    assert Task.get_by_id(here.id).assignee_id is None and Task.get_by_id(there.id).assignee_id == mechanic.id


def test_edit_refuses_an_assignee_who_may_not_work_the_task(client, admin, csrf_token, department, make_task,
                                                            make_user, agent):
    requester = make_user("requester", departments=[department], name="Rita Requester")
    task = make_task(admin, department, title="Leaking tap")
    url = f"/admin/tasks/edit/?id={task.id}"
    form = client.get(url).get_data(as_text=True)
    assert "Rita Requester" not in form[form.index('name="assignee_id"'):].split("</select>")[0]
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "title": "Leaking tap", "description": "", "priority": "normal",
        "type": "task", "department_id": str(department.id), "assignee_id": str(requester.id), "due_at": ""})
    text = html_lib.unescape(response.get_data(as_text=True))
    assert "Rita Requester cannot be assigned tasks of Support." in text
    assert "Only active members of Support whose role lets them work tasks can be assigned its tasks." in text
    assert (Task.get_by_id(task.id).assignee_id, Task.get_by_id(task.id).version) == (None, 1)
    for junk in ("abc", "²", str(2 ** 64)):
        response = client.post(url, data={
            "csrf_token": csrf_token(client, url), "title": "Leaking tap", "description": "", "priority": "normal",
            "type": "task", "department_id": str(department.id), "assignee_id": junk, "due_at": ""})
        assert response.status_code == 200 and "Choose from the list." in response.get_data(as_text=True)


def test_bulk_unassign_and_missing_choice(client, admin, csrf_token, department, make_task, agent):
    task = make_task(admin, department, assignee_id=agent.id)
    assert "Choose the person" in run_action(client, csrf_token, "assign", [task], bulk_assignee="")
    assert Task.get_by_id(task.id).assignee_id == agent.id
    assert "1 task assigned." in run_action(client, csrf_token, "assign", [task], bulk_assignee="none")
    assert Task.get_by_id(task.id).assignee_id is None


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_bulk_status_follows_workflow_and_plugin_vetoes(client, admin, csrf_token, department, make_task,
                                                        enable_plugin):
    enable_plugin("sample", greeting="hi")
    ready = make_task(admin, department, title="Ready")
    frozen = make_task(admin, department, title="[frozen] Later")
    fresh = make_task(admin, department, title="Fresh")
    for task in (ready, frozen):
        task_service.transition(admin, task.id, "open")
    text = run_action(client, csrf_token, "set_status", [ready, frozen, fresh], bulk_status="in_progress")
    assert "1 task moved to In progress." in text
    assert f"#{frozen.number}: Sample plugin blocks this change: frozen tasks cannot start" in text
    assert f"#{fresh.number}: A task cannot move from New to In progress. Allowed: Open." in text
    assert [Task.get_by_id(t.id).status for t in (ready, frozen, fresh)] == ["in_progress", "open", "new"]


def test_bulk_priority(client, admin, csrf_token, department, make_task):
    tasks = [make_task(admin, department) for _ in range(2)]
    text = run_action(client, csrf_token, "set_priority", tasks + ["abc"], bulk_priority="high")
    assert "2 tasks now have priority High." in text
    assert "1 task was not changed: abc: Not a task id." in text
    assert {Task.get_by_id(t.id).priority for t in tasks} == {"high"}
    assert "Choose the priority" in run_action(client, csrf_token, "set_priority", tasks, bulk_priority="extreme")


def test_bulk_close_only_closes_resolved_tasks(client, admin, csrf_token, department, make_task):
    done = make_task(admin, department, title="Done")
    for status in ("open", "in_progress", "resolved"):
        task_service.transition(admin, done.id, status)
    busy = make_task(admin, department, title="Busy")
    text = run_action(client, csrf_token, "close", [done, busy])
    assert "1 task closed." in text
    assert f"#{busy.number}: A task cannot move from New to Closed. Allowed: Open." in text
    assert Task.get_by_id(done.id).status == "closed" and Task.get_by_id(busy.id).status == "new"


def test_edit_goes_through_the_service(client, admin, csrf_token, department, make_task, agent):
    task = make_task(admin, department, title="Old title")
    form = client.get(f"/admin/tasks/edit/?id={task.id}").get_data(as_text=True)
    assert 'value="Old title"' in form
    response = client.post(f"/admin/tasks/edit/?id={task.id}", data={
        "csrf_token": csrf_token(client, f"/admin/tasks/edit/?id={task.id}"), "title": "New title",
        "description": "", "priority": "high", "type": "task", "department_id": str(department.id),
        "assignee_id": str(agent.id), "due_at": "2030-01-02T09:30"})
    assert response.status_code == 302
    task = Task.get_by_id(task.id)
    assert (task.title, task.priority, task.assignee_id, task.version) == ("New title", "high", agent.id, 2)
    assert task.due_at.isoformat() == "2030-01-02T09:30:00+00:00"  # the admin's time zone is UTC
    entry = TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "updated")).get()
    assert entry.changes["title"] == ["Old title", "New title"]


def test_delete_keeps_the_audit_trail(client, admin, csrf_token, department, make_task):
    task = make_task(admin, department, title="Short-lived")
    response = client.post("/admin/tasks/delete/", data={"csrf_token": csrf_token(client, "/admin/tasks/"),
                                                         "id": str(task.id), "url": "/admin/tasks/"})
    assert response.status_code == 302
    assert Task.get_or_none(Task.id == task.id) is None
    assert TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "deleted")).exists()


def test_audit_trail_is_read_only(client, admin, csrf_token, department, make_task):
    task = make_task(admin, department)
    entry = TaskEvent.select().where(TaskEvent.task_id == task.id).get()
    assert client.get(f"/admin/audit/edit/?id={entry.id}").status_code == 302  # Flask-Admin's "not allowed"
    client.post("/admin/audit/delete/", data={"csrf_token": csrf_token(client, "/admin/audit/"), "id": str(entry.id)})
    assert TaskEvent.get_or_none(TaskEvent.id == entry.id) is not None
    listing = client.get("/admin/audit/?flt0_0=%d" % task.number).get_data(as_text=True)
    assert "created" in listing and "/admin/audit/edit/" not in listing and "/admin/audit/delete/" not in listing


def test_comments_are_listed_escaped(client, admin, department, make_task):
    task = make_task(admin, department)
    task_service.add_comment(admin, task.id, "<img src=x onerror=alert(1)>")
    text = client.get("/admin/comments/").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img src=x" not in text


def test_an_admin_without_view_all_sees_only_visible_tasks(client, login, make_user, make_department, make_task,
                                                           admin):
    from workdesk.services.users import create_role
    create_role(admin, name="deskadmin", permissions=["admin.access", "task.view_department"])
    support, facilities = make_department("Support"), make_department("Facilities")
    desk = make_user("deskadmin", departments=[support])
    mine = make_task(admin, support, title="Support matter")
    hidden = make_task(admin, facilities, title="Facilities secret")
    task_service.add_comment(admin, hidden.id, "secret comment")
    login(client, desk)
    listing = client.get("/admin/tasks/").get_data(as_text=True)
    assert "Support matter" in listing and "Facilities secret" not in listing
    assert "Facilities secret" not in client.get(f"/admin/tasks/details/?id={hidden.id}",
                                                 follow_redirects=True).get_data(as_text=True)
    assert "secret comment" not in client.get("/admin/comments/").get_data(as_text=True)
    assert "Facilities secret" not in client.get("/admin/audit/").get_data(as_text=True)
    assert client.get(f"/admin/tasks/details/?id={mine.id}").status_code == 200
