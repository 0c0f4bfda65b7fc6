"""The ready "Change request" template, end to end on SQLite and PostgreSQL: installed in one click from the admin
panel, edited there, and a change request filed, reviewed by IT, Finance and management, then carried out."""
from __future__ import annotations

import re

import pytest

from workdesk import Notification, Task, TransitionBlocked
from workdesk.plugins.compliance_review.models import Policy, PolicyStage
from workdesk.services import tasks as task_service

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
POLICIES = "/admin/compliance_review/policies/"


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_change_request_end_to_end(org, client, login, drain_events, review_of, compliance):
    login(client, org.admin)
    listing = client.get(POLICIES).get_data(as_text=True)
    assert "Install the “Change request” template" in listing
    installed = client.post(POLICIES + "install-change-request/", data={"csrf_token": csrf(client, POLICIES)})
    assert installed.status_code == 302 and "/admin/compliance_review/stages/" in installed.location
    policy = Policy.get(Policy.name == "Change request")
    stages = list(PolicyStage.select().where(PolicyStage.policy == policy).order_by(PolicyStage.step))
    assert [(s.step, s.name, s.approver_kind, s.pass_rule) for s in stages] == [
        (1, "Technical assessment", "department_head", "all"), (2, "Cost review", "department_members", "any"),
        (3, "Management approval", "top_department_head", "all")]
    assert stages[0].approver_department_id == org.it.id and stages[1].approver_department_id == org.finance.id
    again = client.post(POLICIES + "install-change-request/", data={"csrf_token": csrf(client, POLICIES)},
                        follow_redirects=True)
    assert "exists already" in again.get_data(as_text=True) and Policy.select().count() == 1

    # Edited after installing: the cost review gets a 4-hour deadline.
    edit = f"/admin/compliance_review/stages/edit/?id={stages[1].id}"
    form = {"csrf_token": csrf(client, edit), "policy_id": str(policy.id), "step": "2", "name": "Cost review",
            "approver_kind": "department_members", "approver_department_id": str(org.finance.id),
            "pass_rule": "any", "deadline_hours": "4", "timeout_action": "notify_escalate"}
    assert client.post(edit, data=form).status_code == 302
    assert PolicyStage.get_by_id(stages[1].id).deadline_hours == 4

    task = task_service.create_task(org.reporter, title="Upgrade the mail server", department_id=org.ops.id,
                                    type="change_request", description="Downtime Saturday 22:00.")
    drain_events()
    assert review_of(task)["waiting_for"] == ["Ivan IT-Head"]
    assert Notification.select().where((Notification.recipient == org.it_head)
                                       & (Notification.kind == "compliance_review.requested")).count() == 1
    compliance.decide(org.it_head, task.id, "approve", "Backups verified.")
    assert review_of(task)["waiting_for"] == ["Acc 1", "Acc 2", "Fay Finance-Head"]
    compliance.decide(org.accountants[1], task.id, "approve", "Within budget.")
    assert review_of(task)["waiting_for"] == ["Cleo CEO"]
    task_service.transition(org.reporter, task.id, "open")
    task_service.transition(org.reporter, task.id, "in_progress")
    with pytest.raises(TransitionBlocked, match="the stage “Management approval” waits for Cleo CEO"):
        task_service.transition(org.reporter, task.id, "resolved")
    compliance.decide(org.ceo, task.id, "approve", "Go ahead.")
    review = review_of(task)
    assert review["status"] == "approved"
    assert [(s["name"], s["state"], [a["decided_by_name"] for a in s["approvers"] if a["decision"]])
            for s in review["stages"]] == [("Technical assessment", "approved", ["Ivan IT-Head"]),
                                           ("Cost review", "approved", ["Acc 2"]),
                                           ("Management approval", "approved", ["Cleo CEO"])]
    # Execution: the work is carried out and closed.
    assert task_service.transition(org.reporter, task.id, "resolved").status == "resolved"
    assert Notification.select().where((Notification.recipient == org.reporter)
                                       & (Notification.kind == "compliance_review.approved")).count() == 1
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Management approval" in page and "Go ahead." in page and Task.get_by_id(task.id).status == "resolved"
