"""The example plugin's own tests, using only the fixtures Workdesk publishes for plugin authors
(``workdesk.testing``, loaded through its pytest11 entry point: no conftest needed)."""
import datetime as dt

import pytest
from click.testing import CliRunner

from workdesk import Notification, services
from workdesk_hello.cli import counts
from workdesk_hello.models import DailyCount, Greeting

UTC = dt.timezone.utc


@pytest.fixture
def team(workdesk_app, make_department, make_user):
    dept = make_department()
    return dept, make_user("agent", departments=[dept])


def test_new_task_is_greeted_once(enable_plugin, team, drain_events, api_client):
    enable_plugin("hello", greeting="Welcome!")
    dept, agent = team
    client = api_client(user=agent)
    created = client.post("/api/v1/tasks", json={"title": "Printer jams", "department_id": dept.id})
    assert created.status_code == 201
    drain_events()
    drain_events()  # a second delivery of the same event changes nothing
    assert [g.text for g in Greeting.select()] == ["Welcome!"]
    shown = client.get(f"/api/v1/tasks/{created.json['id']}").json
    assert shown["plugins"]["hello"] == {"greeting": "Welcome!"}


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_moving_a_due_date_into_the_past_is_refused_with_the_reason(enable_plugin, team, api_client):
    enable_plugin("hello")
    dept, agent = team
    client = api_client(user=agent)
    late = client.post("/api/v1/tasks", json={"title": "Late already", "department_id": dept.id,
                                              "due_at": "2020-01-01T09:00:00Z"})
    assert late.status_code == 201  # filing work that is late is fine
    refused = client.patch(f"/api/v1/tasks/{late.json['id']}", json={"due_at": "2021-01-01T09:00:00Z"})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "change_blocked"
    assert refused.json["error"]["message"] == "Hello blocks this change: The due date 2021-01-01 09:00 UTC lies in the past."
    assert client.get(f"/api/v1/tasks/{late.json['id']}").json["due_at"].startswith("2020-01-01T09:00:00")
    future = (dt.datetime.now(UTC) + dt.timedelta(days=2)).isoformat()
    assert client.patch(f"/api/v1/tasks/{late.json['id']}", json={"due_at": future}).status_code == 200


def test_daily_count_runs_as_of_the_given_instant_and_tells_the_admins(enable_plugin, team, make_task, make_user,
                                                                       run_jobs):
    enable_plugin("hello")
    dept, agent = team
    admin = make_user("admin")
    make_task(agent, dept)
    make_task(agent, dept)
    assert run_jobs("2026-03-01T08:00:00+00:00")["hello.count_open"] == "ran"
    assert DailyCount.get(DailyCount.day == dt.date(2026, 3, 1)).open_tasks == 2
    assert run_jobs("2026-03-01T09:00:00+00:00")["hello.count_open"] == "not_due"
    note = Notification.get(Notification.kind == "hello.daily_count")
    assert note.recipient_id == admin.id and note.subject == "2 open tasks on 2026-03-01"
    assert Notification.select().where(Notification.recipient == agent, Notification.kind == "hello.daily_count").count() == 0


def test_enabling_greets_the_tasks_filed_meanwhile_and_deleting_forgets(enable_plugin, team, make_task, make_user,
                                                                         drain_events):
    dept, agent = team
    waiting = make_task(agent, dept)
    enable_plugin("hello", greeting="Sorry for the wait")  # on_plugin_enabled greets what is open
    assert Greeting.get(Greeting.task_id == waiting.id).text == "Sorry for the wait"
    services.tasks.delete_task(make_user("admin"), waiting.id)
    drain_events()  # on_task_deleted
    assert Greeting.select().count() == 0


def test_counts_command(enable_plugin, run_jobs):
    enable_plugin("hello")
    run_jobs("2026-03-01T08:00:00+00:00")
    result = CliRunner().invoke(counts, ["--days", "3"])
    assert result.exit_code == 0 and result.output == "2026-03-01  0\n"
    refused = CliRunner().invoke(counts, ["--days", "0"])
    assert refused.exit_code == 2 and "give a number from 1 to 366" in refused.output


def test_disabled_plugin_does_nothing(team, drain_events):
    dept, agent = team
    services.tasks.create_task(agent, title="Quiet", department_id=dept.id)
    drain_events()
    assert Greeting.select().count() == 0
