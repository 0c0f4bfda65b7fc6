"""Real processes killed with SIGKILL: ``workdesk crm_sync pull`` in the middle of the pages, and a
``workdesk worker`` in the middle of pushing an activity, against the generic CRM and against Bitrix24.
After a restart nothing is lost or duplicated."""
from __future__ import annotations

import signal
import subprocess
import threading

import json

from conftest import bitrix_settings, generic_settings


def configure(instance, crm, make_settings=generic_settings) -> None:
    settings = make_settings(crm, timeout_seconds=30)
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


def file_task_as_olga(worker_instance, name: str, title: str) -> None:
    """Olga (olga@client.example, a contact the CRM knows) files a task in the worker's instance."""
    worker_instance.python(f"""
from workdesk.models import Department
from workdesk.services.users import create_user
from workdesk.services.tasks import create_task
dept = Department.create(name="Support")
olga = create_user(None, email="olga@client.example", name={name!r}, password="password123", role="agent",
                   department_ids=[dept.id])
result = create_task(olga, title={title!r}, department_id=dept.id).id
""")


def kill_mid_push_then_push_again(worker_instance, crm, pushed) -> None:
    """Hold the CRM's answer to the first push, SIGKILL the worker meanwhile (the CRM has kept the item:
    ``pushed()`` holds one), then let a second worker push again until the push is recorded as sent."""
    from tests.notifications.worker_instance import wait_for
    crm.gate = threading.Event()
    first = worker_instance.start_worker("first")
    wait_for(crm.gate_reached.is_set, message="the worker to reach the held push", timeout=60)
    worker_instance.kill(first)
    assert len(pushed()) == 1  # the CRM kept it; the worker died before hearing so
    crm.gate.set()
    crm.gate = None
    worker_instance.start_worker("second")
    wait_for(lambda: worker_instance.query("SELECT status FROM crm_sync_push") == [("sent",)],
             message="the push to be recorded as sent", timeout=60)


def test_a_worker_killed_mid_push_sends_the_same_idempotency_key_again(worker_instance, generic_crm):
    generic_crm.put("contacts", "c1", name="Olga", emails=["olga@client.example"])
    configure(worker_instance, generic_crm)
    worker_instance.workdesk("crm_sync", "pull")
    file_task_as_olga(worker_instance, "Olga", "Broken invoice")
    kill_mid_push_then_push_again(worker_instance, generic_crm, lambda: generic_crm.activities)
    assert len(generic_crm.activities) == 1 and generic_crm.activity_posts == 2  # the same key twice
    assert worker_instance.query("SELECT remote_id FROM crm_sync_push") == [("act-1",)]



def _kill_pull_at_the_held_page(instance, crm) -> None:
    from tests.notifications.worker_instance import BIN
    puller = subprocess.Popen([str(BIN / "workdesk"), "crm_sync", "pull"], env=instance.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert crm.gate_reached.wait(60), "the pull never reached the held page"
    puller.send_signal(signal.SIGKILL)
    puller.wait(timeout=10)


def test_a_bitrix24_pull_killed_mid_sync_resumes_from_the_committed_cursor(worker_instance, bitrix):
    company = bitrix.add("company", TITLE="ООО «Вектор»")
    for n in range(1, 11):
        bitrix.add("contact", NAME=f"Иван{n}", EMAIL=[{"VALUE": f"ivan{n}@vector.example", "VALUE_TYPE": "WORK"}],
                   COMPANY_ID=str(company))
    configure(worker_instance, bitrix, bitrix_settings)
    bitrix.gate, bitrix.hold_pages_after = threading.Event(), 3  # the company, then two pages of 3 contacts
    _kill_pull_at_the_held_page(worker_instance, bitrix)
    assert worker_instance.query("SELECT count(*) FROM crm_sync_customer") == [(7,)]
    cursor = json.loads(worker_instance.query("SELECT cursor FROM crm_sync_state WHERE resource = 'contacts'")[0][0])
    assert cursor["id"] == 7  # the sixth contact: the last one committed
    bitrix.hold_pages_after = None
    bitrix.gate.set()
    bitrix.gate = None

    bitrix.calls.clear()
    worker_instance.workdesk("crm_sync", "pull")
    assert bitrix.calls[:2] == ["crm.company.list", "crm.contact.list"]
    assert worker_instance.query("SELECT count(*), count(DISTINCT name) FROM crm_sync_customer") == [(11, 11)]
    assert worker_instance.query("SELECT count(*) FROM crm_sync_link") == [(11,)]
    assert worker_instance.query("SELECT count(*) FROM crm_sync_customer WHERE company_id IS NOT NULL") == [(10,)]
    assert bitrix.calls.count("crm.contact.list") == 2  # resumed after the sixth: 4 left, 3 a page


def test_a_worker_killed_mid_push_to_bitrix24_adds_one_comment(worker_instance, bitrix):
    bitrix.add("contact", NAME="Ольга", EMAIL=[{"VALUE": "olga@client.example", "VALUE_TYPE": "WORK"}])
    configure(worker_instance, bitrix, bitrix_settings)
    worker_instance.workdesk("crm_sync", "pull")
    file_task_as_olga(worker_instance, "Ольга", "Счёт не пришёл")
    kill_mid_push_then_push_again(worker_instance, bitrix, lambda: bitrix.comments)
    assert len(bitrix.comments) == 1 and bitrix.calls.count("crm.timeline.comment.add") == 1  # found, not re-added
    assert bitrix.calls.count("crm.timeline.comment.list") == 2
    assert worker_instance.query("SELECT remote_id FROM crm_sync_push") == [("1",)]
