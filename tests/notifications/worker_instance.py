"""A real Workdesk instance in a temporary folder, driven through the ``workdesk`` command and Python
subprocesses, for tests that kill workers (imported by the delivery plugins' crash tests)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PRELUDE = """
import json
from workdesk.app import init_runtime
from workdesk.config import load_settings
init_runtime(load_settings())
from workdesk.db import db
db.connect(reuse_if_open=True)
"""


class Instance:
    """``workdesk init`` in ``path`` with short outbox leases and polls, plus helpers to act in it."""

    def __init__(self, path: Path, lease_seconds: int = 2, poll_seconds: float = 0.2):
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
        self.env.update({"WORKDESK_INSTANCE": str(path), "WORKDESK_OUTBOX_LEASE_SECONDS": str(lease_seconds),
                         "WORKDESK_OUTBOX_POLL_SECONDS": str(poll_seconds), "WORKDESK_JOB_LEASE_SECONDS": "5",
                         "WORKDESK_BASE_URL": "https://desk.example.com", "WORKDESK_LOG_LEVEL": "WARNING",
                         "PYTHONUNBUFFERED": "1"})
        self.workers: list[subprocess.Popen] = []

    def workdesk(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "workdesk"), *args], env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"workdesk {' '.join(args)} failed: {done.stdout}\n{done.stderr}"
        return done.stdout

    def init(self) -> "Instance":
        self.workdesk("init", "--admin-email", "admin@example.com", "--admin-password", "admin-pass-123")
        return self

    def python(self, code: str):
        """Run ``code`` inside the instance (after the runtime is set up); it sets ``result`` to return JSON."""
        script = PRELUDE + textwrap.dedent(code) + "\nprint(json.dumps(result))\n"
        done = subprocess.run([sys.executable, "-c", script], env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"instance script failed:\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.path / "workdesk.db", timeout=10) as conn:
            return conn.execute(sql, params).fetchall()

    def start_worker(self, name: str) -> subprocess.Popen:
        log = open(self.path / f"{name}.log", "w")
        worker = subprocess.Popen([str(BIN / "workdesk"), "worker", "--threads", "2"], env=self.env,
                                  stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.path / f"{name}.log").read_text()


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
