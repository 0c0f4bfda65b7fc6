"""Through the real command line: ``workdesk init``, ``plugins enable duty_roster`` and ``tick --at`` in
separate processes drive reminders and hand-overs across both daylight-saving changes (Europe/Sofia), and
a weekday rotation's Friday-to-Monday hand-over over the spring change; on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def workdesk(instance: Path, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("workdesk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workdesk.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_") or k == "WORKDESK_DATABASE_URL"}
    env["WORKDESK_INSTANCE"] = str(instance)
    return subprocess.run([*command, "--instance", str(instance), *args], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=120)


pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def instance(tmp_path, monkeypatch, workdesk_database):
    for name in list(os.environ):
        if name.startswith("WORKDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WORKDESK_DATABASE_URL", workdesk_database)  # read by the CLI processes and by this one
    path = tmp_path / "instance"
    created = workdesk(path, "init", "--admin-email", "ops@example.com", "--admin-password", "long-enough-pw")
    assert created.returncode == 0, created.stderr
    enabled = workdesk(path, "plugins", "enable", "duty_roster")
    assert enabled.returncode == 0 and "duty_roster enabled" in enabled.stdout, enabled.stderr
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    from workdesk.db import db
    from workdesk.registry import set_registry
    init_runtime(load_settings(path))
    yield path
    if not db.is_closed():
        db.close()
    set_registry(None)


def read(query):
    from workdesk.db import db
    db.connect(reuse_if_open=True)
    rows = list(query())
    db.close()  # the CLI processes write next; keep no connection (or snapshot) open meanwhile
    return rows


def test_tick_at_drives_reminders_and_hand_overs_across_daylight_saving(instance):
    from workdesk import Notification
    from workdesk.db import db
    from workdesk.plugins.duty_roster import services
    from workdesk.plugins.duty_roster.models import Handover
    from workdesk.services.users import create_department, create_user

    department = create_department(None, name="Night desk")
    head = create_user(None, email="head@example.com", name="Hana Head", password="long-enough-pw", role="manager",
                       department_ids=[department.id])
    department.head = head
    department.save()
    ana, boris = (create_user(None, email=f"{n.lower()}@example.com", name=n, password="long-enough-pw", role="agent",
                              department_ids=[department.id]) for n in ("Ana", "Boris"))
    services.create_rotation(None, {"department_id": department.id, "name": "Desk", "member_ids": [ana.id, boris.id],
                                    "shift_unit": "weeks", "shift_length": 1, "handoff_time": "09:00",
                                    "handoff_weekday": 1, "timezone": "Europe/Sofia", "start_date": "2026-03-02"})
    db.close()

    def subjects(user, kind):
        return [n.subject for n in read(lambda: Notification.select().where(
            (Notification.recipient == user.id) & (Notification.kind == kind)).order_by(Notification.id))]

    # 30 March, after the spring change: 09:00 in Sofia is 06:00 UTC. Ana (shift 4) takes over from Boris.
    reminded = workdesk(instance, "tick", "--at", "2026-03-30T05:05:00Z")
    assert reminded.returncode == 0, reminded.stderr
    assert "duty_roster.reminders: ran" in reminded.stdout
    assert subjects(ana, "duty_roster.reminder") == ["Your duty (Desk) begins at 3/30/2026, 6:00 AM"]
    workdesk(instance, "tick", "--at", "2026-03-30T05:59:00Z")
    assert read(lambda: Handover.select().where(Handover.shift_end > "2026-03-29")) == []
    workdesk(instance, "tick", "--at", "2026-03-30T06:05:00Z")
    [opened] = read(lambda: Handover.select().where(Handover.shift_end > "2026-03-29"))
    assert (opened.outgoing_id, opened.incoming_id) == (boris.id, ana.id)
    assert (opened.shift_end.isoformat(), opened.shift_end - opened.shift_start) == (
        "2026-03-30T06:00:00+00:00", dt.timedelta(hours=167))  # an hour shorter
    workdesk(instance, "tick", "--at", "2026-03-30T07:00:00Z")  # an hour later, not handed over: flagged
    assert subjects(head, "duty_roster.handover_late") == [
        "Boris has not handed over the shift that ended 3/30/2026, 6:00 AM in Night desk"]  # the reader's zone: UTC

    # 26 October, after the autumn change: 09:00 in Sofia is 07:00 UTC again; the shift was 169 hours.
    workdesk(instance, "tick", "--at", "2026-10-26T07:05:00Z")
    [autumn] = read(lambda: Handover.select().where(Handover.shift_end > "2026-10-01"))
    assert autumn.shift_end.isoformat() == "2026-10-26T07:00:00+00:00"
    assert autumn.shift_end - autumn.shift_start == dt.timedelta(hours=169)


def test_tick_at_hands_a_weekday_rotations_friday_over_to_monday(instance):
    from workdesk import Notification
    from workdesk.db import db
    from workdesk.plugins.duty_roster import services
    from workdesk.plugins.duty_roster.models import Handover
    from workdesk.services.users import create_department, create_user

    department = create_department(None, name="Help desk")
    ana, boris, vera = (create_user(None, email=f"{n.lower()}@example.com", name=n, password="long-enough-pw",
                                    role="agent", department_ids=[department.id]) for n in ("Ana", "Boris", "Vera"))
    # Daily at 09:00 Sofia, open 09:00-18:00 on weekdays, from Monday 2 March 2026 (the default advance:
    # weekends pass no turn). Friday 27 March is the 20th working day: Boris (19 % 3); Monday 30 March,
    # after the spring change, Vera (20 % 3).
    services.create_rotation(None, {"department_id": department.id, "name": "Desk",
                                    "member_ids": [ana.id, boris.id, vera.id], "shift_unit": "days",
                                    "handoff_time": "09:00", "timezone": "Europe/Sofia", "start_date": "2026-03-02",
                                    "restrictions": [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]})
    db.close()

    def reminders():
        return [(n.recipient_id, n.subject) for n in read(lambda: Notification.select().where(
            Notification.kind == "duty_roster.reminder").order_by(Notification.id))]

    def handovers():
        return [(h.outgoing_id, h.incoming_id, h.shift_start.isoformat(), h.shift_end.isoformat())
                for h in read(lambda: Handover.select().order_by(Handover.shift_start))]

    for moment in ("2026-03-27T06:05:00Z", "2026-03-27T07:05:00Z", "2026-03-28T06:05:00Z", "2026-03-28T07:05:00Z",
                   "2026-03-29T05:05:00Z", "2026-03-29T06:05:00Z"):  # Friday, Saturday and Sunday mornings
        ticked = workdesk(instance, "tick", "--at", moment)
        assert ticked.returncode == 0, ticked.stderr
    assert reminders() == [(boris.id, "Your duty (Desk) begins at 3/27/2026, 7:00\u202fAM")]  # none on the weekend
    assert handovers() == [(vera.id, ana.id, "2026-03-25T07:00:00+00:00", "2026-03-26T07:00:00+00:00"),
                           (ana.id, boris.id, "2026-03-26T07:00:00+00:00", "2026-03-27T07:00:00+00:00")]

    workdesk(instance, "tick", "--at", "2026-03-30T05:05:00Z")  # Monday 08:05, now UTC+3
    assert reminders()[1:] == [(vera.id, "Your duty (Desk) begins at 3/30/2026, 6:00\u202fAM")]
    workdesk(instance, "tick", "--at", "2026-03-30T06:05:00Z")
    friday = handovers()[2:]
    assert friday == [(boris.id, vera.id, "2026-03-27T07:00:00+00:00", "2026-03-30T06:00:00+00:00")]  # 71 hours
