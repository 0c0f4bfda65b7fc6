"""The example plugin's own tests, using the fixtures Workdesk publishes for plugin authors."""
import datetime as dt

from workdesk import services
from workdesk.jobs import run_due_jobs
from workdesk_hello.models import DailyCount, Greeting


def test_new_task_is_greeted_once(workdesk_app, enable_plugin, make_user, make_department, drain_events):
    enable_plugin("hello", greeting="Welcome!")
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    task = services.tasks.create_task(agent, title="Printer jams", department_id=dept.id)
    drain_events()
    assert Greeting.get(Greeting.task_id == task.id).text == "Welcome!"
    assert services.tasks.plugin_data(task, agent) == {"hello": {"greeting": "Welcome!"}}


def test_daily_count_runs_as_of_the_given_instant(workdesk_app, enable_plugin, make_user, make_department, make_task):
    enable_plugin("hello")
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    make_task(agent, dept)
    make_task(agent, dept)
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
    assert run_due_jobs(now=at)["hello.count_open"] == "ran"
    assert DailyCount.get(DailyCount.day == at.date()).open_tasks == 2
    assert run_due_jobs(now=at + dt.timedelta(hours=1))["hello.count_open"] == "not_due"


def test_disabled_plugin_does_nothing(workdesk_app, make_user, make_department, drain_events):
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    services.tasks.create_task(agent, title="Quiet", department_id=dept.id)
    drain_events()
    assert Greeting.select().count() == 0
