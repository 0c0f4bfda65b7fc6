"""A third-party plugin written from the docs alone (``workdesk_stamp``), exercised through the plugin kit:
its templates and static files, its own translation, a command line command, a field veto, a job
driven by ``run_jobs(now)``, the token client, lifecycle hooks and the deleted-task event."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from workdesk import Task, services
from workdesk.notifications import get_preferences

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "tests.thirdparty.workdesk_stamp:StampPlugin"
CATALOG = ROOT / "tests" / "thirdparty" / "workdesk_stamp" / "translations" / "de" / "LC_MESSAGES"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalog():
    """``make translations`` compiles the plugin's catalog; compile it here too so the test stands alone."""
    with (CATALOG / "messages.po").open("rb") as source, (CATALOG / "messages.mo").open("wb") as target:
        write_mo(target, read_po(source, locale="de"))


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [PLUGIN]}


@pytest.fixture
def desk(workdesk_app, enable_plugin, make_department, make_user, make_task):
    enable_plugin("stamp")
    dept = make_department("Warehouse")
    agent = make_user("agent", departments=[dept], locale="de")
    late = make_task(agent, dept, title="Count pallets", assignee_id=agent.id,
                     due_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc))
    fine = make_task(agent, dept, title="Sweep", due_at=dt.datetime(2026, 3, 9, 9, tzinfo=dt.timezone.utc))
    return {"dept": dept, "agent": agent, "late": late, "fine": fine}


def test_the_job_runs_at_the_given_instant_once_per_day(desk, run_jobs):
    from tests.thirdparty.workdesk_stamp.models import Stamp
    assert run_jobs("2026-03-02T08:00:00+02:00")["stamp.stamp_overdue"] == "ran"
    assert [(s.task_id, s.day) for s in Stamp.select()] == [(desk["late"].id, "2026-03-02")]
    assert run_jobs("2026-03-02T12:00:00+02:00")["stamp.stamp_overdue"] == "not_due"
    assert run_jobs("2026-03-02T12:00:00+02:00", force=True)["stamp.stamp_overdue"] == "ran"
    assert Stamp.select().count() == 1  # the same day stamps once
    run_jobs("2026-03-10T08:00:00+00:00")
    assert Stamp.select().count() == 3  # both are overdue on the 10th


def test_the_token_client_reads_its_endpoint_and_invisible_tasks_are_404(desk, run_jobs, api_client, make_department):
    run_jobs("2026-03-02T08:00:00+00:00")
    agent = api_client(user=desk["agent"])
    answer = agent.get(f"/api/v1/stamp/tasks/{desk['late'].id}")
    assert answer.status_code == 200 and answer.json == {"task_id": desk["late"].id, "days": ["2026-03-02"]}
    outsider = api_client("agent", departments=[make_department("Sales")])
    assert outsider.get(f"/api/v1/stamp/tasks/{desk['late'].id}").status_code == 404
    assert "/api/v1/stamp/tasks/{task_id}" in agent.get("/api/v1/openapi.json").json["paths"]


def test_a_stamped_task_keeps_its_title(desk, run_jobs, api_client):
    run_jobs("2026-03-02T08:00:00+00:00")
    agent = api_client(user=desk["agent"])
    refused = agent.patch(f"/api/v1/tasks/{desk['late'].id}", json={"title": "Renamed"})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "change_blocked"
    # The reader is German: the core's words and the plugin's reason both come translated.
    assert refused.json["error"]["message"] == ("Stamp verhindert diese Änderung: "
                                                "Eine gestempelte Aufgabe behält ihren Titel.")
    assert Task.get_by_id(desk["late"].id).title == "Count pallets"
    assert agent.patch(f"/api/v1/tasks/{desk['late'].id}", json={"priority": "high"}).status_code == 200
    assert agent.patch(f"/api/v1/tasks/{desk['fine'].id}", json={"title": "Sweep twice"}).status_code == 200


def test_the_panel_uses_the_plugins_template_static_file_and_catalog(desk, run_jobs, client, login):
    run_jobs("2026-03-02T08:00:00+00:00")
    login(client, desk["agent"])  # a German reader
    page = client.get(f"/tasks/{desk['late'].id}").get_data(as_text=True)
    assert "Stempel" in page and "Gestempelt am 2026-03-02" in page
    assert "/static/plugins/stamp/stamp.css" in page
    assert client.get("/static/plugins/stamp/stamp.css").status_code == 200


def test_lifecycle_hooks_and_the_disabled_plugins_files(desk, client):
    from tests.thirdparty.workdesk_stamp.models import Lifecycle
    from workdesk.registry import set_plugin_enabled
    set_plugin_enabled("stamp", False)
    assert [row.what for row in Lifecycle.select().order_by(Lifecycle.id)] == ["enabled", "disabled"]
    assert client.get("/static/plugins/stamp/stamp.css").status_code == 404
    set_plugin_enabled("stamp", True)
    assert [row.what for row in Lifecycle.select().order_by(Lifecycle.id)] == ["enabled", "disabled", "enabled"]


def test_a_deleted_task_takes_its_stamps_along(desk, run_jobs, make_user, drain_events):
    from tests.thirdparty.workdesk_stamp.models import Stamp
    run_jobs("2026-03-02T08:00:00+00:00")
    services.tasks.delete_task(make_user("admin"), desk["late"].id)
    drain_events()
    assert Stamp.select().count() == 0


def test_its_notification_kind_is_offered_in_the_preferences(desk):
    assert "stamp.stamped" in get_preferences(desk["agent"])["channels"]


def test_its_command_runs_under_its_name_and_refuses_while_disabled(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update(WORKDESK_INSTANCE=str(tmp_path / "instance"), PYTHONPATH=str(ROOT), WORKDESK_EXTRA_PLUGINS=PLUGIN)

    def workdesk(*args):
        return subprocess.run([sys.executable, "-m", "workdesk.cli", *args], capture_output=True, text=True,
                              env=env, cwd=str(ROOT), timeout=60)
    assert workdesk("init", "--admin-email", "a@example.com", "--admin-password", "long-enough-1").returncode == 0
    assert "stamp" in workdesk("--help").stdout
    refused = workdesk("stamp", "count")
    assert refused.returncode == 2
    assert "The plugin 'stamp' is disabled" in refused.stderr and "workdesk plugins enable stamp" in refused.stderr
    assert workdesk("plugins", "enable", "stamp").returncode == 0
    counted = workdesk("stamp", "count", "--day", "2026-03-02")
    assert counted.returncode == 0 and counted.stdout == "0 stamp(s)\n"
