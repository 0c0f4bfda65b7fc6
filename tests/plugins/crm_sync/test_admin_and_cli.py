"""The admin panel (sync status, "sync now", CSV import preview and export, customers, dead letters), the
command line with its progress bar, the periodic jobs, the CRM lookup of a new reporter, secrets, pacing."""
from __future__ import annotations

import io
import logging
import re

import pytest

from click.testing import CliRunner

from conftest import NOW, bitrix_settings, generic_settings
from fake_crm import CODE

from workdesk.plugins.crm_sync.cli import import_command, pull_command
from workdesk.plugins.crm_sync.connectors import CrmError
from workdesk.plugins.crm_sync.models import CrmPush, Customer, SyncState, TaskCustomer
from workdesk.services import tasks

STATUS = "/admin/crm_sync/status/"


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def run_queued_tasks() -> None:
    from workdesk import queue
    while (task := queue.dequeue()) is not None:
        queue.execute(task)


def test_sync_status_shows_runs_and_sync_now_pulls(crm_generic, sync, client, login, make_user):
    crm_generic.put("contacts", "c1", name="Nadia")
    admin = make_user("admin")
    login(client, admin)
    assert "No sync has run yet." in client.get(STATUS).get_data(as_text=True)
    answer = client.post(STATUS + "sync", data={"csrf_token": csrf(client, STATUS)}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "A sync is queued" in page
    run_queued_tasks()  # as a worker would
    assert Customer.get().name == "Nadia"
    page = client.get(STATUS).get_data(as_text=True)
    assert "created: 1" in page and "contacts" in page
    assert '<progress max="1" value="1"></progress> 1 / 1' in page  # the last run's progress
    refused = client.post(STATUS + "sync", data={}, follow_redirects=True)
    assert "The form expired" in refused.get_data(as_text=True) and Customer.select().count() == 1


def test_csv_import_preview_then_apply_and_export_in_the_panel(crm_generic, client, login, make_user):
    login(client, make_user("admin"))
    data = "external_id,kind,name,emails\nk1,contact,Ким Ли,kim@example.kr\n,contact,Nobody,\n".encode("utf-8-sig")
    preview = client.post(STATUS + "import", data={"csrf_token": csrf(client, STATUS), "dry_run": "y",
                                                   "file": (io.BytesIO(data), "customers.csv")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "Preview" in preview and "Ким Ли" in preview and "The external_id is empty." in preview
    assert Customer.select().count() == 0
    client.post(STATUS + "import", data={"csrf_token": csrf(client, STATUS), "file": (io.BytesIO(data), "c.csv")},
                content_type="multipart/form-data")
    assert Customer.get().name == "Ким Ли"
    exported = client.get(STATUS + "export.csv")
    assert exported.mimetype == "text/csv" and "Ким Ли" in exported.get_data(as_text=True)
    listed = client.get("/admin/crm_sync/customers/").get_data(as_text=True)
    assert "Ким Ли" in listed


def test_dead_letters_in_the_panel_with_retry(crm_generic, sync, client, login, make_user, make_department,
                                              drain_events):
    crm_generic.put("contacts", "c1", name="Olga", emails=["olga@client.example"])
    sync.pull(NOW)
    dept = make_department()
    crm_generic.faults[:] = [500] * 20
    tasks.create_task(make_user("agent", [dept], email="olga@client.example"), title="Down", department_id=dept.id)
    drain_events()
    CrmPush.update(status="dead").execute()
    login(client, make_user("admin"))
    page = client.get("/admin/crm_sync/dead-letters/").get_data(as_text=True)
    assert "created · Task #" in page
    row = CrmPush.get()
    client.post(f"/admin/crm_sync/dead-letters/retry/{row.id}",
                data={"csrf_token": csrf(client, "/admin/crm_sync/dead-letters/")})
    assert CrmPush.get().status == "retry"


def test_the_cli_pulls_with_a_progress_bar_and_imports(crm_generic, workdesk_app, tmp_path):
    for n in range(5):
        crm_generic.put("contacts", f"c{n}", name=f"Contact {n}")
    with workdesk_app.app_context():
        result = CliRunner().invoke(pull_command, ["--full"])
    assert result.exit_code == 0, result.output
    assert "created 5" in result.output and "Pulling" in result.output
    crm_generic.faults[:] = [500] * 10
    with workdesk_app.app_context():
        failed = CliRunner().invoke(pull_command, [])
    assert failed.exit_code == 2 and "answered 500" in failed.output and "run again to resume" in failed.output
    crm_generic.faults.clear()
    path = tmp_path / "people.csv"
    path.write_bytes("external_id,name\nz1,Zoë\n".encode("utf-8-sig"))
    with workdesk_app.app_context():
        dry = CliRunner().invoke(import_command, [str(path)])
        assert "create 1" in dry.output and Customer.select().count() == 5
        CliRunner().invoke(import_command, [str(path), "--apply"])
    assert Customer.select().count() == 6


def test_the_cli_names_a_missing_setting(workdesk_app, enable_plugin):
    enable_plugin("crm_sync", connector="generic")
    with workdesk_app.app_context():
        result = CliRunner().invoke(pull_command, [])
    assert result.exit_code == 2 and "generic_base_url is not set" in result.output


def test_the_periodic_pull_runs_a_full_reconcile_first_then_incremental(crm_generic, run_jobs):
    crm_generic.put("contacts", "c1", name="First")
    assert run_jobs(NOW)["crm_sync.pull"] == "ran"
    assert SyncState.get(SyncState.resource == "contacts").last_full_at == NOW
    crm_generic.put("contacts", "c2", name="Second")
    run_jobs(NOW.replace(minute=10))
    state = SyncState.get(SyncState.resource == "contacts")
    assert state.last_full_at == NOW and state.last_success_at == NOW.replace(minute=10)
    assert Customer.select().count() == 2


def test_a_reporter_unknown_here_is_looked_up_in_the_crm(crm_generic, make_department, make_user, drain_events):
    crm_generic.put("contacts", "c9", name="Late Arrival", emails=["late@client.example"])  # not pulled yet
    dept = make_department()
    task = tasks.create_task(make_user("agent", [dept], email="late@client.example"), title="Hello",
                             department_id=dept.id)
    drain_events()
    assert TaskCustomer.get(TaskCustomer.task_id == task.id).contact.name == "Late Arrival"
    assert any("email=late%40client.example" in path for _t, _m, path in crm_generic.requests)

    crm_generic.faults[:] = [500] * 5  # the CRM down: one try, no link, the task is filed all the same
    asked = len(crm_generic.requests)
    task = tasks.create_task(make_user("agent", [dept], email="later@client.example"), title="Hello again",
                             department_id=dept.id)
    drain_events()
    assert not TaskCustomer.select().where(TaskCustomer.task_id == task.id).exists()
    assert len(crm_generic.requests) == asked + 1


def test_secrets_are_masked_and_never_logged(workdesk_app, enable_plugin, bitrix, api_client, caplog, sync, login,
                                            make_user):
    enable_plugin("crm_sync", **bitrix_settings(bitrix))
    shown = api_client(role="admin").get("/api/v1/plugins").json
    settings = next(p for p in shown["items"] if p["name"] == "crm_sync")["settings"]
    assert settings["bitrix_webhook_url"] == settings["bitrix_application_token"] == "********"
    from conftest import APPLICATION_TOKEN
    client = workdesk_app.test_client()
    login(client, make_user("admin"))
    form = client.get("/admin/plugins/crm_sync/settings").get_data(as_text=True)
    assert 'name="bitrix_application_token"' in form and 'type="password"' in form
    assert CODE not in form and APPLICATION_TOKEN not in form  # the admin panel never holds a secret
    bitrix.faults[:] = [500] * 10
    caplog.set_level(logging.DEBUG)
    try:
        sync.pull(NOW)
    except CrmError:
        pass
    assert CODE not in caplog.text and APPLICATION_TOKEN_NOT_IN(caplog.text)
    assert all(CODE not in (s.last_error or "") for s in SyncState.select())


def APPLICATION_TOKEN_NOT_IN(text: str) -> bool:  # noqa: N802
    from conftest import APPLICATION_TOKEN
    return APPLICATION_TOKEN not in text


def test_requests_are_paced_to_the_rate_limit(workdesk_app, enable_plugin, generic_crm, sync):
    enable_plugin("crm_sync", **generic_settings(generic_crm, rate_limit_per_second=5, page_size=1))
    for n in range(4):
        generic_crm.put("contacts", f"c{n}", name=f"C{n}")
    sync.pull(NOW)
    times = [t for t, _m, _p in generic_crm.requests]
    assert len(times) == 5 and times[-1] - times[0] >= 0.75  # 5 requests at 5 a second


def test_sync_now_in_the_api(crm_generic, api_client, make_user):
    crm_generic.put("contacts", "c1", name="Via API")
    assert api_client(role="agent").post("/api/v1/crm/sync").status_code == 403
    answer = api_client(role="admin").post("/api/v1/crm/sync")
    assert answer.status_code == 200 and answer.json["counts"]["created"] == 1
    assert api_client(role="admin").post("/api/v1/crm/sync?full=true").json["counts"]["unchanged"] == 1
    assert SyncState.get(SyncState.resource == "contacts").last_full_at is not None
    wrong = api_client(role="admin").post("/api/v1/crm/sync?full=maybe")
    assert wrong.status_code == 422 and "full" in wrong.json["error"]["fields"]
    crm_generic.faults[:] = [500] * 10
    failed = api_client(role="admin").post("/api/v1/crm/sync")
    assert failed.status_code == 502 and failed.json["error"]["code"] == "crm_unavailable"


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_a_chosen_connector_whose_plugin_is_uninstalled_stops_the_sync_loudly(
        workdesk_app, enable_plugin, run_jobs, client, login, make_user, api_client):
    """The third-party connector of acme_plugin.py was chosen, then its package uninstalled (this app
    does not load it): the stored choice no longer validates and must not turn into a csv sync."""
    from test_connectors import assert_nothing_syncs_and_everyone_is_told
    from workdesk import get_registry, write_transaction
    from workdesk.models import PluginState
    enable_plugin("crm_sync", connector="csv", page_size=20)
    with write_transaction():
        PluginState.update(settings={**PluginState.get(PluginState.name == "crm_sync").settings,
                                     "connector": "acme"}).where(PluginState.name == "crm_sync").execute()
    get_registry().refresh(force=True)
    refused = api_client(role="admin").post("/api/v1/crm/sync")  # "sync now" in the API
    assert refused.status_code == 409 and refused.json["error"]["code"] == "crm_connector_missing"
    assert "acme" in refused.json["error"]["message"] and "uninstalled" in refused.json["error"]["message"]
    assert_nothing_syncs_and_everyone_is_told(workdesk_app, run_jobs, client, login, make_user, "uninstalled")
