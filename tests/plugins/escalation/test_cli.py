"""Through the real command line: ``workdesk tick --at`` in a separate process fires a warning, then the breach
and a level, each once however often the instant is replayed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workdesk import Notification, db
from workdesk.plugins.escalation.models import Firing

from .conftest import BOTH_DATABASES

ROOT = Path(__file__).resolve().parents[3]


def tick_at(database_url: str, instance: Path, instant: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("workdesk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workdesk.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update({"WORKDESK_DATABASE_URL": database_url, "WORKDESK_SECRET_KEY": "cli-test-secret-key-long-enough",
                "WORKDESK_QUEUE_URL": f"sqlite:///{instance / 'queue.db'}", "WORKDESK_LOG_LEVEL": "WARNING"})
    if not db.is_closed():
        db.close()  # no connection of ours while the command writes
    return subprocess.run([*command, "--instance", str(instance), "tick", "--at", instant], capture_output=True,
                          text=True, env=env, cwd=str(ROOT), timeout=120)


@BOTH_DATABASES
def test_tick_at_fires_each_step_once(org, make_policy, file_task, workdesk_database, tmp_path):
    make_policy([{"kind": "resolution", "hours": 2}], warn_percent=50,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}])
    task = file_task("2026-03-02T07:00Z", assignee_id=org.agent.id)  # Monday 09:00 Sofia: due 11:00 local
    instance = tmp_path / "cli-instance"
    instance.mkdir()
    for instant in ("2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z",
                    "2026-03-02T09:00:00Z", "2026-03-02T08:30:00Z"):
        ran = tick_at(workdesk_database, instance, instant)
        assert ran.returncode == 0 and "escalation.scan: ran" in ran.stdout, ran.stderr + ran.stdout
    db.connect(reuse_if_open=True)
    assert sorted(f.step for f in Firing.select().where(Firing.task_id == task.id)) == [0, 1, 2]
    assert Notification.select().where((Notification.recipient == org.agent)
                                       & (Notification.kind == "escalation.warning")).count() == 1
    assert Notification.select().where((Notification.recipient == org.helpdesk_head)
                                       & (Notification.kind == "escalation.escalated")).count() == 1
