"""The webhooks plugin against a real HTTP receiver on 127.0.0.1 that verifies signatures: payload
formats, private-network refusal, failures, retries with backoff, dead letters and idempotency."""
from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
import time

import marshmallow
import pytest

from workdesk.models import OutboxDelivery, OutboxEvent
from workdesk.notifications import DIGEST_KIND, Notification, notify, set_preferences
from workdesk.notifications.digest import send_digests
from workdesk.outbox import process
from workdesk.registry import (PluginNotConfigured, get_registry, plugin_settings, save_plugin_settings,
                               set_plugin_enabled)
from workdesk.secret_settings import SECRET_MASK
from workdesk.services import tasks
from workdesk.plugins.webhooks.models import WebhookDelivery
from workdesk.plugins.webhooks.services import deliver_due, retry_dead_letters, sign, verify_signature

from .conftest import endpoint


def allow(receiver_endpoints, **extra) -> dict:
    """Settings reaching the local receiver: loopback must be allowed explicitly."""
    return {"endpoints": receiver_endpoints, "allow_private_destinations": True, "timeout_seconds": 2, **extra}


def test_raw_event_json_is_signed_and_verified_by_the_receiver(http_receiver, enable_plugin, make_department,
                                                               make_user, make_task, drain_events):
    receiver = http_receiver()
    enable_plugin("webhooks", **allow([endpoint(receiver)]))
    dept = make_department()
    boss, agent = make_user("manager", [dept]), make_user("agent", [dept], name="Al Agent")
    task = make_task(boss, dept, title="Replace the pump")
    tasks.assign(boss, task.id, agent.id)
    drain_events()

    assert receiver.rejected == [] and len(receiver.received) == 1
    path, headers, body = receiver.received[0]
    assert path == "/hooks/workdesk?team=ops"
    note = Notification.get(Notification.recipient == agent)
    assert headers["X-Workdesk-Event"] == "notification.created"
    assert headers["X-Workdesk-Delivery"] == f"{note.id}:ops"
    assert headers["Content-Type"] == "application/json"
    assert body["event"] == "notification.created"
    assert body["notification"]["id"] == note.id and body["notification"]["kind"] == "task.assigned"
    assert body["notification"]["task"] == {"id": task.id, "number": task.number, "title": "Replace the pump",
                                            "status": "new", "url": f"https://desk.example.com/tasks/{task.id}"}
    assert body["recipient"] == {"id": agent.id, "name": "Al Agent", "email": agent.email}
    row = WebhookDelivery.get()
    assert (row.status, row.attempts, row.response_status, row.destination) == ("sent", 1, 200, "ops")


def test_slack_and_mattermost_payloads(http_receiver, enable_plugin, make_department, make_user, make_task,
                                       drain_events):
    slack, mattermost = http_receiver(), http_receiver()
    enable_plugin("webhooks", **allow([endpoint(slack, "slack", format="slack"),
                                       endpoint(mattermost, "mm", format="mattermost")]))
    dept = make_department()
    user = make_user("agent", [dept])
    task = make_task(user, dept, title="A <b> & [c]")
    notify(user, "x.test", "Check A <b> & [c]", "Details *here*", task=task)
    drain_events()
    link = f"https://desk.example.com/tasks/{task.id}"
    assert slack.bodies() == [{"username": "Workdesk",
                               "text": f"*Check A &lt;b&gt; &amp; [c]*\nDetails *here*\n<{link}|Open the task>"}]
    assert mattermost.bodies() == [{"username": "Workdesk",
                                    "text": f"**Check A \\<b\\> & \\[c\\]**\nDetails \\*here\\*\n[Open the task]({link})"}]


def test_mattermost_messages_ping_nobody_from_user_text(http_receiver, enable_plugin, make_department, make_user,
                                                        make_task, drain_events):
    """A task title, a person's name and a comment saying @channel, @all, @here (any case) or a user's
    @name reach Mattermost with a zero-width joiner after the "@", which its mention parser does not
    read as a mention; e-mail addresses stay intact and Slack keeps its own escaping."""
    mattermost, slack = http_receiver(), http_receiver()
    enable_plugin("webhooks", **allow([endpoint(mattermost, "mm", format="mattermost"),
                                       endpoint(slack, "slack", format="slack")]))
    dept = make_department()
    boss = make_user("manager", [dept], name="@here Boss")
    agent = make_user("agent", [dept])
    task = make_task(boss, dept, title="@channel printer (@ALL floors)")
    tasks.assign(boss, task.id, agent.id)
    tasks.add_comment(boss, task.id, "@Here and @everyone: mail bob@example.com, ask @@all or x_@channel")
    drain_events()

    texts = [body["text"] for body in mattermost.bodies()]
    assert len(texts) == 2
    zwj = "\u200d"
    assert texts[0] == (f"**Assigned to you: \\#{task.number} @{zwj}channel printer \\(@{zwj}ALL floors\\)**\n"
                        f"@{zwj}here Boss assigned \\#{task.number} @{zwj}channel printer \\(@{zwj}ALL floors\\) to you.\n"
                        f"[Open the task](https://desk.example.com/tasks/{task.id})")
    assert (f"@{zwj}Here and @{zwj}everyone: mail bob@example.com, ask @{zwj}@{zwj}all or x\\_@{zwj}channel"
            in texts[1].splitlines())
    # What Mattermost's server does to find mentions: split into words at anything but letters,
    # digits and . - _ : @, then look for words starting with "@".
    for text in texts:
        words = re.split(r"[^\w.:@-]+", text)
        assert [w for w in words if w.startswith("@") and len(w) > 1] == []
    slack_texts = [body["text"] for body in slack.bodies()]
    assert slack_texts[0].startswith(f"*Assigned to you: #{task.number} @channel printer (@ALL floors)*")


def test_loopback_destinations_are_refused_unless_allowed(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver()
    enable_plugin("webhooks", endpoints=[endpoint(receiver)])
    note = notify(make_user(), "x.test", "Should not leave")
    drain_events()
    row = WebhookDelivery.get()
    assert row.status == "dead" and row.attempts == 1
    assert row.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address")
    assert "allow_private_destinations" in row.last_error
    assert receiver.received == [] and receiver.rejected == []

    save_plugin_settings("webhooks", allow([endpoint(receiver)]))
    retry_dead_letters([row.id])
    assert deliver_due(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)) == 1
    assert [b["notification"]["id"] for b in receiver.bodies()] == [note.id]


@pytest.mark.parametrize("url, address, reason", [
    ("http://[2002:7f00:1::]:8080/hook", "2002:7f00:1::", "loopback (6to4 127.0.0.1)"),
    ("http://[fec0::1]/hook", "fec0::1", "site-local"),
    ("http://[64:ff9b::a9fe:a9fe]/latest", "64:ff9b::a9fe:a9fe", "link-local (NAT64 169.254.169.254)"),
])
def test_private_addresses_written_in_ipv6_are_refused_too(url, address, reason, enable_plugin, make_user,
                                                           drain_events):
    """Through the core's guard (workdesk.outbound): a dead letter at once, naming the address and the setting."""
    enable_plugin("webhooks", endpoints=[{"name": "ops", "url": url, "secret": "receiver-shared-secret-123"}])
    notify(make_user(), "x.test", "Should not leave")
    drain_events()
    row = WebhookDelivery.get()
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error.startswith(f"refused: {address} resolves to {address}, a {reason} address")
    assert row.last_error.endswith("allow_private_destinations in the webhooks settings")


def test_server_errors_are_retried_with_exponential_backoff(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver(status=500)
    enable_plugin("webhooks", **allow([endpoint(receiver)], retry_base_seconds=20))
    note = notify(make_user(), "x.test", "Eventually")
    drain_events()
    row = WebhookDelivery.get()
    assert row.status == "retry" and row.last_error == "DeliveryFailed: the receiver answered 500"
    assert (row.next_attempt_at - row.last_attempt_at).total_seconds() == 20
    assert deliver_due(row.next_attempt_at - dt.timedelta(seconds=1)) == 0
    deliver_due(row.next_attempt_at)
    row = WebhookDelivery.get_by_id(row.id)
    assert row.attempts == 2 and (row.next_attempt_at - row.last_attempt_at).total_seconds() == 40
    receiver.status = 200
    assert deliver_due(row.next_attempt_at) == 1
    assert [b["notification"]["id"] for b in receiver.bodies()] == [note.id]
    assert WebhookDelivery.get_by_id(row.id).status == "sent"


def test_a_client_error_is_a_dead_letter_at_once(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver(status=404)
    enable_plugin("webhooks", **allow([endpoint(receiver)]))
    notify(make_user(), "x.test", "Wrong URL")
    drain_events()
    row = WebhookDelivery.get()
    assert row.status == "dead" and row.last_error == "the receiver answered 404; not retried"


def test_a_wrong_secret_is_refused_by_the_receiver(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver()
    enable_plugin("webhooks", **allow([endpoint(receiver, secret="not-the-receivers-secret")]))
    notify(make_user(), "x.test", "Forged?")
    drain_events()
    assert receiver.received == [] and len(receiver.rejected) == 1
    assert WebhookDelivery.get().last_error == "the receiver answered 401; not retried"


def test_an_unresponsive_receiver_times_out_and_is_retried(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver(gate_after=0)
    enable_plugin("webhooks", **allow([endpoint(receiver)], timeout_seconds=0.5))
    notify(make_user(), "x.test", "Hello?")
    drain_events()
    row = WebhookDelivery.get()
    assert row.status == "retry" and "timed out" in row.last_error


def test_endpoints_take_only_their_kinds(http_receiver, enable_plugin, make_user, drain_events):
    everything, mentions = http_receiver(), http_receiver()
    enable_plugin("webhooks", **allow([endpoint(everything, "all"),
                                       endpoint(mentions, "mentions", kinds=["task.mentioned"])]))
    user = make_user()
    notify(user, "task.assigned", "Assigned")
    notify(user, "task.mentioned", "Mentioned")
    drain_events()
    assert [b["notification"]["subject"] for b in everything.bodies()] == ["Assigned", "Mentioned"]
    assert [b["notification"]["subject"] for b in mentions.bodies()] == ["Mentioned"]


def test_a_redelivered_event_posts_nothing_twice(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver()
    enable_plugin("webhooks", **allow([endpoint(receiver)]))
    note = notify(make_user(), "x.test", "Once")
    drain_events()
    event = [e for e in OutboxEvent.select() if e.payload.get("notification_id") == note.id][0]
    OutboxDelivery.delete().where(OutboxDelivery.event == event).execute()
    process(OutboxEvent.get_by_id(event.id))
    assert len(receiver.received) == 1 and WebhookDelivery.select().count() == 1


def test_preferences_and_digest_apply_to_webhooks(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver()
    enable_plugin("webhooks", **allow([endpoint(receiver, format="slack")]))
    quiet, muted = make_user(), make_user()
    set_preferences(quiet, digest="hourly")
    set_preferences(muted, channels={"task.assigned": {"webhooks": False}})
    first = notify(quiet, "task.assigned", "One")
    notify(quiet, "task.assigned", "Two")
    notify(muted, "task.assigned", "Muted")
    drain_events()
    assert receiver.received == []
    send_digests(first.created_at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1))
    drain_events()
    (body,) = receiver.bodies()
    assert body["text"].startswith("*2 notifications since") and "• One\n• Two" in body["text"]
    assert WebhookDelivery.get().notification_id == Notification.get(Notification.kind == DIGEST_KIND).id


def test_signature_helper_rejects_tampering_and_replays():
    body = b'{"event":"notification.created"}'
    now = int(time.time())
    signature = sign("s" * 16, now, body)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", signature)
    assert verify_signature("s" * 16, str(now), body, signature)
    assert not verify_signature("s" * 16, str(now), body + b" ", signature)
    assert not verify_signature("t" * 16, str(now), body, signature)
    assert not verify_signature("s" * 16, str(now - 301), body, sign("s" * 16, now - 301, body))
    assert not verify_signature("s" * 16, "yesterday", body, signature)


def test_webhooks_cannot_be_enabled_without_an_endpoint(workdesk_app):
    with pytest.raises(PluginNotConfigured, match="cannot be enabled before these settings are filled in: endpoints"):
        set_plugin_enabled("webhooks", True)
    assert not get_registry().is_enabled("webhooks")


def test_settings_are_validated(workdesk_app):
    with pytest.raises(marshmallow.ValidationError) as exc:
        save_plugin_settings("webhooks", {"endpoints": [
            {"name": "a", "url": "ftp://example.com", "secret": "short", "format": "teams"},
            {"name": "a", "url": "https://example.com/x", "secret": "s" * 16}]})
    assert set(exc.value.messages["endpoints"][0]) == {"url", "secret", "format"}
    with pytest.raises(marshmallow.ValidationError, match="Endpoint names must be unique: a"):
        save_plugin_settings("webhooks", {"endpoints": [
            {"name": "a", "url": "https://example.com/x", "secret": "s" * 16},
            {"name": "a", "url": "https://example.com/y", "secret": "s" * 16}]})


def test_admin_dead_letters_list_and_retry(http_receiver, enable_plugin, make_user, drain_events, client, login):
    receiver = http_receiver()
    enable_plugin("webhooks", endpoints=[endpoint(receiver)])  # loopback not allowed: refused
    notify(make_user(), "x.test", "Refused")
    drain_events()
    row = WebhookDelivery.get()
    login(client, make_user("admin"))
    page = client.get("/admin/webhooks/dead-letters/").get_data(as_text=True)
    assert "a loopback address" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/admin/webhooks/dead-letters/retry/{row.id}", data={"csrf_token": token})
    assert WebhookDelivery.get_by_id(row.id).status == "retry"


def test_endpoint_secrets_are_write_only(http_receiver, enable_plugin, make_user, drain_events, api_client, client,
                                         login):
    """Each endpoint's secret reads as the mask in the API and the admin form; sending the mask back
    keeps it (matched by the endpoint's name, so reordering is safe); the receiver still verifies."""
    first, second = http_receiver(), http_receiver(secret="second-receiver-secret")
    enable_plugin("webhooks", **allow([endpoint(first, "first"), endpoint(second, "second")]))
    api = api_client("admin")

    listed = api.get("/api/v1/plugins").get_data(as_text=True)
    assert first.secret not in listed and second.secret not in listed
    shown = next(p for p in json.loads(listed)["items"] if p["name"] == "webhooks")["settings"]
    assert [e["secret"] for e in shown["endpoints"]] == [SECRET_MASK, SECRET_MASK]

    reordered = {**shown, "endpoints": list(reversed(shown["endpoints"]))}
    response = api.patch("/api/v1/plugins/webhooks", json={"settings": reordered})
    assert response.status_code == 200 and first.secret not in response.get_data(as_text=True)
    stored = {e["name"]: e["secret"] for e in plugin_settings("webhooks")["endpoints"]}
    assert stored == {"first": first.secret, "second": second.secret}

    # A new endpoint cannot borrow a secret by sending the mask: its secret must be given.
    third = {"name": "third", "url": first.url, "secret": SECRET_MASK}
    refused = api.patch("/api/v1/plugins/webhooks", json={"settings": {**shown, "endpoints": [*shown["endpoints"], third]}})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"settings.endpoints.2.secret": ["Missing data for required field."]}

    login(client, make_user("admin"))
    html = client.get("/admin/plugins/webhooks/settings").get_data(as_text=True)
    assert first.secret not in html and second.secret not in html and SECRET_MASK in html
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    textarea = re.search(r'<textarea[^>]*name="endpoints"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    saved = client.post("/admin/plugins/webhooks/settings", data={
        "csrf_token": token, "endpoints": html_lib.unescape(textarea), "allow_private_destinations": "y",
        "timeout_seconds": "2", "max_attempts": "8", "retry_base_seconds": "30"}, follow_redirects=True)
    assert "Settings of" in saved.get_data(as_text=True) and first.secret not in saved.get_data(as_text=True)
    stored = {e["name"]: e["secret"] for e in plugin_settings("webhooks")["endpoints"]}
    assert stored == {"first": first.secret, "second": second.secret}

    # Both receivers verify the signature with their own secret.
    notify(make_user(), "x.test", "Signed with the kept secrets")
    drain_events()
    assert first.rejected == [] and second.rejected == []
    assert len(first.received) == 1 and len(second.received) == 1
