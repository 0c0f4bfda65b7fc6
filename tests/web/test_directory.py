"""Directory privacy on the pages: a requester is offered only the people they work with (absence
delegates, the person filters of task lists), like the API's user list; workers see their colleagues."""
from __future__ import annotations

from workdesk import task_filters
from workdesk.services.tasks import add_watchers


def test_a_requester_in_a_department_is_offered_only_the_people_on_their_tasks(client, login, make_department,
                                                                               make_user, make_task):
    dept = make_department("Reception")
    requester = make_user("requester", [dept], name="Rita Requester")
    helper = make_user("agent", [dept], name="Hal Helper")
    unrelated = make_user("agent", [dept], name="Una Unrelated")
    task = make_task(requester, dept, title="Lost badge")
    add_watchers(task.id, [helper.id])

    login(client, requester)
    account = client.get("/account").text
    delegates = account[account.index('name="delegate_id"'):].split("</select>")[0]
    assert "Hal Helper" in delegates and "Una Unrelated" not in delegates
    people = dict(task_filters.catalogue().filters["assignee"].options(requester))
    assert str(helper.id) in people and str(unrelated.id) not in people

    login(client, helper)  # who works tasks sees every colleague
    account = client.get("/account").text
    delegates = account[account.index('name="delegate_id"'):].split("</select>")[0]
    assert "Rita Requester" in delegates and "Una Unrelated" in delegates
