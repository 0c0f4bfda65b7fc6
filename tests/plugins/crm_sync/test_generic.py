"""The generic REST/JSON connector against a real CRM on 127.0.0.1: pagination, changes during a sync,
429 with Retry-After, 500s and timeouts, duplicated and out-of-order pages, a merge, an email change,
deletions (fed and reconciled), and a crash mid-sync resuming from the committed cursor."""
from __future__ import annotations

import pytest

from conftest import NOW

from workdesk.plugins.crm_sync.connectors import CrmError
from workdesk.plugins.crm_sync.models import CrmLink, Customer, CustomerEmail, SyncState, TaskCustomer

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def seed(crm, contacts: int = 7) -> None:
    crm.put("companies", "co1", name="Acme Ltd", emails=["office@acme.example"])
    crm.put("companies", "co2", name="ООО Ромашка")
    for n in range(1, contacts + 1):
        crm.put("contacts", f"c{n}", name=f"Contact {n}", emails=[f"c{n}@acme.example"], phones=[f"+359 2 555 00{n:02d}"],
                company_id="co1" if n % 2 else "co2", owner="sales", custom={"tier": n})


def customer(remote_id: str) -> Customer:
    return Customer.get_by_id(CrmLink.get(CrmLink.remote_id == remote_id).customer_id)


@BOTH_DATABASES
def test_pages_are_followed_and_a_second_run_changes_nothing(crm_generic, sync):
    seed(crm_generic)
    counts = sync.pull(NOW)
    assert counts["created"] == 9 and Customer.select().count() == 9
    contact = customer("c3")
    assert contact.company_id == customer("co1").id and contact.custom == {"tier": 3}
    assert contact.emails == ["c3@acme.example"] and contact.phones == ["+359 2 555 0003"]
    assert [c for r, c in crm_generic.cursors_asked if r == "contacts"] == [None, "5", "8"]  # 3 a page, keyset
    state = SyncState.get(SyncState.resource == "contacts")
    assert state.cursor == "9" and state.last_error is None and state.counts["created"] == 7

    again = sync.pull(NOW)
    assert again == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0, "merged": 0}
    assert Customer.select().count() == 9 and CrmLink.select().count() == 9


def test_changes_made_during_a_sync_are_not_lost(crm_generic, sync):
    seed(crm_generic)

    def change_behind_the_cursor():
        crm_generic.put("contacts", "c1", name="Contact One (renamed)")  # already read: moves to the end
        crm_generic.put("contacts", "c99", name="Newcomer", emails=["new@acme.example"])
    crm_generic.after_page = change_behind_the_cursor
    sync.pull(NOW)
    sync.pull(NOW)
    assert customer("c1").name == "Contact One (renamed)" and customer("c99").name == "Newcomer"
    assert Customer.select().where(Customer.kind == "contact").count() == 8


def test_429_waits_for_retry_after(crm_generic, sync):
    seed(crm_generic, contacts=2)
    crm_generic.faults[:] = [429]
    sync.pull(NOW)
    times = [t for t, method, _path in crm_generic.requests if method == "GET"]
    assert times[1] - times[0] >= 0.95  # Retry-After: 1 was respected
    assert Customer.select().count() == 4


def test_500s_and_timeouts_are_retried_with_backoff(crm_generic, sync):
    seed(crm_generic, contacts=2)
    crm_generic.hold_seconds = 1.0
    crm_generic.faults[:] = [500, "timeout", 500]
    sync.pull(NOW)
    assert Customer.select().count() == 4


def test_a_crm_down_is_recorded_and_the_next_run_resumes_from_the_committed_cursor(crm_generic, sync):
    seed(crm_generic)
    def after_companies():
        crm_generic.after_page = lambda: crm_generic.faults.extend([500] * 5)  # dies after the first page
    crm_generic.after_page = after_companies
    with pytest.raises(CrmError):
        sync.pull(NOW)
    state = SyncState.get(SyncState.resource == "companies")
    assert state.cursor == "2" and state.last_error is None  # the companies were done
    state = SyncState.get(SyncState.resource == "contacts")
    assert state.cursor == "5" and "answered 500" in state.last_error
    assert Customer.select().where(Customer.kind == "contact").count() == 3

    crm_generic.cursors_asked.clear()
    sync.pull(NOW)
    assert [c for r, c in crm_generic.cursors_asked if r == "contacts"][0] == "5"  # resumed, not restarted
    assert Customer.select().where(Customer.kind == "contact").count() == 7
    assert SyncState.get(SyncState.resource == "contacts").last_error is None


def test_duplicated_and_out_of_order_pages_change_nothing(crm_generic, sync):
    seed(crm_generic)
    crm_generic.put("contacts", "c2", name="Contact 2 (newer)")
    crm_generic.faults[:] = [None, None, "duplicate", "stale"]
    sync.pull(NOW)
    assert customer("c2").name == "Contact 2 (newer)"  # the stale version slipped in later was ignored
    assert CrmLink.select().count() == 9 and Customer.select().count() == 9


@BOTH_DATABASES
def test_a_merge_in_the_crm_merges_here_keeping_both_task_links(crm_generic, sync, make_department, make_user,
                                                                make_task):
    seed(crm_generic, contacts=2)
    sync.pull(NOW)
    dept = make_department()
    agent = make_user("agent", [dept])
    first, second = make_task(agent, dept), make_task(agent, dept)
    TaskCustomer.create(task_id=first.id, customer=customer("c1"), contact=customer("c1"))
    TaskCustomer.create(task_id=second.id, customer=customer("c2"), contact=customer("c2"))
    loser_id = customer("c2").id

    crm_generic.merge("c2", "c1")
    counts = sync.pull(NOW)
    assert counts["merged"] == 1
    survivor = customer("c1")
    assert {row.contact_id for row in TaskCustomer.select()} == {survivor.id}
    loser = Customer.get_by_id(loser_id)
    assert loser.merged_into_id == survivor.id and loser.deleted_at is not None
    assert set(survivor.emails) == {"c1@acme.example", "c2@acme.example"}
    assert sync.pull(NOW)["merged"] == 0


def test_an_email_change_updates_the_same_customer(crm_generic, sync):
    seed(crm_generic, contacts=2)
    sync.pull(NOW)
    before = customer("c1").id
    crm_generic.put("contacts", "c1", emails=["renamed@acme.example"])
    assert sync.pull(NOW)["updated"] == 1
    assert customer("c1").id == before and Customer.select().count() == 4
    assert [r.email for r in CustomerEmail.select().where(CustomerEmail.customer == before)] == ["renamed@acme.example"]


def test_a_deletion_marks_the_customer_and_keeps_its_task_links(crm_generic, sync, make_department, make_user,
                                                                make_task):
    seed(crm_generic, contacts=2)
    sync.pull(NOW)
    dept = make_department()
    task = make_task(make_user("agent", [dept]), dept)
    TaskCustomer.create(task_id=task.id, customer=customer("c1"), contact=customer("c1"))
    crm_generic.delete("contacts", "c1")
    assert sync.pull(NOW)["deleted"] == 1
    assert customer("c1").deleted_at is not None and TaskCustomer.get().contact_id == customer("c1").id


def test_a_full_reconcile_catches_deletions_the_feed_missed(crm_generic, sync):
    seed(crm_generic, contacts=3)
    sync.pull(NOW, full=True)
    crm_generic.forget("contacts", "c2")
    assert sync.pull(NOW)["deleted"] == 0  # the feed never said
    counts = sync.pull(NOW, full=True)
    assert counts["deleted"] == 1 and customer("c2").deleted_at is not None
    assert customer("c1").deleted_at is None
    assert sync.full_reconcile_due(NOW) is False


def test_private_destinations_are_refused_unless_allowed(workdesk_app, enable_plugin, generic_crm, sync):
    from conftest import generic_settings
    enable_plugin("crm_sync", **generic_settings(generic_crm, allow_private_destinations=False))
    with pytest.raises(CrmError) as refused:
        sync.pull(NOW)
    assert "allow_private_destinations" in str(refused.value) and "127.0.0.1" in str(refused.value)
    assert generic_crm.requests == []


def test_a_crm_that_keeps_answering_the_same_page_stops_the_run(crm_generic, sync):
    crm_generic.page = lambda resource, cursor, limit: {"items": [], "next_cursor": cursor or "0", "has_more": True}
    with pytest.raises(CrmError, match="same page"):
        sync.pull(NOW)
    assert "same page" in SyncState.get(SyncState.resource == "companies").last_error


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.5", "192.168.1.20"])
def test_link_local_and_private_crm_addresses_are_refused(workdesk_app, enable_plugin, generic_crm, sync, address):
    from conftest import generic_settings
    enable_plugin("crm_sync", **generic_settings(generic_crm, allow_private_destinations=False,
                                                 generic_base_url=f"http://{address}/api"))
    with pytest.raises(CrmError, match="allow_private_destinations"):
        sync.pull(NOW)
    assert "allow_private_destinations" in SyncState.get(SyncState.resource == "companies").last_error
