"""Matching, sequential and parallel stages, pass rules, vote changes and approver kinds (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from workdesk import Task
from workdesk.plugins.compliance_review.models import Decision, Review

from .conftest import people_stage, states

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def test_policies_match_by_type_department_priority_impact_and_custom_fields(org, make_policy, file_task, compliance):
    make_policy([people_stage("Check", [org.ceo])], name="Production changes in IT",
                match={"types": ["change"], "department_ids": [org.company.id], "priorities": ["high", "urgent"],
                       "impacts": ["major"], "fields": {"environment": ["production"]}})
    make_policy([people_stage("Check", [org.ceo])], name="Big purchases", position=5,
                match={"types": ["purchase"], "fields": {"amount_band": ["large", 3]}})
    base = {"type": "change", "priority": "high", "impact": "major", "fields": {"environment": "production"}}
    matching = file_task(**base)
    assert compliance.review_of(matching).policy_name == "Production changes in IT"  # Operations is under Company
    for change in ({"type": "incident"}, {"priority": "low"}, {"impact": "minor"},
                   {"fields": {"environment": "staging"}}, {"fields": {}}):
        assert compliance.review_of(file_task(**{**base, **change})) is None, change
    assert compliance.review_of(file_task(type="purchase", fields={"amount_band": 3})).policy_name == "Big purchases"
    assert compliance.review_of(file_task(type="purchase", fields={"amount_band": "small"})) is None


def test_first_matching_policy_in_order_wins_and_inactive_or_empty_ones_are_skipped(org, make_policy, policies,
                                                                                   file_task, compliance):
    make_policy([people_stage("A", [org.ceo])], name="Inactive", position=0, active=False)
    policies.create_policy(None, {"name": "No stages yet", "position": 1, "match": {"types": ["purchase"]}})
    make_policy([people_stage("B", [org.ceo])], name="Second", position=3)
    make_policy([people_stage("C", [org.ceo])], name="First", position=2)
    assert compliance.review_of(file_task()).policy_name == "First"


def test_steps_run_in_order_and_the_stages_of_a_step_in_parallel(org, make_policy, file_task, compliance, review_of):
    make_policy([people_stage("Technical", [org.it_head]),
                 [people_stage("Cost", [org.finance_head]), people_stage("Security", [org.engineer])],
                 people_stage("Management", [org.ceo])])
    task = file_task()
    assert states(review_of(task)) == {"Technical": "active", "Cost": "waiting", "Security": "waiting",
                                       "Management": "waiting"}
    assert [i["stage"] for i in compliance.queue(org.it_head)] == ["Technical"]
    assert compliance.queue(org.finance_head) == []
    compliance.decide(org.it_head, task.id, "approve")
    assert states(review_of(task)) == {"Technical": "approved", "Cost": "active", "Security": "active",
                                       "Management": "waiting"}
    compliance.decide(org.engineer, task.id, "approve", "No new exposure.")
    assert states(review_of(task))["Management"] == "waiting"  # the parallel cost stage still waits
    compliance.decide(org.finance_head, task.id, "approve")
    assert states(review_of(task))["Management"] == "active"
    compliance.decide(org.ceo, task.id, "approve")
    review = review_of(task)
    assert review["status"] == "approved" and review["completed_at"]
    # The approvers from other departments were brought in as watchers, so they could see the task.
    assert {org.it_head.id, org.finance_head.id, org.engineer.id, org.ceo.id} <= set(Task.get_by_id(task.id).watcher_ids)


@pytest.mark.parametrize("rule, extra, votes_to_pass", [("all", {}, 4), ("any", {}, 1),
                                                        ("count", {"pass_count": 2}, 2),
                                                        ("percentage", {"pass_percentage": 75}, 3),
                                                        ("percentage", {"pass_percentage": 50}, 2)])
def test_pass_rules(org, make_policy, file_task, compliance, review_of, rule, extra, votes_to_pass):
    voters = [*org.accountants, org.finance_head, org.it_head]
    make_policy([people_stage("Votes", voters, rule=rule, **extra), people_stage("After", [org.ceo])])
    task = file_task()
    for n, voter in enumerate(voters[:votes_to_pass], start=1):
        assert states(review_of(task))["Votes"] == "active", n
        compliance.decide(voter, task.id, "approve")
    assert states(review_of(task)) == {"Votes": "approved", "After": "active"}
    passed = Decision.select().where(Decision.action == "stage_approved").count()
    assert passed == 1


@pytest.mark.parametrize("rule, extra, rejections_to_fail", [("all", {}, 1), ("any", {}, 3),
                                                             ("count", {"pass_count": 2}, 2)])
def test_a_stage_fails_once_it_can_no_longer_pass(org, make_policy, file_task, compliance, review_of, rule, extra,
                                                  rejections_to_fail):
    voters = [*org.accountants, org.finance_head]
    make_policy([people_stage("Votes", voters, rule=rule, **extra)])
    task = file_task()
    for voter in voters[:rejections_to_fail - 1]:
        compliance.decide(voter, task.id, "reject", "Too expensive.")
        assert states(review_of(task))["Votes"] == "active"
    compliance.decide(voters[rejections_to_fail - 1], task.id, "reject", "Too expensive.")
    assert review_of(task)["status"] == "rejected"


def test_votes_change_until_the_stage_passes(org, make_policy, file_task, compliance, review_of):
    make_policy([people_stage("Votes", [org.accountants[0], org.finance_head], rule="all")])
    task = file_task()
    compliance.decide(org.accountants[0], task.id, "reject", "Missing quote.")
    assert states(review_of(task))["Votes"] == "rejected"  # "all" can no longer pass
    # With a count of two, a rejection leaves the stage open: the accountant changes their mind.
    make_policy([people_stage("Votes", [*org.accountants, org.finance_head], rule="count", pass_count=2),
                 people_stage("Then", [org.ceo])], name="Second policy", match={"types": ["purchase2"]})
    task = file_task(type="purchase2")
    compliance.decide(org.accountants[0], task.id, "reject", "Missing quote.")
    compliance.decide(org.accountants[0], task.id, "approve", "Quote found.")
    slot = review_of(task)["stages"][0]["approvers"][0]
    assert (slot["decision"], slot["comment"]) == ("approve", "Quote found.")
    assert [d.action for d in Decision.select().where(Decision.task_id == task.id).order_by(Decision.id)][-2:] == [
        "reject", "changed_to_approve"]
    compliance.decide(org.finance_head, task.id, "approve")
    assert states(review_of(task)) == {"Votes": "approved", "Then": "active"}
    from workdesk import Conflict
    with pytest.raises(Conflict, match="only until a stage passes"):
        compliance.decide(org.accountants[0], task.id, "reject", "Changed my mind again.")


def test_rejection_needs_a_comment_and_a_decision_must_be_known(org, make_policy, file_task, compliance):
    from workdesk import ValidationFailed
    make_policy([people_stage("Votes", [org.finance_head])])
    task = file_task()
    with pytest.raises(ValidationFailed) as refused:
        compliance.decide(org.finance_head, task.id, "reject", "   ")
    assert refused.value.fields == {"comment": ["Say why: a written reason is required."]}
    with pytest.raises(ValidationFailed):
        compliance.decide(org.finance_head, task.id, "maybe")
    assert Review.get(Review.task_id == task.id).status == "in_review"


def test_approver_kinds(org, make_policy, file_task, compliance, review_of, make_user, make_department):
    from workdesk.services.users import create_role
    create_role(None, name="auditor", permissions=["task.view_department", "compliance.review"])
    for n in (1, 2):
        make_user("auditor", name=f"Aud {n}")
    from workdesk.services.users import update_user
    update_user(org.admin, make_user("auditor", name="Gone").id, {"is_active": False})  # deactivated: not asked
    stages = [
        {"name": "Role", "approver_kind": "role", "approver_role": "auditor", "pass_rule": "any"},
        {"name": "Task head", "approver_kind": "task_department_head"},
        {"name": "IT head", "approver_kind": "department_head", "approver_department_id": org.it.id},
        {"name": "Finance", "approver_kind": "department_members", "approver_department_id": org.finance.id,
         "pass_rule": "any"},
        {"name": "Manager", "approver_kind": "reporter_manager"},
        {"name": "Top", "approver_kind": "top_department_head"},
    ]
    make_policy([stages])
    task = file_task()
    asked = {s["name"]: sorted(a["name"] for a in s["approvers"]) for s in review_of(task)["stages"]}
    assert asked["Role"] == ["Aud 1", "Aud 2"]
    assert asked["Task head"] == ["Otto Ops-Head"]
    assert asked["IT head"] == ["Ivan IT-Head"]
    assert asked["Finance"] == ["Acc 1", "Acc 2", "Fay Finance-Head"]
    assert asked["Manager"] == ["Otto Ops-Head"]
    assert asked["Top"] == ["Cleo CEO"]
    # The head of a department's manager is the head above: the Operations head reports to the CEO.
    sub = make_department("Ops night shift", parent_id=org.ops.id)
    task = file_task(reporter=org.ops_head, department=sub, type="purchase")
    asked = {s["name"]: [a["name"] for a in s["approvers"]] for s in review_of(task)["stages"]}
    assert asked["Manager"] == ["Cleo CEO"] and asked["Task head"] == ["Otto Ops-Head"]
