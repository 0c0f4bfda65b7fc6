"""The task service on SQLite and PostgreSQL: numbers, workflow, audit trail, transactions, plugins."""
import datetime as dt
import itertools

import pytest

from workdesk import errors, outbox
from workdesk.labels import status_label
from workdesk.models import STATUSES, WORKFLOW, OutboxEvent, Sequence, Task, TaskEvent, TaskWatcher
from workdesk.services import tasks

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def team(workdesk_app, make_department, make_user):
    dept = make_department("Facilities")
    agent = make_user("agent", departments=[dept])
    return dept, agent


def test_task_numbers_count_up_and_fields_round_trip(team):
    dept, agent = team
    due = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.timezone.utc)
    first = tasks.create_task(agent, title="  Fix the tap ", department_id=dept.id, due_at=due,
                              fields={"room": "101"}, watcher_ids=[agent.id], priority="high")
    second = tasks.create_task(agent, title="Second", department_id=dept.id)
    assert (first.number, second.number) == (1, 2)
    fresh = Task.get_by_id(first.id)
    assert fresh.title == "Fix the tap" and fresh.priority == "high" and fresh.status == "new"
    assert fresh.due_at == due and fresh.due_at.tzinfo is not None
    assert fresh.fields == {"room": "101"} and fresh.watcher_ids == [agent.id]
    assert fresh.version == 1


def _path_to(status):
    """A workflow path from new to ``status``."""
    paths = {"new": [], "open": ["open"], "in_progress": ["open", "in_progress"],
             "waiting": ["open", "in_progress", "waiting"], "resolved": ["open", "in_progress", "resolved"],
             "closed": ["open", "in_progress", "resolved", "closed"]}
    return paths[status]


def test_every_allowed_transition_works_and_every_other_is_refused(team):
    dept, agent = team
    for old, new in itertools.product(STATUSES, STATUSES):
        if old == new:
            continue
        task = tasks.create_task(agent, title=f"{old}->{new}", department_id=dept.id)
        for step in _path_to(old):
            tasks.transition(agent, task.id, step)
        if new in WORKFLOW[old]:
            assert tasks.transition(agent, task.id, new).status == new
        else:
            with pytest.raises(errors.InvalidTransition) as refused:
                tasks.transition(agent, task.id, new)
            assert refused.value.status == 409 and status_label(old) in refused.value.message
            assert refused.value.extra["allowed"] == list(WORKFLOW[old])  # the keys, for programs
            assert Task.get_by_id(task.id).status == old


def test_resolve_close_and_reopen_keep_their_timestamps(team):
    dept, agent = team
    task = tasks.create_task(agent, title="t", department_id=dept.id)
    for step in ("open", "in_progress", "resolved"):
        task = tasks.transition(agent, task.id, step)
    assert task.resolved_at is not None and task.closed_at is None
    task = tasks.transition(agent, task.id, "closed")
    assert task.closed_at is not None
    task = tasks.transition(agent, task.id, "open")
    assert task.resolved_at is None and task.closed_at is None and task.status == "open"


def test_every_change_writes_the_audit_trail(team, make_user):
    dept, agent = team
    other = make_user("agent", departments=[dept])
    task = tasks.create_task(agent, title="Audit me", department_id=dept.id)
    tasks.update_task(agent, task.id, {"priority": "urgent", "assignee_id": other.id})
    tasks.add_comment(agent, task.id, "looking")
    events = list(TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id))
    assert [e.kind for e in events] == ["created", "updated", "commented"]
    assert events[1].changes == {"priority": ["normal", "urgent"], "assignee_id": [None, other.id]}
    assert events[1].actor_id == agent.id and events[1].at.tzinfo is not None


def test_a_failure_rolls_back_the_change_and_its_audit_trail(team, monkeypatch):
    dept, agent = team
    task = tasks.create_task(agent, title="Before", department_id=dept.id)
    events_before = TaskEvent.select().count()
    outbox_before = OutboxEvent.select().count()

    def broken_emit(kind, payload):
        raise RuntimeError("disk full")
    monkeypatch.setattr(outbox, "emit", broken_emit)
    monkeypatch.setattr(outbox, "emit_many", broken_emit)  # what creation writes its events with
    with pytest.raises(RuntimeError):
        tasks.update_task(agent, task.id, {"title": "After"})
    with pytest.raises(RuntimeError):
        tasks.create_task(agent, title="Never", department_id=dept.id)
    assert Task.get_by_id(task.id).title == "Before"
    assert TaskEvent.select().count() == events_before
    assert OutboxEvent.select().count() == outbox_before
    assert Task.select().count() == 1
    assert Sequence.get(Sequence.name == "task").value == 1


def test_stale_version_is_a_conflict(team):
    dept, agent = team
    task = tasks.create_task(agent, title="t", department_id=dept.id)
    tasks.update_task(agent, task.id, {"title": "one"}, expected_version=1)
    with pytest.raises(errors.Conflict) as stale:
        tasks.update_task(agent, task.id, {"title": "two"}, expected_version=1)
    assert stale.value.message == ("Someone else changed this task since you opened it. Reload it to see their "
                                   "change, then try again.")
    assert stale.value.extra == {"current_version": 2}  # the numbers are for programs
    assert Task.get_by_id(task.id).title == "one"


def test_bad_input_names_the_field(team):
    dept, agent = team
    cases = [
        (dict(title="", department_id=dept.id), "title"),
        (dict(title="x" * 201, department_id=dept.id), "title"),
        (dict(title="ok", department_id=dept.id, priority="critical"), "priority"),
        (dict(title="ok", department_id=999999), "department_id"),
        (dict(title="ok", department_id=dept.id, assignee_id=999999), "assignee_id"),
        (dict(title="ok", department_id=dept.id, parent_id=999999), "parent_id"),
    ]
    for kwargs, field in cases:
        with pytest.raises(errors.ValidationFailed) as failed:
            tasks.create_task(agent, **kwargs)
        assert field in failed.value.fields
    task = tasks.create_task(agent, title="ok", department_id=dept.id)
    with pytest.raises(errors.ValidationFailed) as failed:
        tasks.update_task(agent, task.id, {"colour": "red"})
    assert "colour" in failed.value.fields
    with pytest.raises(errors.ValidationFailed) as failed:
        tasks.update_task(agent, task.id, {"status": "done"})
    assert "status" in failed.value.fields
    with pytest.raises(errors.ValidationFailed):
        tasks.update_task(agent, task.id, {"parent_id": task.id})


def test_delete_keeps_the_audit_trail(team, make_user):
    dept, agent = team
    admin = make_user("admin")
    task = tasks.create_task(agent, title="Doomed", department_id=dept.id)
    with pytest.raises(errors.Forbidden):
        tasks.delete_task(agent, task.id)
    tasks.delete_task(admin, task.id)
    assert Task.get_or_none(Task.id == task.id) is None
    kinds = [e.kind for e in TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)]
    assert kinds == ["created", "deleted"]


def test_watching_needs_only_visibility(team, make_user):
    dept, agent = team
    requester = make_user("requester")
    task = tasks.create_task(requester, title="mine", department_id=dept.id)
    tasks.set_watching(agent, task.id, True)
    assert TaskWatcher.select().where(TaskWatcher.task == task).count() == 1
    tasks.set_watching(agent, task.id, False)
    assert TaskWatcher.select().where(TaskWatcher.task == task).count() == 0


def test_veto_refuses_with_the_plugins_reason(team, enable_plugin):
    dept, agent = team
    enable_plugin("veto")
    task = tasks.create_task(agent, title="t", department_id=dept.id)
    tasks.transition(agent, task.id, "open")
    tasks.transition(agent, task.id, "in_progress")
    with pytest.raises(errors.TransitionBlocked) as blocked:
        tasks.transition(agent, task.id, "resolved")
    assert blocked.value.extra == {"plugin": "veto", "reason": "describe what was done before resolving"}
    tasks.update_task(agent, task.id, {"description": "replaced the washer"})
    assert tasks.transition(agent, task.id, "resolved").status == "resolved"


def test_assignee_proposal_first_result_wins(team, make_user, enable_plugin):
    dept, agent = team
    task = tasks.create_task(agent, title="nobody", department_id=dept.id)
    assert task.assignee_id is None
    enable_plugin("proposer")
    task = tasks.create_task(agent, title="dispatched", department_id=dept.id)
    assert task.assignee_id == agent.id


def test_add_watchers_lets_people_see_the_task_and_is_audited(team, make_user, make_department):
    dept, agent = team
    task = tasks.create_task(agent, title="Change the router", department_id=dept.id, watcher_ids=[agent.id])
    outsider = make_user("agent", departments=[make_department("Finance")])
    gone = make_user("agent", departments=[make_department("Legal")])
    from workdesk.services.users import update_user
    update_user(make_user("admin"), gone.id, {"is_active": False})
    with pytest.raises(errors.NotFound):
        tasks.get_visible_task(outsider, task.id)
    assert tasks.add_watchers(task.id, [agent.id, outsider.id, outsider.id, gone.id]) == [outsider.id]
    assert tasks.get_visible_task(outsider, task.id).id == task.id
    assert Task.get_by_id(task.id).watcher_ids == sorted([agent.id, outsider.id])
    event = TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc()).first()
    assert (event.kind, event.actor_id, event.changes) == ("updated", None, {"watcher_ids": [[agent.id], sorted([agent.id, outsider.id])]})
    assert tasks.add_watchers(task.id, [outsider.id]) == []  # nothing new: no audit row
    assert TaskEvent.select().where(TaskEvent.task_id == task.id).count() == 2
    with pytest.raises(errors.NotFound):
        tasks.add_watchers(999999, [outsider.id])
