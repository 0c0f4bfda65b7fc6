"""The webpush plugin against a real push service on 127.0.0.1: VAPID keys made on enable (a secret
setting), the subscription API and its refusals, the JWT verified and the payload decrypted by the
service, 201, 429 with Retry-After, 410 (the subscription removed) and 500 (retried, then dead); a digest
user's notifications arriving as one summary push when the digest job runs."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.notifications import DIGEST_KIND, Notification, inbox_url, notify, set_preferences, task_url
from workdesk.notifications.digest import send_digests
from workdesk.registry import get_registry, plugin_settings
from workdesk.secret_settings import SECRET_MASK
from workdesk.plugins.webpush.models import PushDelivery, Subscription
from workdesk.plugins.webpush.services import deliver_due

from .conftest import Device

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
API = "/api/v1/webpush"


@pytest.fixture
def webpush(enable_plugin, push_service):
    enable_plugin("webpush", allow_private_destinations=True, push_hosts=["127.0.0.1"], timeout_seconds=2,
                  subject="mailto:ops@example.com")
    return push_service


def subscribe(client, service, device, name="d1"):
    answer = client.post(f"{API}/subscriptions", json={"endpoint": service.endpoint(device, name),
                                                       "keys": device.keys(), "device": "Pixel"})
    assert answer.status_code == 201, answer.json
    return answer.json


def test_keys_are_made_on_enable_and_kept_secret(webpush, api_client, client):
    stored = plugin_settings("webpush")
    assert stored["vapid_private_key"].startswith("-----BEGIN") and len(stored["vapid_public_key"]) == 87
    agent = api_client()
    assert agent.get(f"{API}/key").json == {"public_key": stored["vapid_public_key"]}
    admin = api_client("admin")
    shown = admin.get("/api/v1/plugins").json
    assert SECRET_MASK in str(shown) and "BEGIN" not in str(shown)


def test_a_notification_arrives_encrypted_and_signed(webpush, api_client, make_department, make_task, drain_events):
    dept = make_department()
    client = api_client(departments=[dept])
    device = Device()
    made = subscribe(client, webpush, device)
    assert made["endpoint_host"] == "127.0.0.1" and made["device"] == "Pixel"
    task = make_task(client.user, dept, title="Pump")
    notify(client.user, "x.test", "The pump is down", "Hall 3", task=task)
    drain_events()
    assert webpush.problems == []
    assert webpush.messages == [("/push/d1", {"title": "The pump is down", "body": "Hall 3",
                                              "url": task_url(task.id),
                                              "tag": f"workdesk-{Notification.get().id}"})]
    row = PushDelivery.get()
    assert (row.status, row.attempts, row.response_status) == ("sent", 1, 201)
    # Preferences apply as for e-mail: the channel switched off for the kind sends nothing.
    set_preferences(client.user, channels={"x.test": {"webpush": False}})
    notify(client.user, "x.test", "Quiet", "")
    drain_events()
    assert len(webpush.messages) == 1


def test_a_digest_user_gets_one_summary_push(webpush, api_client, make_department, make_task, drain_events):
    dept = make_department()
    client = api_client(departments=[dept])
    subscribe(client, webpush, Device())
    user = client.user
    set_preferences(user, digest="hourly", channels={"x.muted": {"webpush": False}})
    task = make_task(user, dept, title="Fence")
    first = notify(user, "task.assigned", "Fence assigned to you", "Yard", task=task)
    notify(user, "task.commented", "Ann commented on Fence", "Soon")
    notify(user, "x.muted", "Not wanted by push")
    drain_events()
    assert webpush.messages == [] and webpush.problems == []  # held for the digest
    hour = first.created_at.replace(minute=0, second=0, microsecond=0)
    assert send_digests(hour + dt.timedelta(minutes=59)) == 0  # not before the top of the next hour
    assert send_digests(hour + dt.timedelta(hours=1)) == 1
    drain_events()
    digest = Notification.get(Notification.kind == DIGEST_KIND)
    assert webpush.problems == []
    assert webpush.messages == [("/push/d1", {
        # The body lists the items wanted on this channel: the kind switched off for push is left out.
        "title": digest.subject, "body": "Fence assigned to you\nAnn commented on Fence",
        "url": inbox_url(), "tag": f"workdesk-{digest.id}"})]
    assert digest.subject.startswith("3 notifications since")
    row = PushDelivery.get(PushDelivery.notification_id == digest.id)
    assert (row.status, row.attempts, row.response_status) == ("sent", 1, 201)
    # The job runs again (another worker, the next minute): nothing is summarised or sent twice.
    assert send_digests(hour + dt.timedelta(hours=1, minutes=1)) == 0
    drain_events()
    assert len(webpush.messages) == 1


def test_429_with_retry_after_then_sent_410_removes_500_retries_until_dead(webpush, api_client, drain_events):
    client = api_client()
    first, second = Device(), Device()
    subscribe(client, webpush, first, "d1")
    gone = subscribe(client, webpush, second, "d2")
    webpush.answers = [(429, {"Retry-After": "120"}), (410, {})]
    notify(client.user, "x.test", "Hello", "")
    drain_events()
    rows = {r.destination: r for r in PushDelivery.select()}
    limited, removed = rows[str(Subscription.get(Subscription.endpoint.endswith("d1")).id)], rows[str(gone["id"])]
    assert limited.status == "retry" and removed.status == "dead" and "410" in removed.last_error
    assert [s["device"] for s in client.get(f"{API}/subscriptions").json["items"]] == ["Pixel"]
    assert limited.next_attempt_at >= limited.last_attempt_at + dt.timedelta(seconds=120)
    assert deliver_due(limited.last_attempt_at + dt.timedelta(seconds=60)) == 0  # Retry-After is honoured
    assert deliver_due(limited.last_attempt_at + dt.timedelta(seconds=121)) == 1
    assert [m[1]["title"] for m in webpush.messages] == ["Hello"]
    # 500: retried with backoff until max_attempts, then a dead letter.
    webpush.answers = [(500, {})] * 20
    notify(client.user, "x.test", "Again", "")
    drain_events()
    row = PushDelivery.select().order_by(PushDelivery.id.desc()).get()
    now = row.last_attempt_at
    for _ in range(10):
        now += dt.timedelta(days=1)
        deliver_due(now)
    row = PushDelivery.get_by_id(row.id)
    assert row.status == "dead" and row.attempts == 8 and "500" in row.last_error


def test_subscription_refusals(enable_plugin, push_service, api_client):
    enable_plugin("webpush")  # defaults: known push hosts only, no private destinations
    client = api_client()
    device = Device()
    for endpoint, text in ((push_service.endpoint(device), "https"),
                           ("https://127.0.0.1/push/x", "not a push service"),
                           ("https://evil.example.com/push", "not a push service")):
        refused = client.post(f"{API}/subscriptions", json={"endpoint": endpoint, "keys": device.keys()})
        assert refused.status_code == 422 and "endpoint" in refused.json["error"]["fields"], refused.json
        assert text in refused.json["error"]["message"]
    bad = client.post(f"{API}/subscriptions", json={"endpoint": "https://fcm.googleapis.com/fcm/send/x",
                                                    "keys": {"p256dh": "A" * 87, "auth": "B" * 22}})
    assert bad.status_code == 422
    assert client.delete(f"{API}/subscriptions/12345").status_code == 404


def test_someone_elses_device_cannot_be_revoked(webpush, api_client):
    mine, theirs = api_client(), api_client()
    made = subscribe(mine, webpush, Device())
    assert theirs.delete(f"{API}/subscriptions/{made['id']}").status_code == 404
    assert mine.delete(f"{API}/subscriptions/{made['id']}").status_code == 204
    assert mine.get(f"{API}/subscriptions").json["items"] == []


def test_disable_and_enable_keep_keys_and_devices(webpush, api_client):
    from workdesk.registry import set_plugin_enabled
    client = api_client()
    subscribe(client, webpush, Device())
    key = plugin_settings("webpush")["vapid_public_key"]
    set_plugin_enabled("webpush", False)
    assert client.get(f"{API}/subscriptions").status_code == 404
    set_plugin_enabled("webpush", True)
    assert plugin_settings("webpush")["vapid_public_key"] == key
    assert [s["device"] for s in client.get(f"{API}/subscriptions").json["items"]] == ["Pixel"]
