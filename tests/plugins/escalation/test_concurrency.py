"""Two scans in two OS processes at the same moment: every step fires once and every person gets one message
(SQLite and PostgreSQL). The unique (cycle, step) index decides, not a lock of the job runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from workdesk import Notification, TaskEvent
from workdesk.plugins.escalation.models import Firing

from .conftest import BOTH_DATABASES

SCANNER = Path(__file__).with_name("_scanner.py")
ROOT = Path(__file__).resolve().parents[3]
pytestmark = BOTH_DATABASES


def scan_together(database_url: str, now: str, barrier: Path, count: int = 2) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    names = [f"scanner{n}" for n in range(count)]
    processes = [subprocess.Popen([sys.executable, str(SCANNER), database_url, now, str(barrier), name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
                 for name in names]
    deadline = time.monotonic() + 120
    while not all(Path(f"{barrier}.ready.{name}").exists() for name in names):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), "a scanner did not start"
        time.sleep(0.01)
    barrier.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_scans_at_once_fire_each_step_once(org, make_policy, file_task, workdesk_database, tmp_path):
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=50,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]},
                        {"delay_minutes": 0, "actions": [{"type": "notify", "to": ["parent_head"]}]}])
    tasks = [file_task("2026-03-02T07:00Z", title=f"Outage {n}") for n in range(20)]
    from workdesk import db
    if not db.is_closed():
        db.close()  # no snapshot or lock of ours while the processes write
    results = scan_together(workdesk_database, "2026-03-02T09:00:00+00:00", tmp_path / "go")
    assert sum(r["fired"] for r in results) == 20 * 4  # warning, breach, two levels: once each
    for task in tasks:
        assert sorted(f.step for f in Firing.select().where(Firing.task_id == task.id)) == [0, 1, 2, 3]
        assert TaskEvent.select().where((TaskEvent.task_id == task.id)
                                        & (TaskEvent.kind == "escalation.fired")).count() == 4
    for head in (org.helpdesk_head, org.it_head):
        received = Notification.select().where((Notification.recipient == head)
                                               & (Notification.kind == "escalation.escalated"))
        assert received.count() == 1 and "20" in received.get().subject
