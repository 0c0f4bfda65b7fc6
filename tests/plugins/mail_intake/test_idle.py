"""The watch loop against the real Dovecot: with IMAP IDLE a message appended while it waits is taken in
at once, long before the poll interval; without IDLE it falls back to polling."""
from __future__ import annotations

import threading
import time

from workdesk import Task

from .conftest import mail, requires_dovecot

pytestmark = requires_dovecot


def run_watch(desk, workdesk_app, **options):
    from workdesk.plugins.mail_intake.watch import watch_mailbox
    stop, runs = threading.Event(), []
    thread = threading.Thread(target=watch_mailbox, args=(workdesk_app, "support", stop),
                              kwargs={"on_run": runs.append, **options}, daemon=True)
    thread.start()
    return stop, runs, thread


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_message_appended_during_idle_is_taken_in_without_waiting_for_the_poll(desk, workdesk_app):
    from workdesk.plugins.mail_intake import imap
    client = imap.connect({**desk_mailbox(desk)}, {"allow_private_destinations": True, "timeout_seconds": 10})
    assert imap.supports_idle(client)  # Dovecot offers IDLE
    imap._close(client)

    desk.deliver(mail(desk.requester.email, "Before the watch"))
    stop, runs, thread = run_watch(desk, workdesk_app, poll_seconds=3600, idle_seconds=120)
    try:
        assert wait_for(lambda: runs, 20) and runs[0] == 1
        time.sleep(0.5)  # now waiting in IDLE
        started = time.monotonic()
        desk.deliver(mail(desk.requester.email, "During IDLE"))
        assert wait_for(lambda: Task.select().where(Task.title == "During IDLE").exists(), 30)
        assert time.monotonic() - started < 30  # the poll interval is an hour
        assert len(desk.ledger()) == 2 and Task.select().count() == 2
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()  # stopping ends IDLE promptly


def test_without_idle_the_loop_polls(desk, workdesk_app, monkeypatch):
    from workdesk.plugins.mail_intake import imap
    monkeypatch.setattr(imap, "supports_idle", lambda client: False)  # a server that does not offer it
    stop, runs, thread = run_watch(desk, workdesk_app, poll_seconds=1, idle_seconds=120)
    try:
        assert wait_for(lambda: runs, 20)
        desk.deliver(mail(desk.requester.email, "Polled"))
        assert wait_for(lambda: Task.select().where(Task.title == "Polled").exists(), 15)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def desk_mailbox(desk) -> dict:
    from workdesk.plugins.mail_intake.services import mailbox_named
    return mailbox_named("support")
