"""Real ``workdesk worker`` processes: one is killed (SIGKILL) while a webhook POST is in flight, a
new one posts exactly the deliveries still pending, each exactly once."""
from __future__ import annotations

from .conftest import endpoint

NOTES = 6


def test_a_worker_killed_mid_post_loses_nothing_and_posts_nothing_twice(worker_instance, http_receiver):
    from tests.notifications.worker_instance import wait_for
    receiver = http_receiver(gate_after=2)
    settings = {"endpoints": [endpoint(receiver)], "allow_private_destinations": True, "timeout_seconds": 30}
    worker_instance.python(f"""
from workdesk.registry import save_plugin_settings
save_plugin_settings("webhooks", {settings!r})
result = True
""")
    worker_instance.workdesk("plugins", "enable", "webhooks")  # refused before an endpoint is set
    ids = worker_instance.python(f"""
from workdesk.services.users import create_user
from workdesk.notifications import notify
people = [create_user(None, email=f"person{{i}}@example.com", name=f"Person {{i}}", password="password123")
          for i in range({NOTES})]
result = [notify(person, "x.test", f"Message {{i}}").id for i, person in enumerate(people)]
""")

    first = worker_instance.start_worker("first")
    wait_for(receiver.gate_reached.is_set, message="the worker to reach the held request")
    worker_instance.kill(first)
    posted_before_crash = [b["notification"]["id"] for b in receiver.bodies()]
    assert len(posted_before_crash) == 2
    receiver.gate_after = None
    receiver.release.set()  # the held request is dropped unanswered: it did not count

    worker_instance.start_worker("second")
    wait_for(lambda: len(receiver.received) >= NOTES, message=f"{NOTES} posts", timeout=60)
    wait_for(lambda: worker_instance.query("SELECT count(*) FROM core_outbox WHERE done_at IS NULL")[0][0] == 0,
             message="the outbox to empty")
    posted = [b["notification"]["id"] for b in receiver.bodies()]
    assert sorted(posted) == sorted(ids) and posted[:2] == posted_before_crash  # each exactly once
    assert receiver.rejected == []  # every request carried a valid signature
    rows = worker_instance.query("SELECT status, count(*) FROM webhooks_delivery GROUP BY status")
    assert rows == [("sent", NOTES)], worker_instance.log("second")
