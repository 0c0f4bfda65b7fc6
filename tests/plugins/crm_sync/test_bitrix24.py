"""The Bitrix24 connector against a local server speaking Bitrix24's REST methods: ``start`` paging with
the ``DATE_MODIFY`` filter, changes during a sync, ``QUERY_LIMIT_EXCEEDED`` and 429 with Retry-After,
500s and timeouts, duplicated pages, a merge (reported by Bitrix24 as a deletion), an email change, a
deletion, activities as timeline comments carrying the idempotency key, and the outbound event handler's ``application_token``."""
from __future__ import annotations

import pytest

from conftest import APPLICATION_TOKEN, NOW

from workdesk.plugins.crm_sync.connectors import CrmError
from workdesk.plugins.crm_sync.models import CrmLink, CrmPush, Customer, TaskCustomer
from workdesk.plugins.crm_sync.push import push_due
from workdesk.services import tasks

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def email(value: str) -> list[dict]:
    return [{"ID": "1", "VALUE": value, "VALUE_TYPE": "WORK"}]


def seed(bx, contacts: int = 7) -> dict[str, int]:
    ids = {"co": bx.add("company", TITLE="ООО «Вектор»", EMAIL=email("office@vector.example"))}
    for n in range(1, contacts + 1):
        ids[f"c{n}"] = bx.add("contact", NAME=f"Иван{n}", LAST_NAME="Петров", EMAIL=email(f"ivan{n}@vector.example"),
                              PHONE=[{"ID": "2", "VALUE": f"+7 495 000-00-0{n}", "VALUE_TYPE": "WORK"}],
                              COMPANY_ID=str(ids["co"]), ASSIGNED_BY_ID="12", UF_CRM_TIER=str(n))
    return ids


def customer(remote_id: int) -> Customer:
    return Customer.get_by_id(CrmLink.get((CrmLink.remote_id == str(remote_id))).customer_id)


@BOTH_DATABASES
def test_start_paging_with_the_date_modify_filter_and_a_quiet_second_run(crm_bitrix, sync):
    ids = seed(crm_bitrix)
    counts = sync.pull(NOW)
    assert counts["created"] == 8
    ivan = customer(ids["c3"])
    assert ivan.name == "Иван3 Петров" and ivan.emails == ["ivan3@vector.example"]
    assert ivan.company_id == customer(ids["co"]).id and ivan.custom == {"UF_CRM_TIER": "3"} and ivan.owner == "12"
    assert crm_bitrix.calls.count("crm.contact.list") == 3  # 3 a page
    assert sync.pull(NOW) == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0, "merged": 0}


def test_changes_during_a_sync_and_equal_modification_times(crm_bitrix, sync):
    ids = seed(crm_bitrix)
    # four records changed in the same second: a run of equal times longer than a page
    crm_bitrix.clock = crm_bitrix.clock.replace(second=0)
    for n in (4, 5, 6, 7):
        crm_bitrix.entities["contact"][ids[f"c{n}"]]["DATE_MODIFY"] = "2026-11-01T09:30:00+03:00"

    def change_behind_the_cursor():
        crm_bitrix.update("contact", ids["c1"], NAME="Иван (renamed)")
    crm_bitrix.after_page = change_behind_the_cursor
    sync.pull(NOW)
    sync.pull(NOW)
    assert customer(ids["c1"]).name == "Иван (renamed) Петров"
    assert Customer.select().count() == 8 and CrmLink.select().count() == 8


def test_duplicated_and_out_of_order_pages_change_nothing(crm_bitrix, sync):
    ids = seed(crm_bitrix)
    crm_bitrix.update("contact", ids["c2"], NAME="Иван-новый")
    crm_bitrix.faults[:] = [None, None, "duplicate", "stale", None, "stale"]
    sync.pull(NOW)
    assert customer(ids["c2"]).name == "Иван-новый Петров"  # the older version slipped in was ignored
    assert Customer.select().count() == 8 and CrmLink.select().count() == 8
    crm_bitrix.faults[:] = ["stale"]
    assert sync.pull(NOW)["updated"] == 0


def test_query_limit_exceeded_and_429_are_waited_out(crm_bitrix, sync):
    seed(crm_bitrix, contacts=2)
    crm_bitrix.faults[:] = ["limit503", 429]
    sync.pull(NOW)
    times = [t for t, _method, _path in crm_bitrix.requests]
    assert times[2] - times[1] >= 0.95  # Retry-After: 1
    assert Customer.select().count() == 3


def test_500s_and_timeouts_then_a_dead_portal(crm_bitrix, sync):
    seed(crm_bitrix, contacts=2)
    crm_bitrix.hold_seconds = 1.0
    crm_bitrix.faults[:] = [500, "timeout"]
    sync.pull(NOW)
    assert Customer.select().count() == 3
    crm_bitrix.faults[:] = [500] * 10
    with pytest.raises(CrmError):
        sync.pull(NOW)


def test_a_merge_reported_as_a_deletion_keeps_both_task_links(crm_bitrix, sync, make_department, make_user,
                                                              make_task):
    ids = seed(crm_bitrix, contacts=2)
    crm_bitrix.update("contact", ids["c2"], EMAIL=email("ivan1@vector.example") + email("ivan2@vector.example"))
    sync.pull(NOW, full=True)
    dept = make_department()
    agent = make_user("agent", [dept])
    first, second = make_task(agent, dept), make_task(agent, dept)
    TaskCustomer.create(task_id=first.id, contact=customer(ids["c1"]))
    TaskCustomer.create(task_id=second.id, contact=customer(ids["c2"]))
    crm_bitrix.merge(ids["c2"], ids["c1"])  # the duplicate finder keeps c1
    counts = sync.pull(NOW, full=True)
    assert counts["merged"] == 1
    survivor = customer(ids["c1"])
    assert {row.contact_id for row in TaskCustomer.select()} == {survivor.id}
    assert Customer.get_by_id(customer(ids["c2"]).id).id == survivor.id  # the old id now leads to the survivor


def test_an_email_change_and_a_deletion(crm_bitrix, sync):
    ids = seed(crm_bitrix, contacts=2)
    sync.pull(NOW)
    before = customer(ids["c1"]).id
    crm_bitrix.update("contact", ids["c1"], EMAIL=email("new@vector.example"))
    sync.pull(NOW)
    assert customer(ids["c1"]).id == before and customer(ids["c1"]).emails == ["new@vector.example"]
    assert Customer.select().count() == 3
    crm_bitrix.remove("contact", ids["c2"])
    assert sync.pull(NOW, full=True)["deleted"] == 1 and customer(ids["c2"]).deleted_at is not None


@BOTH_DATABASES
def test_activities_go_to_the_timeline_and_are_never_added_twice(crm_bitrix, sync, make_department, make_user,
                                                                 drain_events):
    ids = seed(crm_bitrix, contacts=1)
    sync.pull(NOW)
    dept = make_department()
    reporter = make_user("agent", [dept], email="ivan1@vector.example")
    crm_bitrix.faults[:] = ["drop"] * 5  # Bitrix24 adds the comment, the answer is lost
    task = tasks.create_task(reporter, title="Счёт не пришёл", department_id=dept.id)
    drain_events()
    row = CrmPush.get()
    assert row.status == "retry" and len(crm_bitrix.comments) == 1
    push_due(row.next_attempt_at)
    assert len(crm_bitrix.comments) == 1 and CrmPush.get().status == "sent" and CrmPush.get().remote_id == "1"
    comment = crm_bitrix.comments[0]
    assert comment["ENTITY_ID"] == ids["c1"] and comment["ENTITY_TYPE"] == "contact"
    assert "Счёт не пришёл" in comment["COMMENT"] and comment["COMMENT"].endswith(f"[{row.idempotency_key}]")
    tasks.add_comment(make_user("agent", [dept]), task.id, "Отправили счёт повторно")
    drain_events()
    assert [c["COMMENT"].splitlines()[1] for c in crm_bitrix.comments[1:]] == ["Отправили счёт повторно"]
    assert "crm.activity.add" not in crm_bitrix.calls  # Bitrix24 refuses its REST_APP provider to a webhook


@BOTH_DATABASES
def test_the_event_handler_is_verified_by_application_token(crm_bitrix, sync, client):
    ids = seed(crm_bitrix, contacts=1)
    form = {"event": "ONCRMCONTACTUPDATE", "data[FIELDS][ID]": str(ids["c1"]), "ts": "1764403200",
            "auth[domain]": "portal.bitrix24.ru", "auth[application_token]": APPLICATION_TOKEN}
    assert client.post("/api/v1/crm/webhook", data={**form, "auth[application_token]": "wrong"}).status_code == 401
    assert Customer.select().count() == 0
    assert client.post("/api/v1/crm/webhook", data=form).json == {"status": "applied"}
    assert customer(ids["c1"]).name == "Иван1 Петров"
    assert client.post("/api/v1/crm/webhook", data=form).json == {"status": "duplicate"}
    crm_bitrix.remove("contact", ids["c1"])
    gone = {**form, "event": "ONCRMCONTACTDELETE", "ts": "1764403300"}
    assert client.post("/api/v1/crm/webhook", data=gone).json == {"status": "applied"}
    assert customer(ids["c1"]).deleted_at is not None


@BOTH_DATABASES
def test_a_merge_whose_deletion_event_comes_first_still_merges(crm_bitrix, sync, client, make_department, make_user,
                                                               make_task):
    ids = seed(crm_bitrix, contacts=2)
    sync.pull(NOW)
    dept = make_department()
    agent = make_user("agent", [dept])
    first, second = make_task(agent, dept), make_task(agent, dept)
    TaskCustomer.create(task_id=first.id, contact=customer(ids["c1"]))
    TaskCustomer.create(task_id=second.id, contact=customer(ids["c2"]))
    loser_id = customer(ids["c2"]).id
    crm_bitrix.merge(ids["c2"], ids["c1"])  # the duplicate finder keeps c1; the handler's events in any order
    form = {"ts": "1764403200", "auth[application_token]": APPLICATION_TOKEN}
    deleted = client.post("/api/v1/crm/webhook", data={**form, "event": "ONCRMCONTACTDELETE",
                                                       "data[FIELDS][ID]": str(ids["c2"])})
    assert deleted.json == {"status": "applied"} and Customer.get_by_id(loser_id).deleted_at is not None
    assert Customer.get_by_id(loser_id).merged_into_id is None  # not yet known as a merge
    updated = client.post("/api/v1/crm/webhook", data={**form, "event": "ONCRMCONTACTUPDATE",
                                                       "data[FIELDS][ID]": str(ids["c1"])})
    assert updated.json == {"status": "applied"}
    survivor = customer(ids["c1"])
    assert {row.contact_id for row in TaskCustomer.select()} == {survivor.id}
    assert Customer.get_by_id(loser_id).merged_into_id == survivor.id
    assert CrmLink.get(CrmLink.remote_id == str(ids["c2"])).merged_into_remote_id == str(ids["c1"])
    assert sync.pull(NOW, full=True)["merged"] == 0  # the reconcile finds nothing left to merge


def test_a_contact_is_looked_up_by_phone_and_by_email(crm_bitrix, sync):
    from workdesk.plugins.crm_sync.links import look_up_in_crm
    ids = seed(crm_bitrix, contacts=2)
    found = look_up_in_crm(phone="+7 495 000-00-02")
    assert [c.name for c in found] == ["Иван2 Петров"] and customer(ids["c2"]).id == found[0].id
    assert [c.name for c in look_up_in_crm(email="ivan1@vector.example")] == ["Иван1 Петров"]
    assert look_up_in_crm(phone="+7 000") == [] and crm_bitrix.calls.count("crm.contact.list") == 3
    assert sync.pull(NOW)["created"] == 1  # the company; the contacts looked up are known by their ids
    assert customer(ids["c2"]).company_id == customer(ids["co"]).id  # and find it once it is here
    assert sync.pull(NOW, full=True)["updated"] == 0
