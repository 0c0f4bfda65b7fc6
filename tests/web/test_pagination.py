"""My work, the queue and search in pages: cursor links, filters kept, visibility on every page, bad cursors."""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re

import pytest

from workdesk.services.tasks import transition

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
ROW = re.compile(r'<span class="num">#\d+</span> ([^<]+)</a>')


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


def titles(page: str) -> list[str]:
    return ROW.findall(page)


def walk(client, url: str, rel: str = "next") -> tuple[list[list[str]], str]:
    """Follow the ``rel`` links from ``url``: the titles of each page, and the URL of the last one."""
    pages = []
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(titles(response.text))
        following = link(response.text, rel)
        if following is None:
            return pages, url
        url = following
    raise AssertionError("the pages never end")


def all_at_once(client, monkeypatch, url: str) -> list[str]:
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 1000)
    everything = titles(client.get(url).text)
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 3)
    return everything


def forged_cursor(*payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


@BOTH_DATABASES
def test_my_work_pages_show_every_task_once_in_order_both_ways(client, login, cast, make_task, monkeypatch):
    now = dt.datetime.now(dt.timezone.utc)
    shared_due = now + dt.timedelta(days=2)
    dues = [now - dt.timedelta(days=3), None, shared_due, now - dt.timedelta(hours=1), None, shared_due,
            now + dt.timedelta(days=9), shared_due, None, now - dt.timedelta(days=30)]
    for i, due in enumerate(dues):
        make_task(cast.admin, cast.it, title=f"Mine {i:02}", assignee_id=cast.agent.id, due_at=due)
    make_task(cast.admin, cast.it, title="Nobody's")
    login(client, cast.agent)
    expected = all_at_once(client, monkeypatch, "/")
    assert len(expected) == 10 and expected[0] == "Mine 09" and expected[-3:] == ["Mine 08", "Mine 04", "Mine 01"]

    pages, last_url = walk(client, "/")
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [t for p in pages for t in p] == expected
    back, _ = walk(client, last_url, rel="prev")
    assert back == pages[::-1]
    second = client.get(link(client.get("/").text, "next")).text
    # The counts are of the whole list, not of the page shown.
    assert 'Assigned <span class="count">10</span>' in second and 'New <span class="count">10</span>' in second
    assert 'rel="prev"' in second and ">⇤ First</a>" in second


def test_my_work_tabs_and_status_survive_paging(client, login, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 2)
    for i in range(5):
        task = make_task(cast.agent, cast.it, title=f"Filed open {i}")
        transition(cast.agent, task.id, "open")
    for i in range(3):
        make_task(cast.agent, cast.it, title=f"Filed new {i}")
    for i in range(3):
        task = make_task(cast.admin, cast.it, title=f"Watched open {i}", watcher_ids=[cast.agent.id])
        transition(cast.admin, task.id, "open")
    login(client, cast.agent)
    first = client.get("/?view=reported&status=open").text
    next_url = link(first, "next")
    assert "view=reported" in next_url and "status=open" in next_url and "after=" in next_url
    pages, _ = walk(client, "/?view=reported&status=open")
    assert sorted(t for p in pages for t in p) == [f"Filed open {i}" for i in range(5)]
    watching, _ = walk(client, "/?view=watching")
    assert sorted(t for p in watching for t in p) == [f"Watched open {i}" for i in range(3)]


@BOTH_DATABASES
def test_queue_pages_keep_order_filters_and_departments(client, login, cast, make_task, monkeypatch):
    now = dt.datetime.now(dt.timezone.utc)
    priorities = ["low", "urgent", "normal", "high", "urgent", "normal", "low", "high"]
    for i, priority in enumerate(priorities):
        due = now - dt.timedelta(hours=i + 1) if i % 3 == 0 else None
        make_task(cast.requester, cast.it, title=f"Printer {i}", priority=priority, due_at=due)
    make_task(cast.requester, cast.it, title="Chair", priority="urgent")
    make_task(cast.admin, cast.it, title="Printer taken", assignee_id=cast.agent.id)
    make_task(cast.other_agent, cast.facilities, title="Printer in facilities", priority="urgent")
    login(client, cast.agent)
    url = "/queue?q=printer&department=&priority="
    expected = all_at_once(client, monkeypatch, url)
    assert sorted(expected) == [f"Printer {i}" for i in range(8)]

    pages, last_url = walk(client, url)
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [t for p in pages for t in p] == expected
    assert "q=printer" in last_url
    back, _ = walk(client, last_url, rel="prev")
    assert back == pages[::-1]
    urgent, _ = walk(client, "/queue?priority=urgent")
    assert sorted(t for p in urgent for t in p) == ["Chair", "Printer 1", "Printer 4"]
    # "Take it" brings the agent back to the page they were on, cursor and filters included.
    second = client.get(link(client.get(url).text, "next")).text
    assert re.search(r'action="/tasks/\d+/take\?next=/queue\?q%3Dprinter%26[^"]*after%3D', second)


def test_queue_order_is_fixed_at_the_first_page_while_tasks_fall_due(client, login, cast, make_task, monkeypatch):
    start = dt.datetime.now(dt.timezone.utc)
    for i in range(3):
        make_task(cast.requester, cast.it, title=f"Undated {i}")
    for i in range(3):
        make_task(cast.requester, cast.it, title=f"Due soon {i}", due_at=start + dt.timedelta(hours=i + 1))
    login(client, cast.agent)
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 3)
    monkeypatch.setattr("workdesk.web.paging.utcnow", lambda: start)
    first = client.get("/queue").text
    assert titles(first) == ["Undated 0", "Undated 1", "Undated 2"]
    # A day later the dated tasks are overdue and would jump ahead of the page already seen; the next
    # page keeps the order the first was shown in, so they are not lost.
    monkeypatch.setattr("workdesk.web.paging.utcnow", lambda: start + dt.timedelta(days=1))
    second = client.get(link(first, "next")).text
    assert titles(second) == ["Due soon 0", "Due soon 1", "Due soon 2"]
    assert titles(client.get("/queue").text) == ["Due soon 0", "Due soon 1", "Due soon 2"]


@BOTH_DATABASES
def test_search_pages_count_everything_and_keep_the_status(client, login, cast, make_task, monkeypatch):
    for i in range(7):
        task = make_task(cast.agent, cast.it, title=f"Network issue {i}")
        if i % 2:
            transition(cast.agent, task.id, "open")
    login(client, cast.agent)
    url = "/search?q=network&status="
    expected = all_at_once(client, monkeypatch, url)
    pages, last_url = walk(client, url)
    assert [t for p in pages for t in p] == expected and len(expected) == 7
    assert "7 matches" in client.get(last_url).text
    back, _ = walk(client, last_url, rel="prev")
    assert back == pages[::-1]
    new_pages, _ = walk(client, "/search?q=network&status=new")
    assert [len(p) for p in new_pages] == [3, 1]
    assert sorted(t for p in new_pages for t in p) == [f"Network issue {i}" for i in (0, 2, 4, 6)]
    assert "status=new" in link(client.get("/search?q=network&status=new").text, "next")


def test_later_pages_never_show_a_task_the_user_may_not_see(client, login, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 2)
    for i in range(5):
        make_task(cast.requester, cast.it, title=f"Rita's leak {i}")
        make_task(cast.other_requester, cast.it, title=f"Otto's leak {i}")
        make_task(cast.other_agent, cast.facilities, title=f"Facilities leak {i}")
    login(client, cast.requester)
    pages, _ = walk(client, "/search?q=leak")
    assert sorted(t for p in pages for t in p) == [f"Rita&#39;s leak {i}" for i in range(5)]
    assert len(pages) == 3
    login(client, cast.agent)
    queue_pages, _ = walk(client, "/queue?q=leak")
    seen = [t for p in queue_pages for t in p]
    assert len(seen) == 10 and not any("Facilities" in t for t in seen)


@pytest.mark.parametrize("cursor", [
    "not-a-cursor!", "%%%", "AAAA", "x" * 2000,
    forged_cursor("search", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00", 5),  # another list's
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None),  # too short
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", "yesterday", 5),
    forged_cursor("my_work", "2026-01-01T00:00:00", "2026-01-01T00:00:00", 5),  # no time zone
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", "0001-01-01T00:00:00+05:00", 5),  # before year 1 in UTC
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None, 10 ** 30),
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None, -1),
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None, True),
    forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None, "5"),
    forged_cursor({"my_work": 1}),
])
def test_a_broken_cursor_is_a_friendly_400_with_a_way_back(client, login, cast, make_task, cursor):
    make_task(cast.admin, cast.it, title="Something", assignee_id=cast.agent.id)
    login(client, cast.agent)
    for parameter in ("after", "before"):
        response = client.get("/", query_string={"view": "reported", "status": "new", parameter: cursor})
        assert response.status_code == 400
        assert "This page link is broken or out of date. Start again from the first page." in response.text
        assert '<a href="/?view=reported&amp;status=new">Go to the first page</a>' in response.text


def test_broken_cursors_on_the_queue_and_search(client, login, cast, make_task):
    login(client, cast.agent)
    queue = client.get("/queue?priority=high&after=garbage")
    assert queue.status_code == 400 and "Go to the first page" in queue.text
    my_work_cursor = forged_cursor("my_work", "2026-01-01T00:00:00+00:00", None, 5)
    search = client.get(f"/search?q=x&before={my_work_cursor}")
    assert search.status_code == 400 and 'href="/search?q=x"' in search.text


def test_a_cursor_past_the_end_shows_the_first_page(client, login, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 2)
    tasks = [make_task(cast.admin, cast.it, title=f"Soon done {i}", assignee_id=cast.agent.id) for i in range(3)]
    login(client, cast.agent)
    second_url = link(client.get("/").text, "next")
    for status in ("open", "in_progress", "resolved"):  # the only task of the second page leaves the list
        transition(cast.admin, tasks[0].id, status)
    page = client.get(second_url).text
    assert titles(page) == ["Soon done 2", "Soon done 1"] and 'rel="prev"' not in page


@pytest.mark.browser
def test_paging_the_queue_on_a_phone(chromium, live_server, artifacts_dir, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 4)
    for i in range(10):
        make_task(cast.requester, cast.it, title=f"Badge reader {i}", priority="high" if i % 4 == 0 else "normal")
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, is_mobile=True,
                                   has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        phone.goto("/login")
        phone.fill("input[name=email]", "ana@example.com")
        phone.fill("input[name=password]", "password123")
        phone.click("button[type=submit]")
        phone.wait_for_url("**/")
        phone.goto("/queue?q=badge")
        first = phone.locator("a.task-title").all_inner_texts()
        phone.click("a[rel=next]")
        second = phone.locator("a.task-title").all_inner_texts()
        assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        phone.screenshot(path=artifacts_dir / "queue-second-page-phone.png", full_page=True)
        assert "q=badge" in phone.url and phone.input_value("input[name=q]") == "badge"
        phone.click("a[rel=next]")
        third = phone.locator("a.task-title").all_inner_texts()
        assert [len(first), len(second), len(third)] == [4, 4, 2]
        assert len(set(first + second + third)) == 10
        phone.click("a[rel=prev]")
        assert phone.locator("a.task-title").all_inner_texts() == second
    finally:
        context.close()


def test_a_quick_create_error_keeps_the_pages_of_my_work(client, login, cast, make_task, monkeypatch):
    monkeypatch.setattr("workdesk.web.lists.PAGE_SIZE", 2)
    for i in range(3):
        make_task(cast.admin, cast.it, title=f"Already mine {i}", assignee_id=cast.agent.id)
    login(client, cast.agent)
    response = client.post("/tasks/quick", data={"title": ""}, follow_redirects=True)
    assert response.request.path == "/" and "Type what needs doing" in response.text
    next_url = link(response.text, "next")
    assert next_url.startswith("/?after=")
    assert titles(client.get(next_url).text) == ["Already mine 0"]
