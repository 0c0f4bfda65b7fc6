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


CONFIGURE = """
import json, sys
from workdesk.app import init_runtime
from workdesk.config import load_settings
from workdesk.registry import save_plugin_settings, set_plugin_enabled
from workdesk.services.users import create_department
init_runtime(load_settings())
department = create_department(None, name="Front desk")
mailbox = json.loads(sys.argv[1])
save_plugin_settings("mail_intake", {"mailboxes": [{**mailbox, "department_id": department.id}],
                                     "allow_private_destinations": True})
set_plugin_enabled("mail_intake", True)
"""


def test_the_watch_command_takes_mail_in_as_it_arrives_and_stops_on_sigterm(tmp_path, imap_server):
    """`workdesk mail_intake watch` as an operator runs it: a real instance, a real process, Dovecot."""
    import json
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update(WORKDESK_INSTANCE=str(instance), PYTHONPATH=str(root), WORKDESK_PLUGIN_REFRESH_SECONDS="0")
    workdesk = [sys.executable, "-m", "workdesk.cli"]
    subprocess.run([*workdesk, "init", "--admin-email", "boss@example.com", "--admin-password", "correct-horse-1"],
                   env=env, cwd=str(root), check=True, capture_output=True, timeout=120)
    mailbox = {"name": "support", "host": "127.0.0.1", "port": imap_server.port, "security": "none",
               "username": "watched", "password": imap_server.password, "address": "watched@desk.example.com",
               "sender_policy": "anyone"}
    subprocess.run([sys.executable, "-c", CONFIGURE, json.dumps(mailbox)], env=env, cwd=str(root), check=True,
                   capture_output=True, timeout=60)

    def titles() -> list[str]:
        with sqlite3.connect(instance / "workdesk.db") as database:
            return [row[0] for row in database.execute("SELECT title FROM core_task ORDER BY id")]

    imap_server.append("watched", bytes(mail("someone@customer.example", "Waiting already")))
    watcher = subprocess.Popen([*workdesk, "mail_intake", "watch", "--idle-seconds", "120", "--poll-seconds", "3600"],
                               env=env, cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: titles() == ["Waiting already"], 30), watcher.poll()
        time.sleep(1.0)  # in IDLE now
        imap_server.append("watched", bytes(mail("someone@customer.example", "Arrived during IDLE")))
        assert wait_for(lambda: titles() == ["Waiting already", "Arrived during IDLE"], 30)
    finally:
        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert "Watching 1 mailbox(es)" in err and "Stopped" in err
