"""Real ``workdesk worker`` processes: one is killed (SIGKILL) while a push is in flight; a new one
sends the pushes still pending, and the push service decrypts each message exactly once."""
from __future__ import annotations

from .conftest import Device

NOTES = 5


def test_a_worker_killed_mid_push_delivers_each_message_once(worker_instance, push_service):
    from tests.notifications.worker_instance import wait_for
    push_service.gate_after = 2
    devices = [Device() for _ in range(NOTES)]
    subscriptions = [{"endpoint": push_service.endpoint(d, f"p{i}"), "keys": d.keys()} for i, d in enumerate(devices)]
    settings = {"allow_private_destinations": True, "push_hosts": ["127.0.0.1"], "timeout_seconds": 30}
    worker_instance.python(f"""
from workdesk.registry import save_plugin_settings
save_plugin_settings("webpush", {settings!r})
result = True
""")
    worker_instance.workdesk("plugins", "enable", "webpush")
    ids = worker_instance.python(f"""
from workdesk.services.users import create_user
from workdesk.notifications import notify
from workdesk.plugins.webpush.services import subscribe
people = [create_user(None, email=f"person{{i}}@example.com", name=f"Person {{i}}", password="password123")
          for i in range({NOTES})]
for person, subscription in zip(people, {subscriptions!r}):
    subscribe(person, subscription)
result = [notify(person, "x.test", f"Message {{i}}").id for i, person in enumerate(people)]
""")
    first = worker_instance.start_worker("first")
    wait_for(push_service.gate_reached.is_set, message="the worker to reach the held push")
    worker_instance.kill(first)
    assert len(push_service.messages) == 2
    push_service.gate_after = None
    push_service.release.set()

    worker_instance.start_worker("second")
    wait_for(lambda: len(push_service.messages) >= NOTES, message=f"{NOTES} pushes", timeout=60)
    wait_for(lambda: worker_instance.query("SELECT count(*) FROM core_outbox WHERE done_at IS NULL")[0][0] == 0,
             message="the outbox to empty")
    titles = sorted(message["title"] for _path, message in push_service.messages)
    assert titles == sorted(f"Message {i}" for i in range(NOTES)) and len(ids) == NOTES  # each exactly once
    assert push_service.problems == []  # every push carried a valid VAPID token
    rows = worker_instance.query("SELECT status, count(*) FROM webpush_delivery GROUP BY status")
    assert rows == [("sent", NOTES)], worker_instance.log("second")
