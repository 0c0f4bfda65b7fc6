"""Two reviewers in two OS processes deciding at the same moment: no decision is lost and no stage advances
twice (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workdesk import Notification
from workdesk.plugins.compliance_review.models import Approver, Decision, ReviewStage

from .conftest import people_stage

DECIDER = Path(__file__).with_name("_decider.py")
ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def decide_together(database_url: str, task_id: int, users, barrier: Path, decision: str = "approve") -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    processes = [subprocess.Popen([sys.executable, str(DECIDER), database_url, str(task_id), str(user.id), decision,
                                   str(barrier)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                  cwd=str(ROOT)) for user in users]
    ready = [Path(f"{barrier}.ready.{user.id}") for user in users]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in ready):  # every process is loaded and waits at the barrier
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), "a decider did not start"
        time.sleep(0.01)
    barrier.touch()  # now they decide at the same moment
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def close_connection():
    from workdesk import db
    if not db.is_closed():
        db.close()  # no snapshot or lock of ours while the processes write


def test_two_approvals_of_an_all_stage_at_once_are_both_kept_and_advance_once(org, make_policy, file_task,
                                                                            workdesk_database, tmp_path):
    make_policy([people_stage("Cost", org.accountants, rule="all"), people_stage("Sign-off", [org.ceo])])
    task = file_task()
    close_connection()
    results = decide_together(workdesk_database, task.id, org.accountants, tmp_path / "go")
    assert results == [{"ok": True}, {"ok": True}]
    cost, sign_off = ReviewStage.select().order_by(ReviewStage.step)
    assert [a.decision for a in Approver.select().where(Approver.stage == cost)] == ["approve", "approve"]
    assert (cost.state, sign_off.state) == ("approved", "active")
    assert Decision.select().where(Decision.action == "stage_approved").count() == 1
    assert Approver.select().where(Approver.stage == sign_off).count() == 1
    assert Notification.select().where((Notification.recipient == org.ceo)
                                       & (Notification.kind == "compliance_review.requested")).count() == 1


def test_two_approvals_of_an_any_stage_at_once_advance_it_once(org, make_policy, file_task, workdesk_database,
                                                              tmp_path):
    make_policy([people_stage("Cost", org.accountants, rule="any"), people_stage("Sign-off", [org.ceo])])
    task = file_task()
    close_connection()
    results = decide_together(workdesk_database, task.id, org.accountants, tmp_path / "go")
    # The first approval passes the stage; the second is told, not silently dropped.
    assert sorted(r["ok"] for r in results) == [False, True]
    refused = next(r for r in results if not r["ok"])
    assert refused["code"] == "conflict" and "decided already" in refused["message"]
    assert Decision.select().where(Decision.action == "stage_approved").count() == 1
    assert Decision.select().where(Decision.action == "approve").count() == 1
    sign_off = ReviewStage.get(ReviewStage.name == "Sign-off")
    assert sign_off.state == "active" and Approver.select().where(Approver.stage == sign_off).count() == 1


def test_an_approval_and_a_rejection_at_once_are_both_recorded(org, make_policy, file_task, workdesk_database,
                                                              tmp_path):
    make_policy([people_stage("Cost", [*org.accountants, org.finance_head], rule="count", pass_count=2)])
    task = file_task()
    close_connection()
    env_users = org.accountants
    first = decide_together(workdesk_database, task.id, env_users[:1], tmp_path / "a", "reject")
    both = decide_together(workdesk_database, task.id, [env_users[1], org.finance_head], tmp_path / "b")
    assert first == [{"ok": True}] and both == [{"ok": True}, {"ok": True}]
    decisions = sorted(a.decision for a in Approver.select())
    assert decisions == ["approve", "approve", "reject"]
    assert Decision.select().where(Decision.action == "stage_approved").count() == 1
