"""The team app's pages and the admin views: the queue, deciding through forms (errors keep what was typed),
the task page's panel, the auditors' CSV export, admin policy and stage forms with validation, and the plugin
switched off and on again keeping its reviews."""
from __future__ import annotations

import csv
import io
import re

import pytest

from workdesk import Task, User
from workdesk.plugins.compliance_review.models import Decision, Policy, PolicyStage, Review
from workdesk.registry import set_plugin_enabled
from workdesk.services import tasks as task_service

from .conftest import people_stage, states


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def reviewed(org, make_policy, file_task):
    make_policy([people_stage("Cost", [org.finance_head]), people_stage("Sign-off", [org.ceo])])
    return file_task(title="Buy <b>servers</b>")


def test_queue_page_and_deciding_through_the_panel(org, reviewed, client, login, review_of):
    login(client, org.finance_head)
    queue = client.get("/compliance/queue").get_data(as_text=True)
    assert "Buy &lt;b&gt;servers&lt;/b&gt;" in queue and "Cost" in queue
    page = client.get(f"/tasks/{reviewed.id}").get_data(as_text=True)
    assert 'id="compliance-review"' in page and "Waiting for: Fay Finance-Head" in page
    token = csrf(client, f"/tasks/{reviewed.id}")
    refused = client.post(f"/compliance/tasks/{reviewed.id}/review/decide",
                          data={"csrf_token": token, "decision": "reject", "comment": ""})
    assert refused.status_code == 422
    assert "Say why: a written reason is required." in refused.get_data(as_text=True)
    kept = client.post(f"/compliance/tasks/{reviewed.id}/review/decide",
                       data={"csrf_token": token, "decision": "approve", "override_reason": "Typed text stays"})
    assert kept.status_code == 422
    assert "Nothing to override" in kept.get_data(as_text=True) and "Typed text stays" in kept.get_data(as_text=True)
    approved = client.post(f"/compliance/tasks/{reviewed.id}/review/decide",
                           data={"csrf_token": token, "decision": "approve", "comment": "Fine."})
    assert approved.status_code == 302 and approved.location.endswith(f"/tasks/{reviewed.id}#compliance-review")
    assert states(review_of(reviewed)) == {"Cost": "approved", "Sign-off": "active"}
    page = client.get(f"/tasks/{reviewed.id}").get_data(as_text=True)
    assert "“Fine.”" in page and "Waiting for: Cleo CEO" in page
    # The task's history tells the review in words (the describe_task_event hook).
    assert "approved the stage “Cost”: “Fine.”" in page and "passed the stage “Cost”" in page
    assert "started the review “Purchases”" in page and "changed review" not in page
    assert client.get("/compliance/queue").get_data(as_text=True).count("servers") == 0
    history = client.get(f"/compliance/tasks/{reviewed.id}/review").get_data(as_text=True)
    assert "stage passed" in history and "review started" in history


def test_a_rejection_without_comment_keeps_what_was_typed(org, reviewed, client, login):
    login(client, org.finance_head)
    token = csrf(client, f"/tasks/{reviewed.id}")
    answer = client.post(f"/compliance/tasks/{reviewed.id}/review/decide",
                         data={"csrf_token": token, "decision": "approve", "comment": "x" * 5001})
    assert answer.status_code == 400
    assert "x" * 5001 in answer.get_data(as_text=True)  # shown again for correcting, nothing saved
    assert Review.get(Review.task_id == reviewed.id).status == "in_review"
    no_token = client.post(f"/compliance/tasks/{reviewed.id}/review/decide", data={"decision": "approve"})
    assert no_token.status_code == 400 and Decision.select().where(Decision.action == "approve").count() == 0


def test_pages_need_login_and_visibility(org, reviewed, client, login, make_user):
    assert client.get("/compliance/queue").status_code == 302
    login(client, make_user("agent"))
    assert client.get(f"/compliance/tasks/{reviewed.id}/review").status_code == 404
    assert client.get("/compliance/export").status_code == 403


def test_the_auditors_export_is_utf8_with_bom_and_escapes_formulas(org, make_policy, file_task, compliance, client,
                                                                   login, task_as):
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task(title="=cmd|' /C calc'!A0")
    compliance.decide(org.finance_head, task.id, "reject", "@SUM(1+1) — Ünïcødé, кирилица")
    task_as(org.ceo, permissions=["compliance.audit"])
    login(client, org.ceo)
    form = client.get("/compliance/export")
    assert form.status_code == 200 and 'name="since"' in form.get_data(as_text=True)
    bad = client.get("/compliance/export", query_string={"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 422 and "ends on or after its start" in bad.get_data(as_text=True)
    nonsense = client.get("/compliance/export", query_string={"since": "yesterday", "until": "9999-12-31"})
    assert nonsense.status_code == 400
    answer = client.get("/compliance/export", query_string={"since": "2000-01-01", "until": "2099-12-31"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == "attachment; filename=compliance-review-20000101-20991231.csv"
    raw = answer.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:7] == ["When (UTC)", "Task #", "Task", "Policy", "Round", "Stage", "Action"]
    reject = next(r for r in rows if r[6] == "reject")
    assert reject[2] == "'=cmd|' /C calc'!A0" and reject[12] == "'@SUM(1+1) — Ünïcødé, кирилица"
    assert reject[10] == "Fay Finance-Head" and reject[1] == str(task.number)
    assert {r[6] for r in rows[1:]} == {"started", "reject", "stage_rejected"}


def test_a_reviewer_named_like_a_formula_is_escaped_in_the_export(org, make_policy, file_task, compliance, client,
                                                                    login, task_as):
    evil = '=HYPERLINK("http://x","y")'
    User.update(name=evil).where(User.id == org.finance_head.id).execute()
    make_policy([people_stage("Cost", [org.finance_head])])
    task = file_task(title="Laptop")
    compliance.decide(User.get_by_id(org.finance_head.id), task.id, "approve", "fine")
    task_as(org.ceo, permissions=["compliance.audit"])
    login(client, org.ceo)
    answer = client.get("/compliance/export", query_string={"since": "2000-01-01", "until": "2099-12-31"})
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    approve = next(r for r in rows if r[6] == "approve")
    assert approve[10] == "'" + evil


def test_the_export_lists_the_overrides_and_expedites_of_the_period_flagged(org, make_policy, file_task, compliance,
                                                                            client, login, task_as):
    from .conftest import at
    make_policy([people_stage("Technical", [org.engineer]),
                 people_stage("Cost", [org.finance_head], skippable_when_urgent=True)])
    from workdesk import Membership
    Membership.create(user=org.engineer, department=org.ops)  # Eve also works Operations' tasks: she may be assigned
    task = file_task(priority="urgent", assignee_id=org.engineer.id)
    task_as(org.engineer, admin=True)
    compliance.decide(org.engineer, task.id, "approve", override_reason="Only one who knows it.",
                      now=at("2026-03-02T10:00Z"))
    task_as(org.ops_head, permissions=["compliance.expedite"])
    compliance.expedite(org.ops_head, task.id, "Outage.", now=at("2026-03-03T09:00Z"))
    task_as(org.ceo, permissions=["compliance.audit"])
    login(client, org.ceo)

    def export(since, until):
        answer = client.get("/compliance/export", query_string={"since": since, "until": until})
        assert answer.status_code == 200
        return [dict(zip(rows[0], row)) for rows in [list(csv.reader(io.StringIO(
            answer.get_data().decode("utf-8-sig"))))] for row in rows[1:]]
    march_2 = export("2026-03-02", "2026-03-02")
    assert [(r["Action"], r["Override"], r["By"], r["Reason"]) for r in march_2] == [
        ("approve", "true", "Eve Engineer", "Only one who knows it."), ("stage_approved", "false", "Eve Engineer", "")]
    march_3 = export("2026-03-03", "2026-03-03")
    assert [(r["Action"], r["Stage"], r["Expedite"], r["By"], r["Reason"]) for r in march_3] == [
        ("expedited", "Cost", "true", "Otto Ops-Head", "Outage."), ("completed", "", "false", "", "")]
    assert len(export("2026-03-01", "2026-03-31")) == 4  # the review's start, today, lies outside March


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_disabling_keeps_reviews_and_enabling_picks_up_what_was_filed_meanwhile(org, reviewed, make_policy, make_task,
                                                                                 drain_events, compliance, review_of):
    set_plugin_enabled("compliance_review", False)
    task_service.transition(org.reporter, reviewed.id, "open")
    task_service.transition(org.reporter, reviewed.id, "in_progress")
    filed_while_off = make_task(org.reporter, org.ops, type="purchase", title="Filed while off")
    drain_events()
    assert Review.select().count() == 1  # the plugin heard nothing while off
    set_plugin_enabled("compliance_review", True)
    assert states(review_of(reviewed)) == {"Cost": "active", "Sign-off": "waiting"}  # kept as it was
    assert review_of(Task.get_by_id(filed_while_off.id))["status"] == "in_review"  # started on enabling
    from workdesk import TransitionBlocked
    with pytest.raises(TransitionBlocked):
        task_service.transition(org.reporter, reviewed.id, "resolved")
    compliance.decide(org.finance_head, reviewed.id, "approve")
    assert states(review_of(reviewed)) == {"Cost": "approved", "Sign-off": "active"}


def test_admin_policy_and_stage_forms_validate(org, client, login):
    login(client, org.admin)
    new = "/admin/compliance_review/policies/new/"
    data = {"csrf_token": csrf(client, new), "name": "Hiring", "description": "", "active": "y", "position": "0",
            "match_types": "hire, contract", "match_departments": str(org.ops.id), "match_priorities": "high",
            "match_impacts": "", "match_fields": "location = Sofia, Paris\nnot a line", "restart_from": "first_stage",
            "distinct_approvers": "y"}
    page = client.post(new, data=data).get_data(as_text=True)
    assert "Line 2: write “field = value, other value”." in page and Policy.select().count() == 0
    assert client.post(new, data={**data, "match_fields": "location = Sofia, Paris"}).status_code == 302
    policy = Policy.get(Policy.name == "Hiring")
    assert (policy.match_types, policy.match_department_ids, policy.match_fields) == (
        ["hire", "contract"], [org.ops.id], {"location": ["Sofia", "Paris"]})
    stages = "/admin/compliance_review/stages/new/?policy_id=" + str(policy.id)
    form = client.get(stages).get_data(as_text=True)
    assert f'<option selected value="{policy.id}">' in form or f'value="{policy.id}" selected' in form
    stage = {"csrf_token": csrf(client, stages), "policy_id": str(policy.id), "step": "1", "name": "HR",
             "approver_kind": "role", "approver_role": "agent", "approver_department_id": "", "pass_rule": "all",
             "timeout_action": ""}
    refused = client.post(stages, data=stage).get_data(as_text=True)
    assert "does not grant compliance.review" in refused and PolicyStage.select().count() == 0
    created = client.post(stages, data={**stage, "approver_kind": "department_head",
                                        "approver_department_id": str(org.ops.id), "approver_role": ""})
    assert created.status_code == 302 and PolicyStage.get().approver_department_id == org.ops.id
    listing = client.get(f"/admin/compliance_review/stages/?policy_id={policy.id}").get_data(as_text=True)
    assert "Head of a named department" in listing


def test_admin_views_need_compliance_manage(org, client, login, make_user, task_as):
    from workdesk.services.users import create_role
    create_role(None, name="helpdesk-admin", permissions=["admin.access", "task.view_all"])
    login(client, make_user("helpdesk-admin"))
    assert client.get("/admin/compliance_review/policies/").status_code == 403
    login(client, make_user("agent"))
    assert client.get("/admin/compliance_review/policies/").status_code == 403
