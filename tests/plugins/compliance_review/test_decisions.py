"""Deciding: the veto and its 409, reject and resubmit in both restart modes, separation of duties and the
admin override, expedite for urgent tasks, and a failing veto that fails closed (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from workdesk import Conflict, Forbidden, Membership, Notification, Task, TaskEvent, TransitionBlocked, ValidationFailed
from workdesk.plugins.compliance_review.models import Decision
from workdesk.services import tasks as task_service

from .conftest import people_stage, states

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def move(actor, task, *statuses):
    for status in statuses:
        task = task_service.transition(actor, task.id, status)
    return task


def test_the_veto_names_the_plugin_the_stage_and_the_people_and_answers_409(org, make_policy, file_task, compliance,
                                                                          api_client):
    make_policy([[people_stage("Cost review", org.accountants, rule="all"),
                  people_stage("Legal", [org.ceo])]])
    task = file_task()
    move(org.reporter, task, "open", "in_progress")
    with pytest.raises(TransitionBlocked) as blocked:
        task_service.transition(org.reporter, task.id, "resolved")
    assert blocked.value.message == (
        "Compliance review blocks this change: The review “Purchases” is not complete: the stage “Cost review” "
        "waits for Acc 1, Acc 2; the stage “Legal” waits for Cleo CEO.")
    compliance.decide(org.accountants[0], task.id, "approve")
    api = api_client(user=org.reporter)
    answer = api.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"})
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "transition_blocked"
    assert answer.json["error"]["plugin"] == "compliance_review"
    assert "the stage “Cost review” waits for Acc 2; the stage “Legal” waits for Cleo CEO" in answer.json["error"]["message"]
    assert Task.get_by_id(task.id).status == "in_progress"
    compliance.decide(org.accountants[1], task.id, "approve")
    compliance.decide(org.ceo, task.id, "approve")
    assert move(org.reporter, task, "resolved", "closed").status == "closed"


def test_blocked_statuses_are_configurable(org, make_policy, file_task, compliance, enable_plugin):
    from workdesk.registry import save_plugin_settings
    make_policy([people_stage("Check", [org.ceo])])
    task = file_task()
    save_plugin_settings("compliance_review", {"blocked_statuses": ["in_progress", "resolved", "closed"]})
    with pytest.raises(TransitionBlocked, match="waits for Cleo CEO"):
        move(org.reporter, task, "open", "in_progress")
    save_plugin_settings("compliance_review", {"blocked_statuses": ["closed"]})
    assert move(org.reporter, Task.get_by_id(task.id), "in_progress", "resolved").status == "resolved"
    with pytest.raises(TransitionBlocked):
        move(org.reporter, Task.get_by_id(task.id), "closed")


def test_a_failing_veto_refuses_the_change(org, make_policy, file_task, compliance, monkeypatch):
    make_policy([people_stage("Check", [org.ceo])])
    task = file_task()
    move(org.reporter, task, "open", "in_progress")

    def broken(task, new_status):
        raise RuntimeError("database of policies unreadable")
    monkeypatch.setattr(compliance, "refusal", broken)
    with pytest.raises(TransitionBlocked) as blocked:
        task_service.transition(org.reporter, task.id, "resolved")
    assert blocked.value.message.startswith("Compliance review could not check this change, so it is refused")
    assert blocked.value.extra == {"plugin": "compliance_review", "reason": "plugin_error"}
    assert Task.get_by_id(task.id).status == "in_progress"


def test_a_task_that_matches_but_whose_review_has_not_started_is_held_back(org, make_policy, make_task, compliance):
    make_policy([people_stage("Check", [org.ceo])])
    task = make_task(org.reporter, org.ops, type="purchase")  # its created event is not handled yet
    move(org.reporter, task, "open", "in_progress")
    with pytest.raises(TransitionBlocked, match="needs the review “Purchases”, which has not started yet"):
        task_service.transition(org.reporter, task.id, "resolved")


def test_rejection_sends_the_task_back_to_the_reporter_with_the_reason(org, make_policy, file_task, compliance,
                                                                      review_of, drain_events):
    make_policy([people_stage("Technical", [org.it_head]), people_stage("Cost", [org.finance_head])])
    task = file_task()
    assert Task.get_by_id(task.id).status == "new"
    compliance.decide(org.it_head, task.id, "approve")
    compliance.decide(org.finance_head, task.id, "reject", "Get a second quote.")
    drain_events()
    assert Task.get_by_id(task.id).status == "open"
    review = review_of(task)
    assert review["status"] == "rejected" and states(review) == {"Technical": "approved", "Cost": "rejected"}
    note = Notification.get((Notification.recipient == org.reporter) & (Notification.kind == "compliance_review.rejected"))
    assert "Get a second quote." in note.body and note.task_id == task.id
    trail = [e.kind for e in TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)]
    assert "compliance_review.reject" in trail and "compliance_review.stage_rejected" in trail
    changes = [e.changes for e in TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "updated"))]
    assert {"status": ["new", "open"]} in changes  # through the core's services: in the trail


def test_a_task_the_workflow_cannot_send_back_stays_and_the_log_says_why(org, make_policy, file_task, compliance):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = move(org.reporter, file_task(), "open", "in_progress")
    compliance.decide(org.finance_head, task.id, "reject", "No budget.")
    assert Task.get_by_id(task.id).status == "in_progress"  # in_progress -> open is not a workflow step
    note = Decision.get(Decision.action == "not_sent_back")
    assert "cannot move from In progress to Open" in note.comment


@pytest.mark.parametrize("restart, expected", [
    ("first_stage", {"Technical": "active", "Cost": "waiting", "Security": "waiting", "Management": "waiting"}),
    ("rejecting_stage", {"Technical": "approved", "Cost": "active", "Security": "approved", "Management": "waiting"}),
])
def test_resubmission_restarts_from_the_first_or_the_rejecting_stage(org, make_policy, file_task, compliance,
                                                                     review_of, restart, expected):
    make_policy([people_stage("Technical", [org.it_head]),
                 [people_stage("Cost", [org.finance_head]), people_stage("Security", [org.engineer])],
                 people_stage("Management", [org.ceo])], restart_from=restart)
    task = file_task()
    compliance.decide(org.it_head, task.id, "approve")
    compliance.decide(org.engineer, task.id, "approve")
    compliance.decide(org.finance_head, task.id, "reject", "Over budget.")
    with pytest.raises(Forbidden):
        compliance.resubmit(org.engineer, task.id)  # neither reporter, assignee nor manager of reviews
    review = compliance.resubmit(org.reporter, task.id)
    data = review_of(task)
    assert data["status"] == "in_review" and data["round"] == 2
    assert states(data) == expected
    with pytest.raises(Conflict):
        compliance.resubmit(org.reporter, task.id)
    cost = next(s for s in data["stages"] if s["name"] == "Cost")
    if restart == "rejecting_stage":
        assert [a["decision"] for a in cost["approvers"]] == [None]  # a fresh vote for the new round
        compliance.decide(org.finance_head, task.id, "approve", "Second quote is fine.")
        compliance.decide(org.ceo, task.id, "approve")
        assert review_of(task)["status"] == "approved"
    assert Decision.select().where(Decision.action == "resubmitted").count() == 1 and review.round == 2


def test_separation_of_duties_and_the_flagged_admin_override(org, make_policy, file_task, compliance, review_of,
                                                              task_as):
    make_policy([people_stage("First", [org.it_head, org.admin], rule="any"),
                 people_stage("Second", [org.it_head, org.finance_head], rule="all"),
                 people_stage("Third", [org.reporter, org.ceo], rule="any")])
    Membership.create(user=org.engineer, department=org.ops)  # Eve also works Operations' tasks: she may be assigned
    task = file_task(assignee_id=org.engineer.id)
    compliance.decide(org.it_head, task.id, "approve")
    with pytest.raises(Forbidden) as barred:
        compliance.decide(org.it_head, task.id, "approve")  # approved the first stage: distinct approvers
    assert barred.value.message.startswith("Separation of duties: You approved an earlier stage of this review")
    assert barred.value.extra["reason"] == "separation_of_duties"
    with pytest.raises(Forbidden, match="Only someone who manages reviews"):
        compliance.decide(org.it_head, task.id, "approve", override_reason="I know this system best.")
    compliance.decide(org.finance_head, task.id, "approve")
    # Given compliance.manage, the barred approver may decide with a written reason: flagged as an override.
    task_as(org.it_head, admin=True)
    compliance.decide(org.it_head, task.id, "approve", override_reason="The only expert on this system.")
    data = review_of(task)
    second = next(s for s in data["stages"] if s["name"] == "Second")
    slot = next(a for a in second["approvers"] if a["user_id"] == org.it_head.id)
    assert slot["override"] is True and second["state"] == "approved"
    logged = Decision.get(Decision.override == True)  # noqa: E712
    assert (logged.actor_name, logged.reason) == ("Ivan IT-Head", "The only expert on this system.")
    with pytest.raises(Forbidden, match="You reported this task"):
        compliance.decide(org.reporter, task.id, "approve")
    with pytest.raises(ValidationFailed, match="Invalid value"):
        compliance.decide(org.ceo, task.id, "approve", override_reason="Not needed.")
    compliance.decide(org.ceo, task.id, "approve")
    assert review_of(task)["status"] == "approved"


def test_the_assignee_cannot_approve(org, make_policy, file_task, compliance):
    make_policy([people_stage("Check", [org.engineer, org.ceo], rule="any")], distinct_approvers=False)
    Membership.create(user=org.engineer, department=org.ops)  # Eve also works Operations' tasks: she may be assigned
    task = file_task(assignee_id=org.engineer.id)
    with pytest.raises(Forbidden, match="You are assigned to this task"):
        compliance.decide(org.engineer, task.id, "approve")


def test_expedite_skips_the_skippable_stages_of_an_urgent_task_with_a_reason(org, make_policy, file_task, compliance,
                                                                             review_of, task_as):
    make_policy([people_stage("Technical", [org.it_head]),
                 people_stage("Cost", org.accountants, rule="any", skippable_when_urgent=True),
                 people_stage("Paperwork", [org.finance_head], skippable_when_urgent=True),
                 people_stage("Management", [org.ceo])])
    normal = file_task(title="Routine")
    task_as(org.ops_head, permissions=["compliance.expedite"])
    with pytest.raises(Conflict, match="Only urgent tasks can be expedited"):
        compliance.expedite(org.ops_head, normal.id, "Because.")
    task = file_task(priority="urgent", title="Server down")
    with pytest.raises(Forbidden):
        compliance.expedite(org.it_head, task.id, "Because.")  # sees the task, lacks compliance.expedite
    with pytest.raises(ValidationFailed):
        compliance.expedite(org.ops_head, task.id, "  ")
    compliance.decide(org.it_head, task.id, "approve")
    assert states(review_of(task))["Cost"] == "active"
    compliance.expedite(org.ops_head, task.id, "Production is down; finance reviews afterwards.")
    data = review_of(task)
    assert states(data) == {"Technical": "approved", "Cost": "skipped", "Paperwork": "skipped", "Management": "active"}
    rows = list(Decision.select().where(Decision.action == "expedited").order_by(Decision.id))
    assert [(r.stage_name, r.expedite, r.reason, r.actor_name) for r in rows] == [
        ("Cost", True, "Production is down; finance reviews afterwards.", "Otto Ops-Head"),
        ("Paperwork", True, "Production is down; finance reviews afterwards.", "Otto Ops-Head")]
    told = {n.recipient_id for n in Notification.select().where(Notification.kind == "compliance_review.skipped")}
    assert told == {org.accountants[0].id, org.accountants[1].id, org.finance_head.id}
    with pytest.raises(Conflict, match="No stage left"):
        compliance.expedite(org.ops_head, task.id, "Again.")
