"""Activities pushed to the generic CRM through the worker (idempotency key, backoff, dead letters) and
the inbound webhook (signature, replay window, deduplication)."""
from __future__ import annotations

import json
import time

import pytest

from conftest import NOW, WEBHOOK_SECRET

from workdesk.plugins.crm_sync.connectors.generic import sign
from workdesk.plugins.crm_sync.models import CrmLink, CrmPush, Customer, InboundDelivery, TaskCustomer
from workdesk.plugins.crm_sync.push import push_due, retry_dead_pushes
from workdesk.services import tasks

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def linked(crm_generic, sync, make_department, make_user):
    """A contact pulled from the CRM whose email is a requester's, and an agent."""
    crm_generic.put("contacts", "c1", name="Ivan Petrov", emails=["ivan@client.example"])
    sync.pull(NOW)
    dept = make_department()
    return {"dept": dept, "agent": make_user("agent", [dept]),
            "reporter": make_user("agent", [dept], email="ivan@client.example"),
            "contact": Customer.get()}


@BOTH_DATABASES
def test_a_task_by_a_contact_is_linked_and_created_resolved_commented_reach_the_crm(linked, crm_generic,
                                                                                    drain_events, api_client):
    task = tasks.create_task(linked["reporter"], title="Printer jams", department_id=linked["dept"].id)
    drain_events()
    assert TaskCustomer.get(TaskCustomer.task_id == task.id).contact_id == linked["contact"].id
    tasks.add_comment(linked["agent"], task.id, "We sent a technician")
    tasks.add_comment(linked["agent"], task.id, "Internal: the customer owes us money", internal=True)
    for status in ("open", "in_progress", "resolved"):
        tasks.transition(linked["agent"], task.id, status)
    drain_events()
    kinds = [a["kind"] for a in crm_generic.activities.values()]
    assert kinds == ["created", "commented", "resolved"]
    assert all(a["contact_id"] == "c1" for a in crm_generic.activities.values())
    assert not any("owes us money" in a["body"] for a in crm_generic.activities.values())  # a note stays here
    assert all(key.startswith("workdesk-") for key in crm_generic.activities)
    assert CrmPush.select().where(CrmPush.status == "sent").count() == 3
    drain_events()
    assert crm_generic.activity_posts == 3  # nothing sent twice
    detail = api_client(user=linked["agent"]).get(f"/api/v1/crm/customers/{linked['contact'].id}").json
    assert [t["id"] for t in detail["tasks"]] == [task.id]
    assert [(c["kind"], c["status"], c["task_id"]) for c in detail["last_contacts"]] == [
        ("resolved", "sent", task.id), ("commented", "sent", task.id), ("created", "sent", task.id)]


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(linked, crm_generic, drain_events):
    crm_generic.faults[:] = ["drop"] * 5  # the CRM keeps the activity; every answer is lost this run
    task = tasks.create_task(linked["reporter"], title="Lost answer", department_id=linked["dept"].id)
    drain_events()
    row = CrmPush.get()
    assert row.status == "retry" and len(crm_generic.activities) == 1
    assert push_due(row.next_attempt_at) == 1
    assert len(crm_generic.activities) == 1 and crm_generic.activity_posts > 1  # same key: one activity
    assert CrmPush.get().remote_id == "act-1" and CrmPush.get().task_id == task.id


def test_failures_back_off_then_become_dead_letters_an_admin_retries(linked, crm_generic, drain_events):
    crm_generic.faults[:] = [500] * 15
    tasks.create_task(linked["reporter"], title="CRM down", department_id=linked["dept"].id)
    drain_events()
    row = CrmPush.get()
    first_wait = row.next_attempt_at - row.last_attempt_at
    push_due(row.next_attempt_at)
    row = CrmPush.get()
    assert row.next_attempt_at - row.last_attempt_at == first_wait * 2  # exponential
    push_due(row.next_attempt_at)
    assert CrmPush.get().status == "dead" and crm_generic.activities == {}
    crm_generic.faults.clear()
    assert retry_dead_pushes([row.id]) == 1
    assert push_due(CrmPush.get().next_attempt_at) == 1 and len(crm_generic.activities) == 1


def test_health_panel_counts_failed_pushes(linked, crm_generic, drain_events, api_client):
    crm_generic.faults[:] = [500] * 5
    tasks.create_task(linked["reporter"], title="CRM down", department_id=linked["dept"].id)
    drain_events()
    health = api_client(role="admin").get("/api/v1/health").json
    assert "crm_sync" in json.dumps(health["failed"])


def _signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None, delivery: str = "d-1") -> dict:
    timestamp = str(at if at is not None else int(time.time()))
    return {"X-CRM-Timestamp": timestamp, "X-CRM-Signature": sign(secret, timestamp, body),
            "X-CRM-Delivery": delivery, "Content-Type": "application/json"}


def _event(name: str = "Anna Smirnova", email: str = "anna@client.example", version: int = 100) -> bytes:
    return json.dumps({"event": "contact.updated", "data": {"id": "c7", "version": version, "name": name,
                                                             "emails": [email]}}).encode()


@BOTH_DATABASES
def test_a_signed_webhook_is_applied_once(crm_generic, client):
    body = _event()
    answer = client.post("/api/v1/crm/webhook", data=body, headers=_signed(body))
    assert answer.status_code == 200 and answer.json == {"status": "applied"}
    assert Customer.get().name == "Anna Smirnova"
    Customer.update(notes="kept").execute()
    again = client.post("/api/v1/crm/webhook", data=_event("Changed"), headers=_signed(_event("Changed")))
    assert again.json == {"status": "duplicate"}  # same delivery id: acknowledged, not applied
    assert Customer.get().name == "Anna Smirnova" and InboundDelivery.select().count() == 1


@pytest.mark.parametrize("headers", [
    {},  # no signature at all
    {"X-CRM-Signature": "sha256=00", "X-CRM-Timestamp": str(int(time.time()))},
    {"Authorization": "Bearer anything"},
])
def test_a_bad_or_missing_signature_answers_401_and_changes_nothing(crm_generic, client, api_client, headers):
    body = _event()
    answer = client.post("/api/v1/crm/webhook", data=body, headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"
    assert Customer.select().count() == 0 and InboundDelivery.select().count() == 0


def test_a_bearer_token_never_stands_in_for_the_signature(crm_generic, api_client):
    admin = api_client(role="admin")
    answer = admin.post("/api/v1/crm/webhook", json={"event": "contact.updated", "data": {"id": "x", "name": "X"}})
    assert answer.status_code == 401 and Customer.select().count() == 0


def test_a_replayed_delivery_outside_the_window_is_refused(crm_generic, client):
    body = _event()
    stale = client.post("/api/v1/crm/webhook", data=body, headers=_signed(body, at=int(time.time()) - 301))
    wrong = client.post("/api/v1/crm/webhook", data=body, headers=_signed(body, secret="another-secret-0123456"))
    assert stale.status_code == wrong.status_code == 401 and Customer.select().count() == 0


def test_a_webhook_deletion_marks_the_customer(crm_generic, client):
    body = _event()
    client.post("/api/v1/crm/webhook", data=body, headers=_signed(body))
    gone = json.dumps({"event": "contact.deleted", "data": {"id": "c7", "version": 101}}).encode()
    assert client.post("/api/v1/crm/webhook", data=gone, headers=_signed(gone, delivery="d-2")).json == \
        {"status": "applied"}
    assert Customer.get().deleted_at is not None and CrmLink.get().deleted


def test_a_merge_sent_by_webhook_moves_the_task_links(crm_generic, client, make_department, make_user, make_task):
    for n, (record, email) in enumerate((("c7", "anna@client.example"), ("c8", "anna.s@client.example")), start=1):
        body = json.dumps({"event": "contact.updated", "data": {"id": record, "version": 100, "name": "Anna",
                                                                 "emails": [email]}}).encode()
        assert client.post("/api/v1/crm/webhook", data=body, headers=_signed(body, delivery=f"d-{n}")).status_code == 200
    dept = make_department()
    agent = make_user("agent", [dept])
    first, second = make_task(agent, dept), make_task(agent, dept)
    survivor, loser = (Customer.get_by_id(CrmLink.get(CrmLink.remote_id == r).customer_id) for r in ("c7", "c8"))
    TaskCustomer.create(task_id=first.id, contact=survivor)
    TaskCustomer.create(task_id=second.id, contact=loser)
    merged = json.dumps({"event": "contact.merged", "data": {"id": "c8", "version": 101, "merged_into": "c7"}}).encode()
    assert client.post("/api/v1/crm/webhook", data=merged, headers=_signed(merged, delivery="d-3")).json == \
        {"status": "applied"}
    assert {row.contact_id for row in TaskCustomer.select()} == {survivor.id}
    assert Customer.get_by_id(loser.id).merged_into_id == survivor.id


@BOTH_DATABASES
def test_copies_of_one_delivery_arriving_together_are_applied_once(crm_generic, live_server):
    import concurrent.futures
    import urllib.request
    body = _event()
    headers = _signed(body, delivery="d-concurrent")

    def post(_n):
        request = urllib.request.Request(f"{live_server}/api/v1/crm/webhook", data=body, headers=headers,
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())["status"]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = sorted(pool.map(post, range(6)))
    assert answers == [(200, "applied")] + [(200, "duplicate")] * 5
    assert Customer.select().count() == 1 and InboundDelivery.select().count() == 1
