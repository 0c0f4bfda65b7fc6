"""Exactly once with real worker processes: one SIGKILLed in the middle of a message, two reading one
mailbox at the same time (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workdesk import Task

from .conftest import NOW, mail, requires_dovecot

pytestmark = requires_dovecot
BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
WORKER = Path(__file__).with_name("_worker.py")


def start_worker(config: dict, *extra: str) -> subprocess.Popen:
    from workdesk import db
    if not db.is_closed():
        db.close()  # the workers write; this process must not hold SQLite's lock meanwhile
    return subprocess.Popen([sys.executable, str(WORKER), json.dumps(config), NOW.isoformat(), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@BOTH_DATABASES
def test_a_worker_killed_mid_message_loses_nothing_and_files_once(desk, workdesk_config, tmp_path):
    message = mail(desk.requester.email, "Server room too hot", "32 °C and rising")
    message.add_attachment(b"temperature log\n", maintype="text", subtype="plain", filename="log.txt")
    desk.deliver(message)
    marker = tmp_path / "inside"
    worker = start_worker(workdesk_config, str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker never reached the transaction"
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()

    assert Task.select().count() == 0 and desk.ledger() == []  # nothing committed, nothing half-written
    assert desk.run() == {"support": 1}  # the restarted worker reads the message again
    (row,) = desk.ledger()
    assert row.status == "accepted" and Task.select().count() == 1
    assert Task.get_by_id(row.task_id).title == "Server room too hot"


@BOTH_DATABASES
def test_two_workers_on_one_mailbox_file_each_message_once(desk, workdesk_config):
    for n in range(6):
        desk.deliver(mail(desk.requester.email, f"Request {n}"))
    workers = [start_worker(workdesk_config) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    assert sorted(t.title for t in Task.select()) == [f"Request {n}" for n in range(6)]
    assert [row.status for row in desk.ledger()] == ["accepted"] * 6
