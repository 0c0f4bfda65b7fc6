"""The board: a column per status for a department or a saved view; moving a card goes through the task
service, so the workflow and the plugins' vetoes apply and a refusal is shown with its reason."""
from __future__ import annotations

import re

import pytest

from workdesk.models import Task, TaskEvent
from workdesk.services import saved_views
from workdesk.services.tasks import transition
import workdesk.web.board as board

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def _column(page: str, status: str) -> str:
    start = page.index(f'data-status="{status}"')
    end = page.find("</section>", start)
    return page[start:end]


@BOTH_DATABASES
def test_a_department_board_has_a_column_per_status_with_counts(client, login, cast, make_task):
    new = make_task(cast.requester, cast.it, title="Printer jammed")
    started = make_task(cast.requester, cast.it, title="Wi-Fi drops", priority="urgent")
    transition(cast.agent, started.id, "open")
    transition(cast.agent, started.id, "in_progress")
    make_task(cast.other_agent, cast.facilities, title="Leaking tap")  # another department: not on IT's board
    login(client, cast.agent)
    page = client.get("/board").text
    assert "Board of IT" in page
    assert [m for m in re.findall(r'data-status="(\w+)"', page)] == ["new", "open", "in_progress", "waiting",
                                                                      "resolved", "closed"]
    assert "Printer jammed" in _column(page, "new") and "Wi-Fi drops" in _column(page, "in_progress")
    assert '<span class="count">1</span>' in _column(page, "new")
    assert "Leaking tap" not in page
    # The buttons a card offers are the workflow's next steps, in words.
    assert 'name="status" value="open"' in page[page.index(f'id="card-{new.id}"'):]
    assert 'src="/static/board.js"' in page and "nonce=" in page
    # Another department's board is not one's own: 404, as for a task one may not see.
    assert client.get(f"/board?department={cast.facilities.id}").status_code == 404


def test_a_move_goes_through_the_service_and_a_veto_is_shown_with_its_reason(client, login, cast, make_task,
                                                                            enable_plugin):
    enable_plugin("webveto")
    held = make_task(cast.requester, cast.it, title="Server move [hold]")
    for status in ("open", "in_progress"):
        transition(cast.agent, held.id, status)
    login(client, cast.agent)
    version = Task.get_by_id(held.id).version
    response = client.post(f"/board/tasks/{held.id}/move?next=/board", data={"status": "resolved", "version": version},
                           follow_redirects=True)
    assert "was not moved: Hold blocks this change: the task is on hold" in response.text
    assert Task.get_by_id(held.id).status == "in_progress"
    # A move the workflow does not allow is refused the same way, saying what is allowed.
    response = client.post(f"/board/tasks/{held.id}/move?next=/board", data={"status": "closed", "version": version},
                           follow_redirects=True)
    assert "was not moved: A task cannot move from In progress to Closed" in response.text
    # An allowed move is made and audited like the task page's buttons.
    response = client.post(f"/board/tasks/{held.id}/move?next=/board", data={"status": "waiting", "version": version})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/board#card-{held.id}")
    assert Task.get_by_id(held.id).status == "waiting"
    assert TaskEvent.select().where((TaskEvent.task_id == held.id) & (TaskEvent.actor == cast.agent)).count() == 3
    # A stale card (someone moved it meanwhile) is refused, not applied over their change.
    response = client.post(f"/board/tasks/{held.id}/move", data={"status": "in_progress", "version": version},
                           follow_redirects=True)
    assert "Someone else changed this task" in response.text


def test_moves_need_the_right_to_move_tasks_and_a_visible_task(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it, title="Hidden from Facilities")
    login(client, cast.other_agent)
    assert client.post(f"/board/tasks/{task.id}/move", data={"status": "open", "version": 1}).status_code == 404
    login(client, cast.requester)
    assert client.get("/board").status_code == 403  # requesters have no department board
    response = client.post(f"/board/tasks/{task.id}/move", data={"status": "open", "version": 1},
                           follow_redirects=True)
    assert "Your role does not allow this" in response.text and Task.get_by_id(task.id).status == "new"
    # The redirect after a move stays on this site.
    login(client, cast.agent)
    response = client.post(f"/board/tasks/{task.id}/move?next=https://evil.example/", data={"status": "open",
                                                                                           "version": 1})
    assert response.headers["Location"].startswith("/board")


def test_a_saved_view_as_a_board(client, login, cast, make_task):
    make_task(cast.requester, cast.it, title="Urgent one", priority="urgent")
    make_task(cast.requester, cast.it, title="Calm one", priority="low")
    view = saved_views.create_view(cast.agent, name="Urgent", params={"priority": "urgent"})
    login(client, cast.agent)
    page = client.get(f"/views/{view.id}/board").text
    assert "Urgent one" in page and "Calm one" not in page
    assert "Show as a board" in client.get(f"/views/{view.id}").text
    login(client, cast.other_agent)
    assert client.get(f"/views/{view.id}/board").status_code == 404


@BOTH_DATABASES
def test_finished_columns_show_the_latest_and_link_to_the_rest(client, login, cast, make_task, monkeypatch):
    closed = []
    for i in range(12):
        task = make_task(cast.requester, cast.it, title=f"Done job {i:02}", priority="urgent" if i % 2 else "low")
        for status in ("open", "in_progress", "resolved", "closed"):
            transition(cast.agent, task.id, status)
        closed.append(task)
    transition(cast.agent, closed[3].id, "open")  # reopened, then finished again: the latest change of all
    for status in ("in_progress", "resolved", "closed"):
        transition(cast.agent, closed[3].id, status)
    login(client, cast.agent)
    column = _column(client.get("/board").text, "closed")
    shown = re.findall(r"Done job (\d\d)", column)
    assert shown == ["03", "11", "10", "09", "08", "07", "06", "05", "04", "02"]  # most recently changed first
    assert '<span class="count">12</span>' in column
    link = re.search(r'<a href="([^"]+)">and 2 more</a>', column).group(1)
    assert link.startswith("/search?") and "status=closed" in link and f"department={cast.it.id}" in link
    assert "sort=-updated" in link
    listed = client.get(link.replace("&amp;", "&")).text
    assert len(set(re.findall(r"Done job (\d\d)", listed))) == 12

    # A saved view's board links to the view's filters (its own sort aside).
    monkeypatch.setattr(board, "DONE_COLUMN_SIZE", 4)
    view = saved_views.create_view(cast.agent, name="Urgent", params={"priority": "urgent", "sort": "due"})
    column = _column(client.get(f"/views/{view.id}/board").text, "closed")
    assert re.findall(r"Done job (\d\d)", column) == ["03", "11", "09", "07"]
    assert '<span class="count">6</span>' in column
    link = re.search(r'<a href="([^"]+)">and 2 more</a>', column).group(1).replace("&amp;", "&")
    assert "priority=urgent" in link and "status=closed" in link and "sort=-updated" in link and "due" not in link
    assert sorted(re.findall(r"Done job (\d\d)", client.get(link).text)) == ["01", "03", "05", "07", "09", "11"]
