"""Delegation during an absence (SQLite and PostgreSQL): an approver away with a delegate has their requests
routed to the delegate, who gets the notification and the queue entry and decides "on behalf of X (absent)" in
the review, the audit trail and the export; an absence that begins while a review waits moves the request to
the delegate and brings it back at its end if still undecided (through ``run_jobs``, as the worker's tick
would); separation of duties applies to the delegate."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from workdesk import Membership, Notification, TaskEvent, absences
from workdesk.plugins.compliance_review.models import Decision
from workdesk.registry import set_plugin_enabled
from workdesk.services import tasks as task_service

from .conftest import people_stage, states

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
BASE = "/api/v1/compliance"
UTC = dt.timezone.utc


def hours_from_now(hours: float) -> dt.datetime:
    return (dt.datetime.now(UTC) + dt.timedelta(hours=hours)).replace(microsecond=0)


def holders(review: dict, stage: str) -> list[tuple]:
    """(name, active, reason, on behalf of, decision) of every slot of ``stage``."""
    found = next(s for s in review["stages"] if s["name"] == stage)
    return [(a["name"], a["active"], a["reason"], a["on_behalf_of_name"], a["decision"]) for a in found["approvers"]]


def requested(user) -> list[Notification]:
    return list(Notification.select().where((Notification.recipient == user)
                                            & (Notification.kind == "compliance_review.requested"))
                .order_by(Notification.id))


def test_a_review_reaching_an_absent_approver_goes_to_their_delegate_who_decides_on_their_behalf(
        org, make_policy, file_task, api_client, client, login, task_as):
    make_policy([people_stage("Cost", [org.finance_head]), people_stage("Sign-off", [org.ceo])])
    fay, eve = api_client(user=org.finance_head), api_client(user=org.engineer)
    away = fay.post("/api/v1/absences", json={"starts_at": hours_from_now(-1).isoformat(),
                                              "ends_at": hours_from_now(48).isoformat(),
                                              "delegate_id": org.engineer.id, "note": "Holiday"})
    assert away.status_code == 201, away.json
    task = file_task(title="New laptops")

    review = eve.get(f"{BASE}/tasks/{task.id}/review").json
    assert holders(review, "Cost") == [("Fay Finance-Head", False, "policy", None, None),
                                       ("Eve Engineer", True, "delegate", "Fay Finance-Head", None)]
    assert review["waiting_for"] == ["Eve Engineer"] and review["you_decide"] == [review["stages"][0]["id"]]
    assert [(a["handed_to_name"], a["handed_to_reason"]) for a in review["stages"][0]["approvers"]] == [
        ("Eve Engineer", "delegate"), (None, None)]
    # The delegate is told and finds it in their queue; the absent approver's queue is empty.
    [note] = requested(org.engineer)
    assert "on behalf of Fay Finance-Head, who is away" in note.body and note.task_id == task.id
    assert requested(org.finance_head) == []
    [item] = eve.get(f"{BASE}/queue").json["items"]
    assert (item["task_id"], item["stage"], item["on_behalf_of"], item["on_behalf_reason"]) == (
        task.id, "Cost", "Fay Finance-Head", "absent")
    assert fay.get(f"{BASE}/queue").json["items"] == []
    not_hers = fay.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "approve"})
    assert not_hers.status_code == 403 and not_hers.json["error"]["reason"] == "not_an_approver"

    decided = eve.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "approve", "comment": "Fine."})
    assert decided.status_code == 200
    assert holders(decided.json, "Cost")[1] == ("Eve Engineer", True, "delegate", "Fay Finance-Head", "approve")
    assert states(decided.json) == {"Cost": "approved", "Sign-off": "active"}

    # The log, the audit trail and the export say who decided on whose behalf, and why.
    task_as(org.ceo, permissions=["compliance.audit"])
    log = api_client(user=org.ceo).get(f"{BASE}/decisions", query_string={
        "since": "2000-01-01T00:00Z", "until": "2100-01-01T00:00Z"}).json["items"]
    vote = next(d for d in log if d["action"] == "approve")
    assert (vote["actor"], vote["on_behalf_of"], vote["on_behalf_reason"]) == ("Eve Engineer", "Fay Finance-Head",
                                                                               "absent")
    routed = next(d for d in log if d["action"] == "delegated")
    assert routed["automatic"] and routed["on_behalf_of"] == "Fay Finance-Head"
    assert routed["comment"] == "Fay Finance-Head is away; their delegate Eve Engineer decides in their place."
    trail = TaskEvent.get((TaskEvent.task_id == task.id) & (TaskEvent.kind == "compliance_review.approve"))
    assert trail.actor_id == org.engineer.id
    assert trail.changes["on_behalf_of"] == [None, "Fay Finance-Head"]
    assert trail.changes["on_behalf_reason"] == [None, "absent"]
    login(client, org.ceo)
    rows = list(csv.reader(io.StringIO(client.get("/compliance/export", query_string={
        "since": "2000-01-01", "until": "2099-12-31"}).get_data().decode("utf-8-sig"))))
    assert rows[0][10:] == ["By", "On behalf of", "Comment", "Reason", "Why on behalf"]
    vote_row = next(r for r in rows if r[6] == "approve")
    assert (vote_row[10], vote_row[11], vote_row[12], vote_row[14]) == ("Eve Engineer", "Fay Finance-Head", "Fine.",
                                                                       "absent")
    # The task page: the workflow and the history read "Eve Engineer on behalf of Fay Finance-Head (absent)".
    login(client, org.engineer)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Eve Engineer <span class=\"muted cr-behalf\">on behalf of Fay Finance-Head (absent)</span>" in page
    assert "approved the stage “Cost” on behalf of Fay Finance-Head (absent): “Fine.”" in page
    assert "handed to Eve Engineer during an absence" in page
    history = client.get(f"/compliance/tasks/{task.id}/review").get_data(as_text=True)
    assert "on behalf of Fay Finance-Head (absent)" in history


def test_an_absence_beginning_while_a_review_waits_moves_it_to_the_delegate_and_back_when_undecided(
        org, make_policy, file_task, compliance, review_of, run_jobs, drain_events):
    make_policy([people_stage("Cost", [org.finance_head, org.ceo], rule="all")])
    undecided, decided = file_task(title="Undecided"), file_task(title="Decided by the delegate")
    start, end = hours_from_now(2), hours_from_now(10)
    absences.create_absence(org.admin, user_id=org.finance_head.id, starts_at=start, ends_at=end,
                            delegate_id=org.engineer.id)
    drain_events()
    run_jobs(start - dt.timedelta(minutes=1), force=True)
    assert holders(review_of(undecided), "Cost")[0] == ("Fay Finance-Head", True, "policy", None, None)

    run_jobs(start + dt.timedelta(minutes=1), force=True)  # the absence begins: core.absence_events, then the events
    for task in (undecided, decided):
        assert holders(review_of(task), "Cost") == [
            ("Fay Finance-Head", False, "policy", None, None), ("Cleo CEO", True, "policy", None, None),
            ("Eve Engineer", True, "delegate", "Fay Finance-Head", None)]
        assert review_of(task)["waiting_for"] == ["Cleo CEO", "Eve Engineer"]
    assert {i["task_id"] for i in compliance.queue(org.engineer)} == {undecided.id, decided.id}
    assert compliance.queue(org.finance_head) == []
    assert len(requested(org.engineer)) == 2
    compliance.decide(org.engineer, decided.id, "approve", "Checked the quote.")
    run_jobs(start + dt.timedelta(minutes=2), force=True)  # a repeated tick moves nothing twice
    assert Decision.select().where(Decision.action == "delegated").count() == 2

    run_jobs(end + dt.timedelta(minutes=1), force=True)  # she is back
    assert holders(review_of(undecided), "Cost") == [
        ("Fay Finance-Head", True, "policy", None, None), ("Cleo CEO", True, "policy", None, None),
        ("Eve Engineer", False, "delegate", "Fay Finance-Head", None)]
    assert review_of(undecided)["waiting_for"] == ["Cleo CEO", "Fay Finance-Head"]
    assert [i["task_id"] for i in compliance.queue(org.finance_head)] == [undecided.id]
    assert len(requested(org.finance_head)) == 3  # asked twice at the start (one per task), again when back
    # The delegate's vote stands after the absence: that slot stays theirs.
    assert holders(review_of(decided), "Cost")[2] == ("Eve Engineer", True, "delegate", "Fay Finance-Head", "approve")
    assert [i["task_id"] for i in compliance.queue(org.engineer)] == []
    returned = Decision.get(Decision.action == "returned")
    assert (returned.task_id, returned.on_behalf_of_name, returned.automatic) == (undecided.id, "Fay Finance-Head",
                                                                                  True)
    compliance.decide(org.finance_head, undecided.id, "approve")
    compliance.decide(org.ceo, undecided.id, "approve")
    compliance.decide(org.ceo, decided.id, "approve")
    assert review_of(undecided)["status"] == review_of(decided)["status"] == "approved"


def test_another_delegate_named_mid_absence_takes_over_and_none_brings_it_back(org, make_policy, file_task,
                                                                               review_of, drain_events):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task()
    absence = absences.create_absence(org.finance_head, starts_at=hours_from_now(-1), ends_at=hours_from_now(5),
                                      delegate_id=org.engineer.id)
    drain_events()
    assert review_of(task)["waiting_for"] == ["Eve Engineer"]
    absences.update_absence(org.finance_head, absence.id, {"delegate_id": org.accountants[0].id})
    drain_events()
    assert review_of(task)["waiting_for"] == ["Acc 1"]
    assert [h[:3] for h in holders(review_of(task), "Cost")] == [
        ("Fay Finance-Head", False, "policy"), ("Eve Engineer", False, "delegate"), ("Acc 1", True, "delegate")]
    absences.update_absence(org.finance_head, absence.id, {"delegate_id": None})
    drain_events()
    assert review_of(task)["waiting_for"] == ["Fay Finance-Head"]
    absences.update_absence(org.finance_head, absence.id, {"delegate_id": org.engineer.id})
    drain_events()
    assert review_of(task)["waiting_for"] == ["Eve Engineer"]  # the earlier delegate's slot, active again
    absences.delete_absence(org.finance_head, absence.id)
    drain_events()
    assert review_of(task)["waiting_for"] == ["Fay Finance-Head"]


def test_separation_of_duties_applies_to_the_delegate(org, make_policy, file_task, api_client, review_of,
                                                      drain_events, make_user):
    make_policy([people_stage("Cost", [org.finance_head]), people_stage("Sign-off", [org.ceo])])
    # The reporter is the absent approver's delegate: the request stays with the approver, the log says why.
    absences.create_absence(org.finance_head, starts_at=hours_from_now(-1), ends_at=hours_from_now(5),
                            delegate_id=org.reporter.id)
    reported = file_task(title="Reported by the delegate")
    assert holders(review_of(reported), "Cost") == [("Fay Finance-Head", True, "policy", None, None)]
    kept = Decision.get(Decision.action == "not_delegated")
    assert kept.comment == ("Fay Finance-Head is away, but their delegate Rita Reporter cannot decide in their "
                            "place: they reported this task.")
    rita = api_client(user=org.reporter)
    refused = rita.post(f"{BASE}/tasks/{reported.id}/review/decisions", json={"decision": "approve"})
    assert refused.status_code == 403

    # A delegate who is assigned to the task after the request reached them cannot approve it either.
    other_reporter = make_user("agent", departments=[org.ops], name="Omar Other")
    ceo_away = absences.create_absence(org.ceo, starts_at=hours_from_now(-1), ends_at=hours_from_now(5),
                                       delegate_id=org.engineer.id)
    drain_events()
    task = file_task(title="Assigned to the delegate", reporter=other_reporter)
    assert holders(review_of(task), "Cost")[1][:4] == ("Rita Reporter", True, "delegate", "Fay Finance-Head")
    approved = rita.post(f"{BASE}/tasks/{task.id}/review/decisions",
                         json={"decision": "approve", "comment": "For Fay."})
    assert approved.status_code == 200  # she did not report this one
    assert holders(review_of(task), "Sign-off")[1] == ("Eve Engineer", True, "delegate", "Cleo CEO", None)
    Membership.create(user=org.engineer, department=org.ops)  # Eve also works Operations' tasks: she may be assigned
    task_service.assign(org.admin, task.id, org.engineer.id)
    eve = api_client(user=org.engineer)
    barred = eve.post(f"{BASE}/tasks/{task.id}/review/decisions", json={"decision": "approve"})
    assert barred.status_code == 403 and barred.json["error"]["reason"] == "separation_of_duties"
    assert "You are assigned to this task." in barred.json["error"]["message"]
    assert review_of(task)["stages"][1]["state"] == "active"
    absences.delete_absence(org.ceo, ceo_away.id)
    drain_events()
    assert review_of(task)["waiting_for"] == ["Cleo CEO"]

    # A delegate who decides the same stage in their own right does not get a second vote.
    make_policy([people_stage("Both", [org.finance_head, org.accountants[1]])], name="Two votes",
                match={"types": ["two"]})
    absences.update_absence(org.finance_head, absences.current_absence(org.finance_head).id,
                            {"delegate_id": org.accountants[1].id})
    drain_events()
    both = file_task(type="two", title="Two votes")
    assert [h[:3] for h in holders(review_of(both), "Both")] == [("Fay Finance-Head", True, "policy"),
                                                                 ("Acc 2", True, "policy")]
    assert "each person has one vote" in Decision.get((Decision.action == "not_delegated")
                                                      & (Decision.task_id == both.id)).comment


def test_a_decision_reassigned_at_its_deadline_to_a_head_who_is_away_goes_to_the_heads_delegate(
        org, make_policy, make_task, compliance, review_of, run_jobs):
    from workdesk import Task
    make_policy([people_stage("Check", [org.finance_head], deadline_hours=4, timeout_action="reassign")])
    task = make_task(org.reporter, org.ops, type="purchase")
    compliance.start_review(Task.get_by_id(task.id), now=hours_from_now(-10))  # Operations has no calendar
    absences.create_absence(org.ceo, starts_at=hours_from_now(-1), ends_at=hours_from_now(5),
                            delegate_id=org.ops_head.id)
    run_jobs(hours_from_now(0), force=True)
    assert holders(review_of(task), "Check") == [
        ("Fay Finance-Head", False, "policy", None, None), ("Cleo CEO", False, "reassigned", "Fay Finance-Head", None),
        ("Otto Ops-Head", True, "delegate", "Cleo CEO", None)]
    assert [i["on_behalf_of"] for i in compliance.queue(org.ops_head)] == ["Cleo CEO"]
    compliance.decide(org.ops_head, task.id, "approve", "For Cleo.")
    vote = Decision.get(Decision.action == "approve")
    assert (vote.actor_name, vote.on_behalf_of_name, vote.on_behalf_reason) == ("Otto Ops-Head", "Cleo CEO", "absent")
    assert review_of(task)["status"] == "approved"


def test_absences_that_began_while_the_plugin_was_off_are_followed_on_enabling(org, make_policy, file_task,
                                                                               review_of, drain_events):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task()
    set_plugin_enabled("compliance_review", False)
    absences.create_absence(org.finance_head, starts_at=hours_from_now(-1), ends_at=hours_from_now(5),
                            delegate_id=org.engineer.id)
    drain_events()
    assert review_of(task)["waiting_for"] == ["Fay Finance-Head"]  # the plugin heard nothing while off
    set_plugin_enabled("compliance_review", True)
    assert review_of(task)["waiting_for"] == ["Eve Engineer"]


def test_migration_0002_adds_why_on_behalf_to_an_older_log(org, make_policy, file_task, compliance):
    from playhouse.migrate import migrate

    from workdesk.db import db
    from workdesk.migrate import migrator
    from workdesk.models import SchemaVersion
    from workdesk.registry import get_registry
    from workdesk.schema import upgrade_all
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task()
    with db.atomic():  # the log as version 1.0 of the plugin made it
        migrate(migrator().drop_column("compliance_review_decision", "on_behalf_reason"))
    SchemaVersion.update(version=1).where(SchemaVersion.owner == "compliance_review").execute()
    assert upgrade_all(get_registry())["compliance_review"] == (1, 2)
    assert [d.on_behalf_reason for d in Decision.select()] == [""]
    compliance.decide(org.finance_head, task.id, "approve")
    assert upgrade_all(get_registry())["compliance_review"] == (2, 2)
