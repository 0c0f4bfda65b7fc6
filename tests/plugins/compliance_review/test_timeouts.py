"""Deadlines in working hours and the four timeout actions: in-process on both databases, and each action
through the real ``workdesk tick --at`` in separate processes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workdesk import Calendar, Notification, Task
from workdesk.plugins.compliance_review.models import Decision, ReviewStage

from .conftest import at, people_stage, states

ROOT = Path(__file__).resolve().parents[3]
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def office_hours(org):
    """Operations works 09:00-17:00 Sofia time on weekdays."""
    from workdesk import Department
    calendar = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours=WEEKDAYS)
    Department.update(calendar=calendar).where(Department.id == org.ops.id).execute()  # update_department has no calendar_id
    return calendar


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_deadlines_count_working_hours_and_each_action_runs_once(org, make_policy, make_task, compliance, review_of,
                                                                office_hours, run_jobs, task_as):
    def start(kind, action):
        make_policy([people_stage("Check", [org.finance_head], deadline_hours=4, timeout_action=action),
                     people_stage("Next", [org.ceo])], name=kind, match={"types": [kind]})
        task = make_task(org.reporter, org.ops, type=kind)
        # Friday 15:00 in Sofia: two working hours left that day, two more on Monday morning.
        compliance.start_review(Task.get_by_id(task.id), now=at("2026-03-06T15:00+02:00"))
        return task
    tasks = {action: start(f"kind-{action}", action) for action in ("notify_escalate", "reassign", "approve", "reject")}
    stage = ReviewStage.get(ReviewStage.name == "Check")
    assert stage.due_at == at("2026-03-09T11:00+02:00")
    run_jobs("2026-03-09T10:59+02:00", force=True)
    assert Decision.select().where(Decision.automatic == True, Decision.action != "started").count() == 0  # noqa: E712
    run_jobs("2026-03-09T11:00+02:00", force=True)
    run_jobs("2026-03-09T12:00+02:00", force=True)  # a second tick changes nothing
    escalated = review_of(tasks["notify_escalate"])
    slot = escalated["stages"][0]["approvers"][0]
    assert (slot["name"], slot["escalated_to_name"], slot["decision"]) == ("Fay Finance-Head", "Cleo CEO", None)
    assert escalated["stages"][0]["waiting_for"] == ["Fay Finance-Head", "Cleo CEO"]
    assert Notification.select().where((Notification.kind == "compliance_review.escalated")
                                       & (Notification.recipient == org.ceo)).count() == 1
    reassigned = review_of(tasks["reassign"])["stages"][0]["approvers"]
    assert [(a["name"], a["active"], a["reason"], a["on_behalf_of_name"]) for a in reassigned] == [
        ("Fay Finance-Head", False, "policy", None), ("Cleo CEO", True, "reassigned", "Fay Finance-Head")]
    assert reassigned[0]["handed_to_name"] == "Cleo CEO" and reassigned[0]["handed_to_reason"] == "reassigned"
    assert states(review_of(tasks["approve"])) == {"Check": "approved", "Next": "active"}
    assert review_of(tasks["approve"])["stages"][0]["outcome"] == "timeout"
    assert review_of(tasks["reject"])["status"] == "rejected"
    assert Task.get_by_id(tasks["reject"].id).status == "open"
    automatic = {(d.task_id, d.action) for d in Decision.select().where(Decision.automatic == True)  # noqa: E712
                 if d.action not in ("started", "completed")}
    assert automatic == {(tasks["notify_escalate"].id, "escalated"), (tasks["reassign"].id, "reassigned"),
                         (tasks["approve"].id, "auto_approve"), (tasks["approve"].id, "stage_approved"),
                         (tasks["reject"].id, "auto_reject"), (tasks["reject"].id, "stage_rejected")}
    # The head the decision was escalated to decides in the holder's place; the log says for whom.
    compliance.decide(org.ceo, tasks["notify_escalate"].id, "approve", "Approved while Fay is away.")
    row = Decision.get(Decision.comment == "Approved while Fay is away.")
    assert (row.actor_name, row.on_behalf_of_name) == ("Cleo CEO", "Fay Finance-Head")
    assert {(i["task_id"], i["stage"]) for i in compliance.queue(org.ceo)} == {
        (tasks["notify_escalate"].id, "Next"), (tasks["approve"].id, "Next"), (tasks["reassign"].id, "Check")}


# -- through the command line -------------------------------------------------------------------------

def workdesk(instance: Path, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("workdesk")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    return subprocess.run([str(script), "--instance", str(instance), *args], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=120)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("WORKDESK_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    created = workdesk(path, "init", "--admin-email", "ops@example.com", "--admin-password", "long-enough-pw")
    assert created.returncode == 0, created.stderr
    enabled = workdesk(path, "plugins", "enable", "compliance_review")
    assert enabled.returncode == 0 and "compliance_review enabled" in enabled.stdout, enabled.stderr
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    from workdesk.db import db
    from workdesk.registry import set_registry
    init_runtime(load_settings(path))
    yield path
    if not db.is_closed():
        db.close()
    set_registry(None)


def test_each_timeout_action_through_workdesk_tick_at(instance):
    from workdesk.db import db
    from workdesk.plugins.compliance_review import policies, services
    from workdesk.services.tasks import create_task
    from workdesk.services.users import create_department, create_user
    head = create_user(None, email="head@example.com", name="Hana Head", password="long-enough-pw", role="manager")
    boss = create_user(None, email="boss@example.com", name="Boris Boss", password="long-enough-pw", role="manager")
    top = create_department(None, name="Company", head_id=boss.id)
    finance = create_department(None, name="Finance", parent_id=top.id, head_id=head.id)
    approver = create_user(None, email="acc@example.com", name="Alex Accountant", password="long-enough-pw",
                           department_ids=[finance.id])
    reporter = create_user(None, email="rep@example.com", name="Remy Reporter", password="long-enough-pw",
                           department_ids=[finance.id])
    tasks = {}
    for action in ("notify_escalate", "reassign", "approve", "reject"):
        policies.create_policy(None, {"name": action, "match": {"types": [action]}, "steps": [
            {"stages": [{"name": "Check", "approver_kind": "people", "approver_user_ids": [approver.id],
                         "deadline_hours": 8, "timeout_action": action}]},
            {"stages": [{"name": "Sign-off", "approver_kind": "people", "approver_user_ids": [boss.id]}]}]})
        task = create_task(reporter, title=f"Buy ({action})", department_id=finance.id, type=action)
        services.start_review(task, now=services.utcnow().replace(year=2026, month=5, day=4, hour=8, minute=0,
                                                                  second=0, microsecond=0))
        tasks[action] = task.id
    db.close()  # the CLI processes write next

    early = workdesk(instance, "tick", "--at", "2026-05-04T15:59:00Z")
    assert early.returncode == 0, early.stderr
    assert "compliance_review.timeouts: ran" in early.stdout
    db.connect(reuse_if_open=True)
    assert Decision.select().where(Decision.automatic == True).count() == 0  # noqa: E712
    db.close()

    due = workdesk(instance, "tick", "--at", "2026-05-04T16:00:00Z")
    assert due.returncode == 0, due.stderr
    db.connect(reuse_if_open=True)
    actions = {d.task_id: d.action for d in Decision.select().where(
        (Decision.automatic == True) & Decision.action.in_(  # noqa: E712
            ("escalated", "reassigned", "auto_approve", "auto_reject")))}
    assert actions == {tasks["notify_escalate"]: "escalated", tasks["reassign"]: "reassigned",
                       tasks["approve"]: "auto_approve", tasks["reject"]: "auto_reject"}
    stages = {s.review.task_id: s.state for s in ReviewStage.select().where(ReviewStage.name == "Check")}
    assert stages == {tasks["notify_escalate"]: "active", tasks["reassign"]: "active",
                      tasks["approve"]: "approved", tasks["reject"]: "rejected"}
    assert Task.get_by_id(tasks["reject"]).status == "open"
    # The escalation reached the head as a notification (the worker of `tick` delivered nothing twice).
    assert Notification.select().where((Notification.recipient == head.id)
                                       & (Notification.kind == "compliance_review.escalated")).count() == 1
    assert Notification.select().where((Notification.recipient == head.id)
                                       & (Notification.kind == "compliance_review.requested")).count() == 1
    db.close()
    again = workdesk(instance, "tick", "--at", "2026-05-05T16:00:00Z")
    assert again.returncode == 0, again.stderr
    db.connect(reuse_if_open=True)
    assert Decision.select().where(Decision.action.in_(("escalated", "reassigned"))).count() == 2
    db.close()
