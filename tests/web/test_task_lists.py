"""The team pages' list tools: the catalogue's filters and sorts on my work, the queue and search, a plugin's
filter and joined sort, the table view, and saved views with their counts in the navigation."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from workdesk.db import utcnow
from workdesk.models import SavedView, Task
from workdesk.registry import set_plugin_enabled
from workdesk.services import saved_views
from workdesk.services.tasks import transition, update_task

from tests.sla_plugin import TEST_PLUGINS as SLA_PLUGINS
from tests.sla_plugin.models import SlaClock

from .conftest import TEST_PLUGINS
from .test_pagination import link, titles, walk

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [*TEST_PLUGINS, *SLA_PLUGINS]}


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    return [html.unescape(label) for label in re.findall(r'<option[^>]*>([^<]*)</option>', select.group(1))]


def test_filters_on_my_work_the_queue_and_search(client, login, cast, make_task):
    now = utcnow()
    mine_late = make_task(cast.agent, cast.it, title="Mine late", assignee_id=cast.agent.id,
                          due_at=now - dt.timedelta(hours=2), priority="high", type="incident")
    make_task(cast.agent, cast.it, title="Mine later", assignee_id=cast.agent.id, due_at=now + dt.timedelta(days=30))
    make_task(cast.requester, cast.it, title="Queue late", due_at=now - dt.timedelta(hours=1), impact="floor")
    make_task(cast.requester, cast.it, title="Queue calm")
    login(client, cast.agent)

    page = client.get("/?due=overdue").text
    assert titles(page) == ["Mine late"]
    # The chips count the tab under the other filters, and keep them in their links.
    assert 'New <span class="count">1</span>' in page and "due=overdue" in page
    assert titles(client.get("/?type=incident&priority=high").text) == ["Mine late"]

    assert titles(client.get("/queue?due=overdue").text) == ["Queue late"]
    assert titles(client.get("/queue?impact=floor").text) == ["Queue late"]
    queue = client.get("/queue").text
    assert 'name="assignee"' not in queue  # the queue is unassigned work by definition
    assert options(queue, "status") == ["Any", "Open (any)", "New", "Open", "In progress", "Waiting"]

    assert titles(client.get("/search?assignee=me&due=overdue").text) == ["Mine late"]
    assert sorted(titles(client.get("/search?assignee=none").text)) == ["Queue calm", "Queue late"]
    transition(cast.agent, mine_late.id, "open")
    assert titles(client.get("/search?status=open").text) == ["Mine late"]
    search = client.get("/search").text
    assert options(search, "due") == ["Any", "Overdue", "Due today", "Due this week", "Without a due date"]
    assert "Me" in options(search, "assignee") and "Unassigned" in options(search, "assignee")
    assert options(search, "department") == ["Any", "IT"]  # the agent's departments


def test_bad_values_in_a_page_address_are_left_out(client, login, cast, make_task):
    make_task(cast.agent, cast.it, title="Still listed", assignee_id=cast.agent.id)
    login(client, cast.agent)
    for query in ("status=bogus", "due=later", "assignee=99999999999999999999", "department=-3", "sort=title",
                  "colour=red", "priority=%00", "type=" + "x" * 300):
        response = client.get(f"/?{query}")
        assert response.status_code == 200, query
        assert titles(response.text) == ["Still listed"], query
        assert client.get(f"/search?{query}&q=still").status_code == 200
        assert client.get(f"/queue?{query}").status_code == 200


@BOTH_DATABASES
@pytest.mark.parametrize("sort", ["due", "-due", "priority", "-priority", "created", "-updated"])
def test_every_sort_pages_forward_and_back(client, login, cast, make_task, monkeypatch, sort):
    base = utcnow().replace(microsecond=0)
    for i in range(8):
        task = make_task(cast.agent, cast.it, title=f"Sorted {i}", assignee_id=cast.agent.id,
                         priority=["low", "urgent", "normal", "high"][i % 4],
                         due_at=None if i % 3 == 0 else base + dt.timedelta(days=i % 2))
        if i % 2:
            update_task(cast.agent, task.id, {"description": "touched"})
    login(client, cast.agent)
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 1000)
    everything = titles(client.get(f"/search?q=Sorted&sort={sort}").text)
    assert len(everything) == 8
    # The API's order is the page's.
    api_order = [Task.get_by_id(t["id"]).title for t in _api_items(client, cast.agent, sort)]
    assert everything == api_order
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 3)
    for url in (f"/search?q=Sorted&sort={sort}", f"/?sort={sort}", f"/search?q=Sorted&sort={sort}&layout=table"):
        pages, last = walk(client, url)
        assert [t for p in pages for t in p] == everything, url
        back, _ = walk(client, last, rel="prev")
        assert back == pages[::-1]


def _api_items(client, user, sort):
    from workdesk.auth import issue_token
    token = issue_token(user)
    return client.get(f"/api/v1/tasks?q=Sorted&sort={sort}&limit=200",
                      headers={"Authorization": f"Bearer {token}"}).get_json()["items"]


def test_a_cursor_of_one_sort_is_refused_by_another(client, login, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 1)
    for i in range(3):
        make_task(cast.agent, cast.it, title=f"T{i}")
    login(client, cast.agent)
    next_url = link(client.get("/search?q=T&sort=due").text, "next")
    response = client.get(next_url.replace("sort=due", "sort=-priority"))
    assert response.status_code == 400 and "This page link is broken or out of date" in response.text


@BOTH_DATABASES
def test_a_plugin_filter_and_sort_in_the_pages(client, login, cast, make_task, enable_plugin, monkeypatch):
    enable_plugin("slatest")
    now = utcnow().replace(microsecond=0)
    tasks = [make_task(cast.requester, cast.it, title=f"Clocked {i}") for i in range(7)]
    for i, task in enumerate(tasks[:5]):
        SlaClock.create(task_id=task.id, state="breached" if i % 2 else "at_risk",
                        deadline=now + dt.timedelta(hours=(5 - i) % 3))
    login(client, cast.agent)
    search = client.get("/search?q=Clocked").text
    assert options(search, "sla") == ["Any", "At risk", "Breached"]
    assert "Nearest deadline first" in options(search, "sort")
    assert sorted(titles(client.get("/search?sla=breached").text)) == ["Clocked 1", "Clocked 3"]
    assert sorted(titles(client.get("/queue?sla=at_risk").text)) == ["Clocked 0", "Clocked 2", "Clocked 4"]
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 1000)
    everything = titles(client.get("/queue?sort=sla_deadline").text)
    assert everything[-2:] == ["Clocked 5", "Clocked 6"]  # no clock: last
    deadlines = [SlaClock.get(SlaClock.task_id == Task.get(Task.title == t).id).deadline for t in everything[:5]]
    assert deadlines == sorted(deadlines)
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 2)
    pages, last = walk(client, "/queue?sort=sla_deadline")
    assert [t for p in pages for t in p] == everything
    assert walk(client, last, rel="prev")[0] == pages[::-1]

    set_plugin_enabled("slatest", False)
    page = client.get("/search?sla=breached&q=Clocked").text
    assert len(titles(page)) == 2  # the filter is left out, said so, and the rest still filters
    assert "The filter “sla” is left out: its plugin SLA test is disabled." in page
    assert 'name="sla"' not in page


def test_the_table_view_and_its_remembered_choice(client, login, cast, make_task):
    make_task(cast.requester, cast.it, title="In the table", due_at=utcnow() - dt.timedelta(hours=1))
    login(client, cast.agent)
    table = client.get("/queue?layout=table").text
    assert '<table class="task-table">' in table and "<li class=\"task" not in table
    assert titles(table) == ["In the table"]
    row = re.search(r'<tr class="task-row is-overdue">(.*?)</tr>', table, re.S).group(1)
    assert "Take it" in row and "IT" in row and "unassigned" in row
    # Remembered for the other lists until changed back.
    assert '<table class="task-table">' in client.get("/search?q=table").text
    cards = client.get("/search?q=table&layout=cards").text
    assert '<table class="task-table">' not in cards and 'class="task is-overdue"' in cards


def test_saving_opening_sharing_and_deleting_views_in_the_pages(client, login, cast, make_user, make_task):
    manager = make_user("manager", [cast.it], name="Mona Manager", email="mona@example.com")
    for i in range(3):
        make_task(cast.requester, cast.it, title=f"Urgent {i}", priority="urgent")
    make_task(cast.requester, cast.it, title="Calm one")
    login(client, manager)
    search = client.get("/search?priority=urgent&status=active&sort=-created").text
    assert options(search, "share") == ["Only me", "Everyone in IT"]
    response = client.post("/views", data={"name": "Team urgent", "share": str(cast.it.id),
                                           "params": "priority=urgent&status=active&sort=-created"})
    assert response.status_code == 302
    view = SavedView.get(SavedView.name == "Team urgent")
    assert response.headers["Location"] == f"/views/{view.id}"
    assert (view.department_id, view.params) == (cast.it.id, {"priority": "urgent", "status": "active",
                                                             "sort": "-created"})
    page = client.get(f"/views/{view.id}").text
    assert titles(page) == ["Urgent 2", "Urgent 1", "Urgent 0"]
    assert re.search(rf'href="/views/{view.id}" aria-current="page" class="shared">Team urgent '
                     r'<span class="count">3</span>', page)
    assert "Shared with IT" in page and "Delete this view" in page

    # Agents of IT see it in their navigation with their count; they may not change or delete it.
    login(client, cast.agent)
    home = client.get("/").text
    assert f'href="/views/{view.id}" class="shared">Team urgent <span class="count">3</span>' in home
    agent_page = client.get(f"/views/{view.id}").text
    assert titles(agent_page) == ["Urgent 2", "Urgent 1", "Urgent 0"] and "Delete this view" not in agent_page
    refused = client.post(f"/views/{view.id}/delete")
    assert refused.status_code == 403 and SavedView.get_or_none(SavedView.id == view.id) is not None
    # Someone outside IT learns nothing.
    login(client, cast.other_agent)
    assert client.get(f"/views/{view.id}").status_code == 404
    assert "Team urgent" not in client.get("/").text

    # A requester keeps personal views only: sharing is refused next to the field, nothing is saved.
    login(client, cast.requester)
    assert options(client.get("/search?q=x").text, "share") == ["Only me"]
    refused = client.post("/views", data={"name": "Mine", "share": str(cast.it.id), "params": "q=Urgent"})
    assert refused.status_code == 403 and "can share views with it" in refused.text
    assert SavedView.select().where(SavedView.name == "Mine").count() == 0
    nul = client.post("/views", data={"name": "Mi\x00ne", "share": "", "params": "q=Urgent"})
    assert nul.status_code == 400 and "Must not contain NUL characters." in nul.text  # the form's field error
    made = client.post("/views", data={"name": "Mine", "share": "", "params": "q=Urgent&reporter=me"})
    mine = SavedView.get(SavedView.name == "Mine")
    assert made.status_code == 302 and mine.department_id is None

    # The owner changes the filters through the search page, then deletes the view.
    login(client, manager)
    edit = client.get(f"/search?saved={view.id}&priority=urgent&status=active&q=2").text
    assert "Save these filters into “Team urgent”" in edit and 'name="saved" value="%d"' % view.id in edit
    assert client.post(f"/views/{view.id}", data={"name": "Team urgent 2", "share": str(cast.it.id),
                                                  "params": "priority=urgent&status=active&q=Urgent+2"}).status_code == 302
    assert titles(client.get(f"/views/{view.id}").text) == ["Urgent 2"]
    assert client.post(f"/views/{view.id}/delete").status_code == 302
    assert SavedView.get_or_none(SavedView.id == view.id) is None


def test_a_saved_view_whose_plugin_is_off_opens_with_a_notice(client, login, cast, make_task, enable_plugin):
    enable_plugin("slatest")
    late = make_task(cast.requester, cast.it, title="Breached one")
    make_task(cast.requester, cast.it, title="Fine one")
    SlaClock.create(task_id=late.id, state="breached")
    view = saved_views.create_view(cast.agent, name="Breached", params={"sla": "breached", "status": "active"})
    login(client, cast.agent)
    assert titles(client.get(f"/views/{view.id}").text) == ["Breached one"]
    set_plugin_enabled("slatest", False)
    page = client.get(f"/views/{view.id}").text
    assert sorted(titles(page)) == ["Breached one", "Fine one"]
    assert "The filter “sla” is left out: its plugin SLA test is disabled." in page
    assert 'Breached <span class="count">2</span>' in page


def test_saving_a_view_needs_the_csrf_token(client, login, cast):
    client.application.config["WTF_CSRF_ENABLED"] = True
    login(client, cast.agent)
    assert client.post("/views", data={"name": "x", "params": "q=x"}).status_code == 400
    assert SavedView.select().count() == 0


def _zone_at_noon(now: dt.datetime) -> str:
    """An IANA zone whose clock reads about noon at ``now``: "today" and "this week" then hold a task due in
    an hour, whatever hour the test runs at."""
    offset = max(-12, min(14, 12 - now.hour))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # the sign is POSIX's


@BOTH_DATABASES
def test_department_reporter_and_due_range_filters_in_the_pages(client, login, cast, make_user, make_task):
    now = utcnow()
    both = make_user("agent", [cast.it, cast.facilities], name="Bea Both", email="bea@example.com",
                     timezone=_zone_at_noon(now))
    make_task(cast.requester, cast.it, title="IT soon", due_at=now + dt.timedelta(hours=1))
    make_task(cast.requester, cast.it, title="IT next month", due_at=now + dt.timedelta(days=30))
    make_task(both, cast.facilities, title="Facilities undated")
    make_task(cast.other_requester, cast.facilities, title="Facilities late", due_at=now - dt.timedelta(days=9))
    login(client, both)

    search = client.get("/search").text
    assert options(search, "department") == ["Any", "Facilities", "IT"]
    assert sorted(titles(client.get(f"/search?department={cast.facilities.id}").text)) == [
        "Facilities late", "Facilities undated"]
    assert sorted(titles(client.get(f"/search?department={cast.it.id}").text)) == ["IT next month", "IT soon"]
    assert sorted(titles(client.get(f"/search?reporter={cast.requester.id}").text)) == ["IT next month", "IT soon"]
    assert titles(client.get("/search?reporter=me").text) == ["Facilities undated"]
    assert titles(client.get("/search?due=today").text) == ["IT soon"]
    assert titles(client.get("/search?due=week").text) == ["IT soon"]
    assert titles(client.get("/search?due=none").text) == ["Facilities undated"]
    assert titles(client.get("/search?due=overdue").text) == ["Facilities late"]
    # The same filters on the queue and my work, combined with the others.
    assert titles(client.get(f"/queue?department={cast.it.id}&due=today").text) == ["IT soon"]
    assert titles(client.get("/?view=reported&due=none").text) == ["Facilities undated"]
    # A department one does not belong to is no filter the page offers: left out, not an error.
    login(client, cast.agent)
    response = client.get(f"/search?department={cast.facilities.id}")
    assert response.status_code == 200 and "Facilities" not in " ".join(titles(response.text))
