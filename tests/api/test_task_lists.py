"""GET /api/v1/tasks: every filter and sort of the task-list catalogue, keyset pages in any order, plugin filters."""
from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from peewee import JOIN

from workdesk import task_filters
from workdesk.db import utcnow
from workdesk.models import PluginState, Task
from workdesk.registry import set_plugin_enabled
from workdesk.services.tasks import transition, update_task

from tests.sla_plugin import TEST_PLUGINS
from tests.sla_plugin.models import SlaClock

from .conftest import error_of

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
SORTS = ["due", "-due", "priority", "-priority", "created", "-created", "updated", "-updated"]


@pytest.fixture
def workdesk_config(workdesk_config, request, monkeypatch):
    monkeypatch.syspath_prepend(str(request.config.rootpath))
    return {**workdesk_config, "extra_plugins": [*workdesk_config["extra_plugins"], *TEST_PLUGINS]}


@pytest.fixture
def agent(make_user, dept):
    return make_user("agent", departments=[dept], name="Agnes Agent")


@pytest.fixture
def api(api_as, agent):
    return api_as(agent)


def walk(api, limit: int = 2, **params) -> list[int]:
    """Every task id of the list, page by page."""
    seen, cursor = [], None
    for _ in range(200):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.get(f"/api/v1/tasks?{urlencode(query)}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        seen.extend(t["id"] for t in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert len(seen) == len(set(seen)), "a task appeared twice"
            return seen
    raise AssertionError("the pages never end")


def ids(api, **params) -> set[int]:
    return set(walk(api, limit=200, **params))


@BOTH_DATABASES
def test_every_core_filter(api, api_as, agent, dept, make_user, make_department, make_task):
    other_dept = make_department()
    colleague = make_user("agent", departments=[dept, other_dept])
    mine = make_task(agent, dept, title="mine", assignee_id=agent.id, priority="high", type="incident",
                     impact="site")
    theirs = make_task(colleague, dept, title="theirs", assignee_id=colleague.id, description="vpn down")
    nobody = make_task(colleague, other_dept, title="nobody's")
    done = make_task(agent, dept, title="done", assignee_id=agent.id)
    for status in ("open", "in_progress", "resolved"):
        transition(agent, done.id, status)

    assert ids(api, assignee="me") == {mine.id, done.id}
    assert ids(api, assignee="none") == set()  # nobody's task is in a department the agent is not in
    assert ids(api, assignee=str(colleague.id)) == {theirs.id}
    assert ids(api, assignee_id=str(agent.id)) == {mine.id, done.id}  # the first API's name still works
    assert ids(api, department=str(dept.id)) == {mine.id, theirs.id, done.id}
    assert ids(api, status="active") == {mine.id, theirs.id}
    assert ids(api, status="done") == {done.id}
    assert ids(api, status="resolved") == {done.id}
    assert ids(api, priority="high") == {mine.id}
    assert ids(api, type="incident") == {mine.id}
    assert ids(api, impact="site") == {mine.id}
    assert ids(api, reporter="me") == {mine.id, done.id}
    assert ids(api, q="VPN") == {theirs.id}
    assert ids(api, q=f"#{mine.number}") == {mine.id}
    assert ids(api, status="active", assignee="me", priority="high") == {mine.id}
    assert ids(api, status="", priority="") == {mine.id, theirs.id, done.id}  # blank is no filter
    assert ids(api_as(colleague), assignee="none") == {nobody.id}  # the colleague sees both departments


@BOTH_DATABASES
def test_due_ranges_are_the_viewers_days_and_overdue_is_the_one_predicate(workdesk_app, make_user, dept,
                                                                         make_task):
    viewer = make_user("agent", departments=[dept], timezone="Pacific/Auckland", locale="de")  # weeks from Monday
    zone = viewer.zone
    # Wednesday 2026-03-04 08:00 in Auckland (2026-03-03 19:00 UTC).
    now = dt.datetime(2026, 3, 4, 8, 0, tzinfo=zone).astimezone(dt.timezone.utc)

    def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, minute, tzinfo=zone)
    tasks = {name: make_task(viewer, dept, title=name, due_at=due) for name, due in {
        "earlier today": local(4, 0, 0), "later today": local(4, 23, 59), "tomorrow": local(5, 0, 0),
        "monday": local(2, 0, 0), "sunday": local(8, 23, 0), "next monday": local(9, 0, 0),
        "last sunday": local(1, 23, 59), "undated": None}.items()}
    done = tasks["last sunday"]
    for status in ("open", "in_progress", "resolved"):
        transition(viewer, done.id, status)

    def names(value: str, locale: str = "de") -> set[str]:
        listing, errors = task_filters.parse({"due": value})
        assert errors == {}
        query = listing.apply(Task.select(), task_filters.FilterContext(viewer, now, zone, locale))
        return {t.title for t in query}
    assert names("today") == {"earlier today", "later today"}
    assert names("week") == {"monday", "earlier today", "later today", "tomorrow", "sunday"}
    # An American English week runs from Sunday 1 to Saturday 7 March.
    assert names("week", "en") == {"last sunday", "monday", "earlier today", "later today", "tomorrow"}
    assert names("overdue") == {"monday", "earlier today"}  # the resolved one is not overdue
    assert names("none") == {"undated"}
    assert {t.title for t in Task.select() if t.is_overdue(now)} == names("overdue")


def _expected(tasks: list[Task], sort: str) -> list[int]:
    """The order the database must give, computed in Python: NULLs last both ways, ties by id."""
    name, descending = sort.lstrip("-"), sort.startswith("-")
    rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    value = {"due": lambda t: t.due_at, "priority": lambda t: rank[t.priority], "created": lambda t: t.created_at,
             "updated": lambda t: t.updated_at, "sla_deadline": lambda t: getattr(t, "deadline", None)}[name]

    def compare(a, b):
        va, vb = value(a), value(b)
        if va != vb:
            if va is None or vb is None:
                return 1 if va is None else -1
            return (1 if va > vb else -1) * (-1 if descending else 1)
        return (1 if a.id > b.id else -1) * (-1 if descending else 1)
    return [t.id for t in sorted(tasks, key=functools.cmp_to_key(compare))]


@BOTH_DATABASES
def test_every_sort_pages_in_order_both_ways_with_ties(api, agent, dept, make_task):
    base = utcnow().replace(microsecond=0) + dt.timedelta(days=1)
    created = []
    for i in range(11):
        due = None if i % 4 == 0 else base + dt.timedelta(hours=i % 3)  # many equal due dates, some none
        created.append(make_task(agent, dept, title=f"T{i}", due_at=due,
                                 priority=["low", "urgent", "normal", "high"][i % 4]))
    for task in created[::3]:
        update_task(agent, task.id, {"title": task.title + " (edited)"})
    tasks = list(Task.select())
    for sort in SORTS:
        assert walk(api, limit=2, sort=sort) == _expected(tasks, sort), sort
        assert walk(api, limit=3, sort=sort, status="new", q="T") == _expected(tasks, sort), sort
    assert walk(api, limit=4) == sorted((t.id for t in tasks), reverse=True)  # default: newest first


@BOTH_DATABASES
def test_sorted_pages_hold_only_visible_tasks(api_as, make_user, make_department, make_task):
    it, hr, lab = make_department(), make_department(), make_department()
    agent = make_user("agent", departments=[it, hr])
    outsider = make_user("agent", departments=[lab])
    now = utcnow()
    visible = [make_task(outsider, it, title=f"it {i}", due_at=now + dt.timedelta(hours=i)) for i in range(4)]
    visible += [make_task(outsider, hr, title=f"hr {i}", due_at=now + dt.timedelta(hours=i)) for i in range(3)]
    visible.append(make_task(outsider, lab, title="lab, watched", watcher_ids=[agent.id], due_at=now))
    visible.append(make_task(agent, lab, title="lab, reported", due_at=now + dt.timedelta(minutes=5)))
    for i in range(5):
        make_task(outsider, lab, title=f"lab hidden {i}", due_at=now + dt.timedelta(minutes=i))
    api = api_as(agent)
    expected = _expected(list(Task.select().where(Task.id.in_([t.id for t in visible]))), "due")
    assert walk(api, limit=2, sort="due") == expected
    assert walk(api, limit=3, sort="-due") == _expected(list(Task.select().where(
        Task.id.in_([t.id for t in visible]))), "-due")


@pytest.mark.parametrize("query, field, message", [
    ("assignee=bob", "assignee", "Use “me”, “none” or a user id."),
    ("assignee=99999999999999999999", "assignee", "Use “me”, “none” or a user id."),
    ("assignee=12345", "assignee", "No such record (id 12345)."),
    ("reporter=none", "reporter", "Use “me” or a user id."),
    ("department=99999999999999999999", "department", None),
    ("department=77777", "department", "No such record (id 77777)."),
    ("due=tomorrow", "due", None),
    ("status=finished", "status", None),
    ("sort=title", "sort", None),
    ("sort=--due", "sort", None),
    ("type=" + "x" * 65, "type", None),
    ("q=%00", "q", None),
    ("colour=red", "colour", "Unknown filter."),
    ("sla=breached", "sla", "This filter belongs to the plugin SLA test, which is disabled."),
    ("sort=sla_deadline", "sort", "This sort belongs to the plugin SLA test, which is disabled."),
    ("limit=0&due=later", "limit", None),
])
def test_bad_list_parameters_are_422_naming_the_parameter(api, query, field, message):
    response = api.get(f"/api/v1/tasks?{query}")
    assert response.status_code == 422, response.get_json()
    fields = error_of(response)["fields"]
    assert field in fields, fields
    if message:
        assert fields[field] == [message]


def test_a_cursor_of_another_sort_is_refused(api, agent, dept, make_task):
    for i in range(3):
        make_task(agent, dept, title=f"T{i}")
    by_due = api.get("/api/v1/tasks?limit=1&sort=due").get_json()["next_cursor"]
    newest = api.get("/api/v1/tasks?limit=1").get_json()["next_cursor"]
    for query in (f"sort=-due&cursor={by_due}", f"sort=priority&cursor={by_due}", f"cursor={by_due}",
                  f"sort=due&cursor={newest}"):
        response = api.get(f"/api/v1/tasks?limit=1&{query}")
        assert response.status_code == 422, query
        assert "cursor" in error_of(response)["fields"]


@BOTH_DATABASES
def test_a_plugin_filter_and_joined_sort_in_the_api_and_its_document(api, client, agent, dept, make_task,
                                                                     enable_plugin):
    enable_plugin("slatest")
    now = utcnow().replace(microsecond=0)
    tasks = [make_task(agent, dept, title=f"S{i}") for i in range(9)]
    states = ["breached", "at_risk", "running", "breached", None, "at_risk", "breached", None, "running"]
    for i, (task, state) in enumerate(zip(tasks, states)):
        if state is not None:  # two tasks have no clock: they come last in both directions
            SlaClock.create(task_id=task.id, state=state, deadline=now + dt.timedelta(hours=i % 3))
    assert ids(api, sla="breached") == {tasks[i].id for i in (0, 3, 6)}
    assert ids(api, sla="at_risk", q="S5") == {tasks[5].id}
    rows = list(Task.select(Task, SlaClock.deadline).join_from(
        Task, SlaClock, JOIN.LEFT_OUTER, on=(SlaClock.task_id == Task.id)).objects())
    for sort in ("sla_deadline", "-sla_deadline"):
        assert walk(api, limit=2, sort=sort) == _expected(rows, sort), sort
    assert walk(api, limit=2, sort="sla_deadline", sla="breached") == _expected(
        [r for r in rows if r.id in {tasks[i].id for i in (0, 3, 6)}], "sla_deadline")
    bad = api.get("/api/v1/tasks?sla=late")
    assert bad.status_code == 422 and "sla" in error_of(bad)["fields"]

    listing = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tasks"]["get"]
    sla = next(p for p in listing["parameters"] if p["name"] == "sla")
    assert sla["schema"]["enum"] == ["at_risk", "breached"]
    sort = next(p for p in listing["parameters"] if p["name"] == "sort")
    assert {"sla_deadline", "-sla_deadline"} <= set(sort["schema"]["enum"])

    set_plugin_enabled("slatest", False)
    gone = api.get("/api/v1/tasks?sla=breached")
    assert gone.status_code == 422
    assert error_of(gone)["fields"] == {"sla": ["This filter belongs to the plugin SLA test, which is disabled."]}
    listing = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tasks"]["get"]
    assert "sla" not in {p["name"] for p in listing["parameters"]}


def test_broken_plugin_filters_are_left_out_and_recorded(api, agent, dept, make_task, enable_plugin):
    enable_plugin("brokenfilters")
    enable_plugin("raisingfilters")
    tasks = {make_task(agent, dept).id for _ in range(3)}
    assert ids(api, boom="yes") == tasks  # its apply raised: the filter is left out, the list still answers
    assert "'boom' raised RuntimeError('the filter table is gone')" in PluginState.get_by_id("brokenfilters").last_error
    assert ids(api, status="new") == tasks  # the core's status filter kept its name
    assert walk(api, limit=2, sort="boomsort") == sorted(tasks, reverse=True)  # its join raised: the usual order
    assert "'boomsort' raised RuntimeError('the sort table is gone')" in PluginState.get_by_id("brokenfilters").last_error
    assert "could not build my filters" in PluginState.get_by_id("raisingfilters").last_error


def test_the_hook_rejects_bad_items_by_name(workdesk_app, enable_plugin):
    enable_plugin("brokenfilters")
    catalogue = task_filters.build_catalogue()
    assert "boom" in catalogue.filters and catalogue.filters["status"].plugin is None
    error = PluginState.get_by_id("brokenfilters").last_error
    assert "filter name 'status' is already taken" in error


def test_a_day_across_a_dst_change_has_its_23_hours():
    sofia = ZoneInfo("Europe/Sofia")  # clocks go from 03:00 to 04:00 on 2026-03-29
    noon = dt.datetime(2026, 3, 29, 9, tzinfo=dt.timezone.utc)
    start, end = task_filters.local_day_start(noon, sofia), task_filters.local_day_start(noon, sofia, 1)
    assert (start, end) == (dt.datetime(2026, 3, 28, 22, tzinfo=dt.timezone.utc),
                            dt.datetime(2026, 3, 29, 21, tzinfo=dt.timezone.utc))


@BOTH_DATABASES
def test_the_unfiltered_newest_first_pages_are_exactly_the_visible_tasks(api_as, make_user, make_department,
                                                                          make_task):
    """A page without filter or sort is one statement written once (workdesk.access.newest_visible_ids): it holds
    what the visibility rules allow, each task once, for every kind of caller and at every page boundary."""
    from workdesk.access import visible_tasks
    it, hr, lab = make_department(), make_department(), make_department()
    agent = make_user("agent", departments=[it, hr])
    homeless = make_user("agent")
    requester = make_user("requester", departments=[lab])
    admin = make_user("admin")
    outsider = make_user("agent", departments=[lab])
    for i in range(3):
        make_task(outsider, it, title=f"it {i}")
        make_task(outsider, hr, title=f"hr {i}")
        make_task(outsider, lab, title=f"lab hidden {i}")
    make_task(outsider, lab, title="watched by all three", watcher_ids=[agent.id, homeless.id, requester.id])
    make_task(agent, lab, title="reported by the agent, watched too", watcher_ids=[agent.id])
    make_task(requester, lab, title="reported by the requester")
    make_task(outsider, lab, title="assigned to the homeless agent's colleague", assignee_id=outsider.id)
    make_task(outsider, it, title="in it, reported by the requester's colleague, watched", watcher_ids=[agent.id])
    for user in (agent, homeless, requester, admin, outsider):
        expected = [t.id for t in visible_tasks(user).order_by(Task.id.desc())]
        assert expected, user.email
        for limit in (1, 2, 3, 50):
            assert walk(api_as(user), limit=limit) == expected, (user.email, limit)
    assert len(walk(api_as(admin), limit=4)) == Task.select().count()
    assert set(walk(api_as(homeless))) == {t.id for t in Task.select().where(Task.title == "watched by all three")}
