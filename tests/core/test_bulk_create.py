"""Bulk creation (services.tasks.create_tasks): all or nothing, the checks of a single create, one audit
row and outbox events per task, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

import workdesk
from workdesk import errors
from workdesk.models import OutboxEvent, Role, Task, TaskEvent, TaskWatcher, User
from workdesk.services import tasks

from .conftest import SAMPLE_PLUGINS

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
PLATFORM_PLUGINS = ["tests.core.platform_plugins:IncidentPriorityPlugin", "tests.core.test_bulk_create:LadderVetoPlugin"]


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": SAMPLE_PLUGINS + PLATFORM_PLUGINS}


@pytest.fixture
def team(workdesk_app, make_department, make_user):
    dept = make_department("Facilities")
    return dept, make_user("agent", departments=[dept]), make_user("agent", departments=[dept])


def counts() -> tuple[int, int, int, int]:
    return (Task.select().count(), TaskEvent.select().count(), OutboxEvent.select().count(),
            TaskWatcher.select().count())


def test_each_task_gets_its_number_audit_row_and_events(team):
    dept, agent, other = team
    due = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.timezone.utc)
    created = workdesk.services.tasks.create_tasks(agent, [
        {"title": " Fix the tap ", "department_id": dept.id, "due_at": due, "fields": {"room": "101"},
         "watcher_ids": [agent.id, other.id, agent.id]},
        {"title": "Paint", "department_id": dept.id, "assignee_id": other.id, "priority": "high"},
        {"title": "Sweep", "department_id": dept.id}])
    assert [t.title for t in created] == ["Fix the tap", "Paint", "Sweep"]
    assert [t.number for t in created] == [1, 2, 3]
    stored = {t.id: t for t in Task.select()}
    assert sorted(stored) == sorted(t.id for t in created)
    first, second = stored[created[0].id], stored[created[1].id]
    assert first.due_at == due and first.fields == {"room": "101"} and first.watcher_ids == sorted([agent.id, other.id])
    assert first.reporter_id == agent.id and first.version == 1 and first.status == "new"
    assert second.assignee_id == other.id and second.priority == "high"
    for task in created:
        trail = list(TaskEvent.select().where(TaskEvent.task_id == task.id))
        assert [(e.kind, e.actor_id, e.task_number) for e in trail] == [("created", agent.id, task.number)]
    assert trail[0].changes["title"] == [None, "Sweep"]
    events = sorted((e.kind, e.payload["task_id"]) for e in OutboxEvent.select())
    assert events == sorted([("task.created", t.id) for t in created] + [("task.assigned", second.id)])
    # A single create afterwards continues the numbering.
    assert tasks.create_task(agent, title="Next", department_id=dept.id).number == 4


def test_one_invalid_input_creates_nothing_and_names_its_position(team):
    dept, agent, other = team
    before = counts()
    for bad, field in (({"title": "  "}, "title"), ({"priority": "whenever"}, "priority"),
                       ({"department_id": 999_999}, "department_id"), ({"watcher_ids": [999_999]}, "watcher_ids"),
                       ({"colour": "red"}, "colour")):
        inputs = [{"title": "Good", "department_id": dept.id}, {"title": "Also good", "department_id": dept.id},
                  {"title": "Bad", "department_id": dept.id, **bad}]
        with pytest.raises(errors.ValidationFailed) as refused:
            tasks.create_tasks(agent, inputs)
        assert refused.value.index == 2 and field in refused.value.fields
        assert "index" not in refused.value.to_dict()["error"]
        assert counts() == before  # nothing half-written: no task, audit row, event or watcher
    assert tasks.create_task(agent, title="After", department_id=dept.id).number == 1  # no number used up


def test_permissions_are_those_of_a_single_create(team, make_user):
    dept, agent, other = team
    requester = make_user("requester", departments=[dept])
    before = counts()
    with pytest.raises(errors.Forbidden) as refused:
        tasks.create_tasks(requester, [{"title": "Mine", "department_id": dept.id},
                                       {"title": "For them", "department_id": dept.id, "assignee_id": other.id}])
    assert refused.value.index == 1
    assert counts() == before
    mine = tasks.create_tasks(requester, [{"title": "Mine", "department_id": dept.id}])
    assert mine[0].reporter_id == requester.id and mine[0].assignee_id is None
    Role.update(permissions=["task.comment"]).where(Role.name == "requester").execute()
    with pytest.raises(errors.Forbidden):
        tasks.create_tasks(User.get_by_id(requester.id), [{"title": "x", "department_id": dept.id}])
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1, before[3])


def test_plugins_adjust_propose_and_veto_each_task(team, enable_plugin, make_user):
    dept, agent, other = team
    admin = make_user("admin")  # the system files tasks as the department's head, else the first admin
    enable_plugin("incidents")
    enable_plugin("proposer")
    created = tasks.create_tasks(None, [
        {"title": "Server down", "department_id": dept.id, "type": "incident", "priority": "low"},
        {"title": "Toner", "department_id": dept.id, "priority": "low", "assignee_id": other.id}])
    assert [t.priority for t in created] == ["high", "low"]  # adjusted per task
    assert [t.assignee_id for t in created] == [min(agent.id, other.id), other.id]  # proposed only when unassigned
    assert TaskEvent.get(TaskEvent.task_id == created[0].id).changes["priority"] == [None, "high"]
    assert [t.reporter_id for t in created] == [admin.id, admin.id]


class LadderVetoPlugin(workdesk.Plugin):
    """Ladder safety"""
    name = "ladders"

    @workdesk.hookimpl
    def veto_task_change(self, task):
        return "no ladders without a spotter" if "ladder" in task.title else None


def test_a_veto_of_one_task_refuses_the_whole_batch(team, enable_plugin):
    dept, agent, other = team
    enable_plugin("ladders")
    before = counts()
    with pytest.raises(errors.ChangeBlocked) as refused:
        tasks.create_tasks(agent, [{"title": "Paint", "department_id": dept.id},
                                   {"title": "Fetch the ladder", "department_id": dept.id}])
    assert refused.value.index == 1 and "spotter" in refused.value.message
    assert counts() == before


def test_a_large_batch_is_split_under_the_parameter_limit(team):
    dept, agent, other = team
    created = tasks.create_tasks(agent, [{"title": f"Check {n}", "department_id": dept.id,
                                          "watcher_ids": [agent.id, other.id]} for n in range(2500)])
    assert [t.number for t in created] == list(range(1, 2501))
    assert counts() == (2500, 2500, 2500, 5000)
    assert len({t.id for t in created}) == 2500
    assert Task.get_by_id(created[-1].id).title == "Check 2499"


def test_insert_rows_and_update_rows_convert_values_as_the_fields_do(team):
    # Values already of a plain column's type go to the driver as they are; anything else through the
    # field's db_value: a model for a foreign key, a number given as text, an instant in another zone.
    dept, agent, _other = team
    sofia = dt.timezone(dt.timedelta(hours=2))
    due = dt.datetime(2026, 3, 1, 11, 0, tzinfo=sofia)
    rows = [{"number": 900, "title": "Plain", "department": dept.id, "reporter": agent.id, "version": 3},
            {"number": "901", "title": 42, "department": dept, "reporter": agent, "version": "4"}]
    (first_id, _n), (second_id, _m) = sorted(workdesk.insert_rows(Task, [{**row, "due_at": due} for row in rows],
                                                                  returning=(Task.id, Task.number)),
                                             key=lambda found: found[1])
    plain, converted = Task.get_by_id(first_id), Task.get_by_id(second_id)
    assert (plain.number, plain.title, plain.version, plain.department_id) == (900, "Plain", 3, dept.id)
    assert (converted.number, converted.title, converted.version) == (901, "42", 4)
    assert (converted.department_id, converted.reporter_id) == (dept.id, agent.id)
    assert plain.due_at == converted.due_at == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert plain.fields == {} and plain.status == "new" and plain.created_at is not None  # model defaults
    plain.title, plain.version, plain.fields = 7, "8", {"room": "B2"}
    converted.title, converted.version, converted.fields = "Renamed", 9, []
    workdesk.update_rows([plain, converted], [Task.title, Task.version, Task.fields])
    plain, converted = Task.get_by_id(first_id), Task.get_by_id(second_id)
    assert (plain.title, plain.version, plain.fields) == ("7", 8, {"room": "B2"})
    assert (converted.title, converted.version, converted.fields) == ("Renamed", 9, [])


def test_load_rows_gives_the_instances_list_gives(team):
    dept, agent, other = team
    created = tasks.create_tasks(agent, [{"title": "Lamp", "department_id": dept.id, "assignee_id": other.id,
                                          "due_at": dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc),
                                          "fields": {"room": "B2", "floors": [1, 2]}},
                                         {"title": "Door", "department_id": dept.id}])
    query = Task.select().where(Task.id.in_([t.id for t in created])).order_by(Task.id)
    loaded = workdesk.load_rows(query)
    assert [t.__data__ for t in loaded] == [t.__data__ for t in query]
    assert loaded[0].due_at.tzinfo == dt.timezone.utc and loaded[0].fields["floors"] == [1, 2]
    assert loaded[0].assignee.id == other.id and loaded[1].assignee is None
    assert not any(t.is_dirty() for t in loaded)
    people = User.select().where(User.id.in_([agent.id, other.id])).order_by(User.id)
    assert [u.__data__ for u in workdesk.load_rows(people)] == [u.__data__ for u in people]  # booleans
    assert type(workdesk.load_rows(people)[0].is_active) is bool
    some = Task.select(Task.id, Task.title).where(Task.id == created[0].id)
    assert [t.__data__ for t in workdesk.load_rows(some)] == [{"id": created[0].id, "title": "Lamp"}]
    joined = Task.select(Task, User.name).join(User, on=(Task.reporter == User.id)).where(Task.id == created[0].id)
    assert workdesk.load_rows(joined)[0].reporter.name == agent.name  # read the usual way
    assert workdesk.load_rows(Task.select().where(Task.id == -1)) == []
    loaded[1].title = "Front door"
    loaded[1].save()
    assert Task.get_by_id(created[1].id).title == "Front door"
