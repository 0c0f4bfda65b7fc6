"""The email plugin against real SMTP servers on 127.0.0.1: delivery, bodies, preferences, digest,
refusal, timeouts, retries with backoff, credentials and idempotency."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.jobs import run_due_jobs
from workdesk.models import OutboxDelivery, OutboxEvent
from workdesk.notifications import DIGEST_KIND, Notification, notify, set_preferences
from workdesk.notifications.digest import send_digests
from workdesk.outbox import process
from workdesk.registry import (PluginNotConfigured, get_registry, plugin_settings, save_plugin_settings,
                               set_plugin_enabled)
from workdesk.services import tasks
from workdesk.plugins.email.models import EmailDelivery
from workdesk.plugins.email.services import deliver_due, retry_dead_letters

from .conftest import password_checker


@pytest.fixture
def people(make_department, make_user):
    dept = make_department()
    return dept, make_user("manager", [dept], name="Mia Manager"), make_user("agent", [dept], name="Al Agent")


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


def test_an_assignment_is_mailed_as_text_and_html_with_a_link_to_the_task(smtp_server, enable_plugin, people,
                                                                          make_task, drain_events):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    dept, boss, agent = people
    task = make_task(boss, dept, title="Boiler <leaks> & drips")
    tasks.assign(boss, task.id, agent.id)
    drain_events()

    assert len(server.messages) == 1
    to, message = server.messages[0]
    assert to == agent.email and message["To"] == agent.email and message["From"] == "desk@example.com"
    assert message["Subject"] == f"Assigned to you: #{task.number} Boiler <leaks> & drips"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://desk.example.com/tasks/{task.id}"
    assert "Mia Manager assigned" in text and f"Open the task: {link}" in text
    assert f'<a href="{link}">Open the task</a>' in html
    assert "Boiler &lt;leaks&gt; &amp; drips" in html and "<leaks>" not in html
    row = EmailDelivery.get()
    assert (row.status, row.attempts, row.destination) == ("sent", 1, agent.email)


def test_a_redelivered_event_does_not_send_twice(smtp_server, enable_plugin, make_user, drain_events):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    user = make_user()
    note = notify(user, "x.test", "Once only")
    drain_events()
    event = [e for e in OutboxEvent.select() if e.payload.get("notification_id") == note.id][0]
    # As if the worker died after sending but before recording its handlers as done.
    OutboxDelivery.delete().where(OutboxDelivery.event == event).execute()
    process(OutboxEvent.get_by_id(event.id))
    assert server.handler.by_notification() == [str(note.id)]
    assert EmailDelivery.select().count() == 1


def test_preferences_keep_a_kind_out_of_email_but_in_the_inbox(smtp_server, enable_plugin, make_user, drain_events):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    user = make_user()
    set_preferences(user, channels={"task.commented": {"email": False}})
    notify(user, "task.commented", "Not by mail")
    wanted = notify(user, "task.assigned", "By mail")
    drain_events()
    assert server.handler.by_notification() == [str(wanted.id)]
    assert Notification.select().where(Notification.recipient == user).count() == 2


def test_a_digest_user_gets_one_summary_email(smtp_server, enable_plugin, make_user, make_department, make_task,
                                              drain_events):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    dept = make_department()
    user = make_user("agent", [dept])
    set_preferences(user, digest="hourly")
    task = make_task(user, dept, title="Fence")
    first = notify(user, "task.assigned", "First", task=task)
    notify(user, "task.commented", "Second")
    drain_events()
    assert server.messages == []
    assert send_digests(first.created_at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)) == 1
    drain_events()
    assert len(server.messages) == 1
    _to, message = server.messages[0]
    assert message["Subject"].startswith("2 notifications since")
    text = message.get_body(("plain",)).get_content()
    assert "- First" in text and f"https://desk.example.com/tasks/{task.id}" in text and "- Second" in text
    digest = Notification.get(Notification.kind == DIGEST_KIND)
    assert message["X-Workdesk-Notification"] == str(digest.id)


def test_a_refusing_server_makes_a_dead_letter_that_an_admin_can_retry(smtp_server, enable_plugin, make_user,
                                                                       drain_events):
    refusing, good = smtp_server("refuse"), smtp_server()
    enable_plugin("email", **refusing.settings())
    user = make_user()
    note = notify(user, "x.test", "Refused")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "dead" and row.attempts == 1
    assert "refused the recipient" in row.last_error and "550" in row.last_error
    assert deliver_due(later(7 * 3600)) == 0  # dead letters are not retried on their own

    save_plugin_settings("email", good.settings())
    assert retry_dead_letters([row.id]) == 1
    assert deliver_due(later(1)) == 1
    assert good.handler.by_notification() == [str(note.id)]
    assert EmailDelivery.get_by_id(row.id).status == "sent"


def test_a_busy_server_is_retried_with_exponential_backoff(smtp_server, enable_plugin, make_user, drain_events):
    busy = smtp_server("busy")
    enable_plugin("email", **busy.settings(retry_base_seconds=30))
    user = make_user()
    notify(user, "x.test", "Later")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and row.attempts == 1 and "451" in row.last_error
    first_wait = (row.next_attempt_at - row.last_attempt_at).total_seconds()
    assert first_wait == 30

    assert deliver_due(row.next_attempt_at - dt.timedelta(seconds=1)) == 0  # not yet due
    assert EmailDelivery.get_by_id(row.id).attempts == 1
    deliver_due(row.next_attempt_at)
    row = EmailDelivery.get_by_id(row.id)
    assert row.attempts == 2 and (row.next_attempt_at - row.last_attempt_at).total_seconds() == 60

    busy.handler.mode = "accept"
    assert deliver_due(row.next_attempt_at) == 1
    row = EmailDelivery.get_by_id(row.id)
    assert row.status == "sent" and row.attempts == 3 and len(busy.messages) == 1


def test_a_retried_message_carries_the_same_message_id_for_deduplication(smtp_server, enable_plugin, make_user,
                                                                        drain_events):
    # At least once: the server kept the first copy but its reply was lost, so the message is sent again.
    server = smtp_server("lost_reply")
    enable_plugin("email", **server.settings(retry_base_seconds=10))
    note = notify(make_user(), "x.test", "Twice at most")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and len(server.messages) == 1
    assert deliver_due(row.next_attempt_at) == 1
    assert EmailDelivery.get_by_id(row.id).status == "sent"

    ids = [message["Message-ID"] for _to, message in server.messages]
    assert ids == [f"<delivery-{row.id}.{note.id}@example.com>"] * 2
    assert deliver_due(later(3600)) == 0 and len(server.messages) == 2  # sent: never again


def test_a_server_that_times_out_is_retried_then_given_up(smtp_server, enable_plugin, make_user, drain_events):
    slow = smtp_server("slow", delay=5)
    enable_plugin("email", **slow.settings(timeout_seconds=0.5, max_attempts=2, retry_base_seconds=10))
    user = make_user()
    notify(user, "x.test", "Slow")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and "timed out" in row.last_error.lower()
    deliver_due(row.next_attempt_at)
    row = EmailDelivery.get_by_id(row.id)
    assert row.status == "dead" and row.attempts == 2 and row.next_attempt_at is None


def test_a_closed_port_is_retried(enable_plugin, make_user, drain_events):
    from .conftest import free_port
    enable_plugin("email", host="127.0.0.1", port=free_port(), timeout_seconds=1)
    notify(make_user(), "x.test", "Nobody listens")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and row.last_error.startswith("ConnectionRefusedError")


def test_credentials_are_used_and_a_wrong_password_is_retried(smtp_server, enable_plugin, make_user, drain_events):
    server = smtp_server(authenticator=password_checker("desk", "s3cret-pass"))
    enable_plugin("email", **server.settings(username="desk", password="wrong"))
    user = make_user()
    notify(user, "x.test", "Authenticated")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and "535" in row.last_error and server.messages == []
    save_plugin_settings("email", server.settings(username="desk", password="s3cret-pass"))
    assert deliver_due(row.next_attempt_at) == 1 and len(server.messages) == 1


def test_the_retry_job_runs_from_the_periodic_jobs(smtp_server, enable_plugin, make_user, drain_events):
    busy = smtp_server("busy")
    enable_plugin("email", **busy.settings())
    notify(make_user(), "x.test", "Via the job")
    drain_events()
    busy.handler.mode = "accept"
    results = run_due_jobs(now=EmailDelivery.get().next_attempt_at)
    assert results["email.retry_deliveries"] == "ran" and len(busy.messages) == 1


def test_a_disabled_plugin_sends_nothing(smtp_server, enable_plugin, make_user, drain_events):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    from workdesk.registry import set_plugin_enabled
    set_plugin_enabled("email", False)
    notify(make_user(), "x.test", "Nobody hears")
    drain_events()
    assert server.messages == [] and EmailDelivery.select().count() == 0


def test_settings_are_validated(enable_plugin):
    enable_plugin("email", host="mail.example.com")
    import marshmallow
    with pytest.raises(marshmallow.ValidationError) as exc:
        save_plugin_settings("email", {"port": 70000, "security": "tls", "from_address": "nobody"})
    assert set(exc.value.messages) == {"port", "security", "from_address"}


def test_email_cannot_be_enabled_without_a_host(workdesk_app):
    import marshmallow
    with pytest.raises(PluginNotConfigured) as refused:
        set_plugin_enabled("email", True)
    assert refused.value.missing == ["host"]
    assert str(refused.value).startswith("Email delivery of notifications cannot be enabled before these settings "
                                         "are filled in: host.")
    assert not get_registry().is_enabled("email")
    save_plugin_settings("email", {"host": "mail.example.com"})
    set_plugin_enabled("email", True)
    assert get_registry().is_enabled("email")
    with pytest.raises(marshmallow.ValidationError) as cleared:  # nor can an enabled one lose its host
        save_plugin_settings("email", {"host": ""})
    assert cleared.value.messages == {"host": ["Required while the plugin is enabled."]}
    assert plugin_settings("email")["host"] == "mail.example.com"


def test_admin_lists_the_delivery_log_and_retries_a_dead_letter(smtp_server, enable_plugin, make_user, drain_events,
                                                                client, login):
    import re
    refusing = smtp_server("refuse")
    enable_plugin("email", **refusing.settings())
    notify(make_user(), "x.test", "Bounced <b>subject</b>")
    drain_events()
    row = EmailDelivery.get()
    admin, agent = make_user("admin"), make_user("agent")

    login(client, agent)
    assert client.get("/admin/email/dead-letters/").status_code == 403
    login(client, admin)
    log = client.get("/admin/email/deliveries/")
    assert log.status_code == 200 and "Bounced &lt;b&gt;subject&lt;/b&gt;" in log.get_data(as_text=True)
    page = client.get("/admin/email/dead-letters/").get_data(as_text=True)
    assert "refused the recipient" in page
    assert client.post(f"/admin/email/dead-letters/retry/{row.id}").status_code == 400  # no CSRF token
    token = re.search(rf'action="/admin/email/dead-letters/retry/{row.id}".*?name="csrf_token" value="([^"]+)"',
                      page, re.S).group(1)
    answer = client.post(f"/admin/email/dead-letters/retry/{row.id}", data={"csrf_token": token},
                         follow_redirects=True)
    assert "1 delivery will be retried" in answer.get_data(as_text=True)
    assert EmailDelivery.get_by_id(row.id).status == "retry"


def test_failing_deliveries_count_as_failed_work_in_the_health_panel(smtp_server, enable_plugin, make_user,
                                                                    drain_events, client, login):
    from workdesk import health
    from workdesk.auth import issue_token
    busy = smtp_server("busy")  # 451 to everything: each delivery waits for a retry, then gives up
    enable_plugin("email", **busy.settings(max_attempts=2))
    notify(make_user(), "x.test", "First")
    drain_events()
    deliver_due(later(3600))  # the second and last attempt: a dead letter
    notify(make_user(), "x.test", "Second")
    drain_events()
    failed = health.failed_work()
    assert failed["deliveries"] == []  # the outbox handed both notifications to the plugin just fine
    assert [(n["plugin"], n["retrying"], n["dead"]) for n in failed["notifications"]] == [("email", 1, 1)]
    assert "451" in failed["notifications"][0]["last_error"] and failed["total"] == 2

    admin = make_user("admin")
    login(client, admin)
    panel = client.get("/admin/health/").get_data(as_text=True)
    assert '<div class="wd-number wd-failed-total">2</div>' in panel
    assert "/admin/email/dead-letters/" in panel and "/admin/email/deliveries/" in panel
    assert "Failed work: 2" in client.get("/admin/").get_data(as_text=True)
    token = issue_token(admin, "monitoring")
    body = client.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["failed"]["total"] == 2
    assert body["failed"]["notifications"][0]["plugin"] == "email" and body["failed"]["notifications"][0]["dead"] == 1
