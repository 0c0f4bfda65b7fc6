"""Through the real command line: ``workdesk init``, ``plugins enable`` and ``tick --at`` in separate processes."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .conftest import at

ROOT = Path(__file__).resolve().parents[3]


def workdesk(instance: Path, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("workdesk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workdesk.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env["WORKDESK_INSTANCE"] = str(instance)
    return subprocess.run([*command, "--instance", str(instance), *args], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=120)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh instance made by ``workdesk init`` with the plugin enabled; connected in this process too."""
    for name in list(os.environ):
        if name.startswith("WORKDESK_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    created = workdesk(path, "init", "--admin-email", "ops@example.com", "--admin-password", "long-enough-pw")
    assert created.returncode == 0, created.stderr
    enabled = workdesk(path, "plugins", "enable", "recurring")
    assert enabled.returncode == 0 and "recurring enabled" in enabled.stdout, enabled.stderr
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    from workdesk.db import db
    from workdesk.registry import set_registry
    init_runtime(load_settings(path))
    yield path
    if not db.is_closed():
        db.close()
    set_registry(None)


def occurrences_local(rule_id: int) -> list[str]:
    from workdesk.db import db
    from workdesk.plugins.recurring.models import Occurrence
    db.connect(reuse_if_open=True)
    rows = Occurrence.select().where(Occurrence.rule_id == rule_id).order_by(Occurrence.occurrence_at)
    times = [row.effective_at.astimezone(ZoneInfo("Europe/Sofia")).strftime("%Y-%m-%d %H:%M") for row in rows]
    db.close()  # the CLI processes write next; keep no connection (or snapshot) open meanwhile
    return times


def test_tick_at_drives_a_rule_across_daylight_saving_changes(instance):
    from workdesk.db import db
    from workdesk.services.users import create_department
    from workdesk.plugins.recurring import services
    department = create_department(None, name="Maintenance")
    rule = services.create_rule(None, {"title": "Boiler check", "department_id": department.id,
                                       "timezone": "Europe/Sofia", "dtstart": "2026-03-23T09:00",
                                       "rrule": "FREQ=WEEKLY;BYDAY=MO", "catch_up": "latest"},
                                now=at("2026-03-20T00:00Z"))
    db.close()

    first = workdesk(instance, "tick", "--at", "2026-03-23T09:00:00+02:00")
    assert first.returncode == 0, first.stderr
    assert "recurring.materialise: ran" in first.stdout
    assert occurrences_local(rule.id) == ["2026-03-23 09:00"]
    # After the spring change 09:00 local is 06:00 UTC: a minute before, nothing; at 06:00 UTC, the task.
    workdesk(instance, "tick", "--at", "2026-03-30T05:59:00Z")
    assert occurrences_local(rule.id) == ["2026-03-23 09:00"]
    workdesk(instance, "tick", "--at", "2026-03-30T06:00:00Z")
    assert occurrences_local(rule.id) == ["2026-03-23 09:00", "2026-03-30 09:00"]
    # Months later, after the autumn change (the worker was off meanwhile: only the latest is created).
    late = workdesk(instance, "tick", "--at", "2026-10-26T09:00:00+02:00")
    assert late.returncode == 0, late.stderr
    assert occurrences_local(rule.id) == ["2026-03-23 09:00", "2026-03-30 09:00", "2026-10-26 09:00"]
    again = workdesk(instance, "tick", "--at", "2026-10-26T09:00:00+02:00")  # the same instant twice: no duplicate
    assert again.returncode == 0
    assert len(occurrences_local(rule.id)) == 3


def test_a_replay_in_the_far_future_does_not_stop_the_live_schedule(instance):
    replay = workdesk(instance, "tick", "--at", "2099-01-01T00:00:00Z")
    assert replay.returncode == 0 and "recurring.materialise: ran" in replay.stdout, replay.stderr
    from workdesk.db import db, utcnow
    from workdesk.jobs import run_due_jobs
    from workdesk.models import JobRun
    from workdesk.plugins.recurring import services
    from workdesk.services.users import create_department
    now = utcnow()
    department = create_department(None, name="Front desk")
    rule = services.create_rule(None, {"title": "Open the doors", "department_id": department.id, "timezone": "UTC",
                                       "dtstart": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                                       "rrule": "FREQ=DAILY"}, now=now - dt.timedelta(minutes=10))
    run = JobRun.get_by_id("recurring.materialise")
    assert run.last_replay_at == at("2099-01-01T00:00Z") and run.last_completed_at is None
    # What a worker runs each minute: not forced, on the real clock.
    assert run_due_jobs()["recurring.materialise"] == "ran"
    assert len(occurrences_local(rule.id)) == 1
    db.connect(reuse_if_open=True)
    assert run_due_jobs(force=True)["recurring.materialise"] == "ran"  # again at once: nothing twice
    assert len(occurrences_local(rule.id)) == 1
