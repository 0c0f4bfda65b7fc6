"""Real ``workdesk worker`` processes: one is killed (SIGKILL) in the middle of an SMTP conversation,
a new one delivers exactly the messages still pending, each exactly once; the digest runs from
``workdesk tick``."""
from __future__ import annotations

NOTES = 6


def configure_email(worker_instance, server) -> None:
    worker_instance.python(f"""
from workdesk.registry import save_plugin_settings
save_plugin_settings("email", {server.settings()!r})
result = True
""")
    worker_instance.workdesk("plugins", "enable", "email")  # refused before the host is set


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(worker_instance, smtp_server):
    from tests.notifications.worker_instance import wait_for
    server = smtp_server("gate", gate_after=2)
    configure_email(worker_instance, server)
    ids = worker_instance.python(f"""
from workdesk.services.users import create_user
from workdesk.notifications import notify
people = [create_user(None, email=f"person{{i}}@example.com", name=f"Person {{i}}", password="password123")
          for i in range({NOTES})]
result = [notify(person, "x.test", f"Message {{i}}").id for i, person in enumerate(people)]
""")

    first = worker_instance.start_worker("first")
    # Two messages are accepted, then the server holds the third one open: kill the worker there.
    wait_for(server.handler.gate_reached.is_set, message="the worker to reach the held message")
    worker_instance.kill(first)
    delivered_before_crash = server.handler.by_notification()
    assert len(delivered_before_crash) == 2
    server.handler.mode = "accept"
    server.handler.release.set()  # the held conversation ends with 451: that message was not kept

    worker_instance.start_worker("second")
    wait_for(lambda: len(server.messages) >= NOTES, message=f"{NOTES} messages", timeout=60)
    wait_for(lambda: worker_instance.query("SELECT count(*) FROM core_outbox WHERE done_at IS NULL")[0][0] == 0,
             message="the outbox to empty")
    assert sorted(server.handler.by_notification()) == sorted(str(i) for i in ids)  # each exactly once
    assert server.handler.by_notification()[:2] == delivered_before_crash
    rows = worker_instance.query("SELECT status, count(*) FROM email_delivery GROUP BY status")
    assert rows == [("sent", NOTES)], worker_instance.log("second")


def test_the_digest_runs_from_workdesk_tick(worker_instance, smtp_server):
    server = smtp_server()
    configure_email(worker_instance, server)
    worker_instance.python("""
import datetime as dt
from workdesk.models import User
from workdesk.notifications import Notification, notify, set_preferences
admin = User.get(User.email == "admin@example.com")
set_preferences(admin, digest="hourly")
for subject in ("Held one", "Held two"):
    note = notify(admin, "x.test", subject)
    Notification.update(created_at=dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.timezone.utc)).where(
        Notification.id == note.id).execute()
result = True
""")
    early = worker_instance.workdesk("tick", "--at", "2026-03-02T10:59:00Z")
    assert "core.notification_digest: ran" in early and server.messages == []
    output = worker_instance.workdesk("tick", "--at", "2026-03-02T11:00:00Z")
    assert "core.notification_digest: ran" in output
    (to, message), = server.messages
    assert to == "admin@example.com" and message["Subject"] == "2 notifications since 3/2/2026, 10:15 AM"
    text = message.get_body(("plain",)).get_content()
    assert "- Held one" in text and "- Held two" in text
