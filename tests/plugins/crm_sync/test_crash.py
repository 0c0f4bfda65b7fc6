"""Real processes killed with SIGKILL: ``workdesk crm_sync pull`` in the middle of the pages, and a
``workdesk worker`` in the middle of pushing an activity. After a restart nothing is lost or duplicated."""
from __future__ import annotations

import signal
import subprocess
import threading

from conftest import generic_settings


def configure(instance, crm) -> None:
    settings = generic_settings(crm, timeout_seconds=30)
    instance.python(f"""
from workdesk.registry import save_plugin_settings, set_plugin_enabled
save_plugin_settings("crm_sync", {settings!r})
set_plugin_enabled("crm_sync", True)
result = True
""")


def test_a_pull_killed_mid_sync_resumes_from_the_committed_cursor(worker_instance, generic_crm):
    for n in range(1, 11):
        generic_crm.put("contacts", f"c{n}", name=f"Contact {n}", emails=[f"c{n}@client.example"])
    configure(worker_instance, generic_crm)
    generic_crm.gate, generic_crm.hold_pages_after = threading.Event(), 3  # companies, then two pages of contacts
    from tests.notifications.worker_instance import BIN
    puller = subprocess.Popen([str(BIN / "workdesk"), "crm_sync", "pull"], env=worker_instance.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert generic_crm.gate_reached.wait(60), "the pull never reached the held page"
    puller.send_signal(signal.SIGKILL)
    puller.wait(timeout=10)
    assert worker_instance.query("SELECT count(*) FROM crm_sync_customer")[0][0] == 6
    assert worker_instance.query("SELECT cursor FROM crm_sync_state WHERE resource = 'contacts'") == [("6",)]
    generic_crm.hold_pages_after = None
    generic_crm.gate.set()
    generic_crm.gate = None

    generic_crm.cursors_asked.clear()
    worker_instance.workdesk("crm_sync", "pull")
    assert [c for r, c in generic_crm.cursors_asked if r == "contacts"][0] == "6"  # resumed
    assert worker_instance.query("SELECT count(*), count(DISTINCT name) FROM crm_sync_customer") == [(10, 10)]
    assert worker_instance.query("SELECT count(*) FROM crm_sync_link") == [(10,)]


def test_a_worker_killed_mid_push_sends_the_same_idempotency_key_again(worker_instance, generic_crm):
    from tests.notifications.worker_instance import wait_for
    generic_crm.put("contacts", "c1", name="Olga", emails=["olga@client.example"])
    configure(worker_instance, generic_crm)
    worker_instance.workdesk("crm_sync", "pull")
    worker_instance.python("""
from workdesk.models import Department
from workdesk.services.users import create_user
from workdesk.services.tasks import create_task
dept = Department.create(name="Support")
olga = create_user(None, email="olga@client.example", name="Olga", password="password123", role="agent",
                   department_ids=[dept.id])
result = create_task(olga, title="Broken invoice", department_id=dept.id).id
""")
    generic_crm.gate = threading.Event()
    first = worker_instance.start_worker("first")
    wait_for(generic_crm.gate_reached.is_set, message="the worker to reach the held activity", timeout=60)
    worker_instance.kill(first)
    assert len(generic_crm.activities) == 1  # the CRM kept it; the worker died before hearing so
    generic_crm.gate.set()
    generic_crm.gate = None

    worker_instance.start_worker("second")
    wait_for(lambda: worker_instance.query("SELECT status FROM crm_sync_push") == [("sent",)],
             message="the activity to be sent", timeout=60)
    assert len(generic_crm.activities) == 1 and generic_crm.activity_posts == 2  # the same key twice
    assert worker_instance.query("SELECT remote_id FROM crm_sync_push") == [("act-1",)]

