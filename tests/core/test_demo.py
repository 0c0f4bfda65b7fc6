"""The demo company: believable people and requests, and 90 days of history that hold together."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pytest

from workdesk.access import can_see, may_be_assignee
from workdesk.demo import INTAKE_DEPARTMENT, PEOPLE, load_demo
from workdesk.models import (OPEN_STATUSES, WORKFLOW, Comment, Department, Membership, OutboxEvent, Sequence, Task,
                             TaskEvent, TaskWatcher, User)

NOW = dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.timezone.utc)
SCRIPTS = {"Cyrillic": re.compile("[а-яА-Я]"), "Chinese": re.compile("[\u4e00-\u9fff]"),
           "Vietnamese": re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I),
           "Latin": re.compile("^[A-Za-z0-9 ,.'’()–—-]+$")}


@pytest.fixture
def demo(workdesk_app):
    return load_demo(now=NOW)


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_people_and_requests_are_believable(demo):
    assert demo["departments"] == 6 and demo["tasks"] == 300 and demo["people"] == len(PEOPLE)
    names = [u.name for u in User.select()]
    assert not any(re.search(r"Requester \d|Agent \d", name) for name in names)
    texts = [t.title + " " + t.description for t in Task.select()]
    assert not any("demo data" in text or "floor 889" in text for text in texts)
    for script, pattern in SCRIPTS.items():  # English, Bulgarian, Russian, Chinese and Vietnamese side by side
        assert sum(bool(pattern.search(t.title)) for t in Task.select()) >= 20, script
        assert any(pattern.search(name) for name in names), script
    assert len({t.title for t in Task.select()}) >= 60  # no handful of phrases repeated 300 times
    for department in Department.select():  # every department has work, a head and people to do it
        assert department.tasks.count() >= 20 and department.head is not None
        assert department.head.role.name == "manager" and department.calendar is not None
    requesters = User.select().join(User.role.rel_model).where(User.role.rel_model.name == "requester")
    assert requesters.count() >= 8
    assert not Membership.select().where(Membership.user.in_(requesters)).exists()  # they file into the intake
    assert Department.get(Department.name == INTAKE_DEPARTMENT).parent is None


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_every_task_is_what_its_audit_trail_says(demo):
    """Replaying each task's trail from its ``created`` entry ends exactly where the task is."""
    trails = defaultdict(list)
    for event in TaskEvent.select().order_by(TaskEvent.at, TaskEvent.id):
        trails[event.task_id].append(event)
    comments = {c.id: c for c in Comment.select()}
    watchers = {(w.task_id, w.user_id) for w in TaskWatcher.select()}
    start = NOW - dt.timedelta(days=90)
    for task in Task.select():
        trail = trails[task.id]
        assert trail[0].kind == "created" and trail[0].at == task.created_at and trail[0].actor_id == task.reporter_id
        assert start <= task.created_at <= NOW and all(task.created_at <= e.at <= NOW for e in trail)
        status, assignee, resolved_at, closed_at, version = "new", None, None, None, 1
        last_touch = task.created_at
        for event in trail[1:]:
            actor = event.actor
            if event.kind == "updated":
                version += 1
                last_touch = event.at
                if "status" in event.changes:
                    old, new = event.changes["status"]
                    assert old == status and new in WORKFLOW[old] and actor.has_permission("task.transition")
                    status = new
                    if new == "resolved":
                        resolved_at = event.at
                    elif new == "closed":
                        closed_at = event.at
                    elif old in ("resolved", "closed"):
                        resolved_at = closed_at = None
                if "assignee_id" in event.changes:
                    old, new = event.changes["assignee_id"]
                    assert old == assignee and (actor.id == new or actor.has_permission("task.assign"))
                    assert new is None or may_be_assignee(User.get_by_id(new), task.department_id)  # the service's rule
                    assignee = new
            elif event.kind == "commented":
                comment = comments[event.changes["comment_id"][1]]
                assert (comment.task_id, comment.created_at, comment.author_id) == (task.id, event.at, actor.id)
                assert can_see(actor, task)
                last_touch = event.at
            else:
                assert event.kind == "watched" and (task.id, event.changes["watcher_ids"][1]) in watchers
        assert (task.status, task.assignee_id, task.version) == (status, assignee, version), task.number
        assert (task.resolved_at, task.closed_at) == (resolved_at, closed_at), task.number
        assert task.updated_at == last_touch, task.number
    assert Sequence.get(Sequence.name == "task").value == Task.select().count()
    assert not OutboxEvent.select().exists()  # history is not replayed to plugins and notifications


def test_the_history_has_something_to_show(demo):
    statuses = Counter(t.status for t in Task.select())
    assert statuses["closed"] > 150 and all(statuses[s] for s in ("new", "open", "in_progress", "waiting", "resolved"))
    changes = [e.changes for e in TaskEvent.select().where(TaskEvent.kind == "updated")]
    assert sum(c.get("status") in (["resolved", "open"], ["closed", "open"]) for c in changes) >= 10  # reopened
    assert sum(None not in c.get("assignee_id", [None]) for c in changes) >= 10  # handed over
    overdue = Task.select().where(Task.status.in_(OPEN_STATUSES) & (Task.due_at < NOW)).count()
    late = Task.select().where(Task.resolved_at > Task.due_at).count()
    assert overdue >= 5 and late >= 10 and Task.select().where(Task.due_at.is_null()).count() >= 10
    filed_weeks = {(NOW - t.created_at).days // 7 for t in Task.select()}
    assert filed_weeks >= set(range(12))  # every week of the last three months
    assert TaskWatcher.select().count() >= 20 and Comment.select().count() >= 300


def test_the_same_seed_and_moment_give_the_same_company(workdesk_app, tmp_path):
    from workdesk.db import connect_database, db
    from workdesk.schema import upgrade_all

    def snapshot():
        load_demo(task_count=60, now=NOW)
        tasks = [(t.number, t.title, t.status, t.assignee_id, t.created_at, t.due_at)
                 for t in Task.select().order_by(Task.number)]
        trail = [(e.task_number, e.at, e.kind, e.actor_id, e.changes) for e in TaskEvent.select().order_by(TaskEvent.id)]
        return tasks, trail

    first = snapshot()
    db.close()
    connect_database(f"sqlite:///{tmp_path / 'second.db'}")
    upgrade_all(workdesk_app.extensions["workdesk_registry"])
    assert snapshot() == first


def test_loading_twice_is_refused(demo):
    from workdesk.errors import WorkdeskError
    with pytest.raises(WorkdeskError, match="already loaded"):
        load_demo(now=NOW)


def test_the_pages_show_the_history(demo, client, login, make_user):
    login(client, User.get(User.email == "mai.vo@example.com"))  # a requester
    home = client.get("/").get_data(as_text=True)
    assert 'aria-current="page">Reported' in home and home.count('<li class="task') >= 1
    reopened = next(e.task_id for e in TaskEvent.select().where(TaskEvent.kind == "updated").order_by(TaskEvent.id)
                    if e.changes.get("status") == ["resolved", "open"])
    login(client, make_user("admin"))
    page = client.get(f"/tasks/{reopened}").get_data(as_text=True)
    assert "filed the task" in page and "changed the status from Resolved to Open" in page
    assert "Workload per person" in client.get("/admin/").get_data(as_text=True)
    for task in Task.select().order_by(Task.number).limit(30):
        assert client.get(f"/tasks/{task.id}").status_code == 200
