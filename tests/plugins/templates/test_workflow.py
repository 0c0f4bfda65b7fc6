"""Due offsets on the department's calendar, the checklist veto, the impact × urgency matrix and its override,
the accountable person's acceptance and return, RACI notifications, a recurring rule filing from a template,
and switching the plugin off and on again."""
from __future__ import annotations

import pytest

from workdesk import Notification, Task, TaskEvent, ValidationFailed, services

from .conftest import BOTH_DATABASES, at

GOOD = {"category": "hardware"}


def file(actor, template, **values):
    return services.tasks.create_task(actor, title="Ana", department_id=template.department_id,
                                      template_id=template.id, fields={**GOOD, **values.pop("fields", {})}, **values)


def walk_to(actor, task, *statuses):
    for status in statuses:
        task = services.tasks.transition(actor, task.id, status)
    return task


# -- due offsets -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset,unit,start,due", [
    # Friday 15:00 Sofia + 3 working days: Mon, Tue, Wed -> Wednesday 17:00 Sofia (15:00 UTC).
    (3, "working_days", "2026-12-04T13:00Z", "2026-12-09T15:00Z"),
    # Tuesday 22 December + 3 working days skips Thursday 24 (holiday) and the weekend: Wed 23, Fri 25, Mon 28.
    (3, "working_days", "2026-12-22T08:00Z", "2026-12-28T15:00Z"),
    # Saturday + 0 working days: the next working day's end.
    (0, "working_days", "2026-12-05T10:00Z", "2026-12-07T15:00Z"),
    # Friday 16:00 Sofia + 4 working hours: 1 h on Friday, 3 h on Monday from 09:00 -> 12:00 Sofia (10:00 UTC).
    (4, "working_hours", "2026-12-04T14:00Z", "2026-12-07T10:00Z"),
    # Wednesday 23 December 16:00 + 2 working hours: 1 h on the 23rd, the 24th is a holiday -> Friday 10:00.
    (2, "working_hours", "2026-12-23T14:00Z", "2026-12-25T08:00Z"),
])
def test_due_offsets_follow_the_department_calendar(templates, org, offset, unit, start, due):
    template = templates.create_template(None, {"name": f"Due {offset} {unit}", "department_id": org.it.id,
                                                 "due_offset": offset, "due_unit": unit})
    assert templates.due_at(template, org.it, at(start)) == at(due)


def test_due_offset_without_a_calendar_counts_plain_days(templates, make_department):
    plain = make_department("No calendar")
    template = templates.create_template(None, {"name": "Plain", "department_id": plain.id, "due_offset": 2})
    assert templates.due_at(template, plain, at("2026-12-05T10:00Z")) == at("2026-12-07T10:00Z")


# -- the checklist veto -------------------------------------------------------------------------------------

@BOTH_DATABASES
def test_checklist_must_be_complete_before_resolving(api_client, org, onboarding, drain_events):
    task = file(org.agent, onboarding)
    client = api_client(user=org.agent)
    for status in ("open", "in_progress"):
        assert client.patch(f"/api/v1/tasks/{task.id}", json={"status": status}).status_code == 200
    refused = client.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "transition_blocked"
    assert refused.json["error"]["message"] == ("Task templates blocks this change: The checklist is not complete. "
                                                "Still open: Order the laptop; Install the image.")
    drain_events()
    items = client.get(f"/api/v1/templates/tasks/{task.id}").json["checklist"]
    ticked = client.patch(f"/api/v1/templates/tasks/{task.id}/checklist/{items[0]['id']}", json={"done": True})
    assert ticked.status_code == 200 and ticked.json["done_by_id"] == org.agent.id and ticked.json["done_at"]
    refused = client.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"})
    assert refused.status_code == 409 and refused.json["error"]["message"].endswith("Still open: Install the image.")
    client.patch(f"/api/v1/templates/tasks/{task.id}/checklist/{items[1]['id']}", json={"done": True})
    assert client.patch(f"/api/v1/tasks/{task.id}", json={"status": "resolved"}).status_code == 200
    kinds = [e.kind for e in TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)]
    assert kinds.count("templates.checked") == 2


def test_checklist_veto_holds_before_the_filing_event_ran(org, onboarding):
    task = walk_to(org.agent, file(org.agent, onboarding), "open", "in_progress")
    from workdesk import TransitionBlocked
    with pytest.raises(TransitionBlocked, match="Still open: Order the laptop; Install the image"):
        services.tasks.transition(org.agent, task.id, "resolved")


def test_a_stranger_cannot_tick(api_client, org, onboarding, drain_events, make_user, make_department):
    task = file(org.agent, onboarding)
    drain_events()
    outsider = make_user("agent", departments=[make_department("Elsewhere")])
    item = api_client(user=org.agent).get(f"/api/v1/templates/tasks/{task.id}").json["checklist"][0]
    response = api_client(user=outsider).patch(f"/api/v1/templates/tasks/{task.id}/checklist/{item['id']}",
                                               json={"done": True})
    assert response.status_code == 404


# -- the matrix ----------------------------------------------------------------------------------------------

@BOTH_DATABASES
def test_priority_follows_the_matrix_and_a_manual_override_is_audited(api_client, org, templates):
    client = api_client(user=org.agent)
    task = client.post("/api/v1/tasks", json={"title": "Printer", "department_id": org.it.id, "impact": "high",
                                              "fields": {"urgency": "medium"}}).json
    assert task["priority"] == "high"
    changed = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {"urgency": "high"}}).json
    assert changed["priority"] == "urgent"
    overridden = client.patch(f"/api/v1/tasks/{task['id']}", json={"priority": "low"})
    assert overridden.status_code == 200 and overridden.json["priority"] == "low"
    assert overridden.json["plugins"]["templates"]["priority_override"] is True
    event = TaskEvent.get((TaskEvent.task_id == task["id"]) & (TaskEvent.kind == "templates.priority_override"))
    assert event.changes == {"priority": ["urgent", "low"]} and event.actor_id == org.agent.id
    # A new assessment derives the priority again and ends the override.
    again = client.patch(f"/api/v1/tasks/{task['id']}", json={"impact": "low"}).json
    assert again["priority"] == "normal" and again["plugins"]["templates"]["priority_override"] is False
    bad = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {"urgency": "extreme"}})
    assert bad.status_code == 422 and bad.json["error"]["fields"] == {
        "fields.urgency": ["Must be one of: low, medium, high."]}


def test_admin_edits_the_matrix(api_client, org, templates):
    admin = api_client(user=org.admin)
    assert api_client(user=org.agent).put("/api/v1/templates/matrix", json={"cells": []}).status_code == 403
    saved = admin.put("/api/v1/templates/matrix", json={"cells": [
        {"impact": "low", "urgency": "low", "priority": "normal"}]})
    assert saved.status_code == 200
    assert {"impact": "low", "urgency": "low", "priority": "normal"} in saved.json["cells"]
    twice = admin.put("/api/v1/templates/matrix", json={"cells": [
        {"impact": "low", "urgency": "low", "priority": "normal"}, {"impact": "low", "urgency": "low", "priority": "low"}]})
    assert twice.status_code == 422 and "cells.1" in twice.json["error"]["fields"]
    wrong = admin.put("/api/v1/templates/matrix", json={"cells": [{"impact": "low", "urgency": "low", "priority": "p1"}]})
    assert wrong.status_code == 422
    task = services.tasks.create_task(org.agent, title="Mouse", department_id=org.it.id, impact="low",
                                      fields={"urgency": "low"})
    assert task.priority == "normal"


def test_matrix_off_leaves_priorities_alone(org, templates, enable_plugin):
    from workdesk.registry import save_plugin_settings
    save_plugin_settings("templates", {"matrix_enabled": False})
    task = services.tasks.create_task(org.agent, title="Mouse", department_id=org.it.id, impact="high",
                                      fields={"urgency": "high"})
    assert task.priority == "normal"


def test_filing_with_a_priority_other_than_the_matrix_is_an_override(org, templates, drain_events):
    task = services.tasks.create_task(org.agent, title="VIP", department_id=org.it.id, impact="low",
                                      priority="urgent", fields={"urgency": "low"})
    assert task.priority == "urgent" and task.fields["priority_override"] is True
    drain_events()
    drain_events()
    events = list(TaskEvent.select().where((TaskEvent.task_id == task.id)
                                           & (TaskEvent.kind == "templates.priority_override")))
    assert len(events) == 1 and events[0].changes == {"priority": ["low", "urgent"]}


# -- accountable acceptance and RACI notifications ------------------------------------------------------------

def _notes(user, kind):
    return list(Notification.select().where((Notification.recipient == user) & (Notification.kind == kind)))


@BOTH_DATABASES
def test_accountable_accepts_or_returns_the_result(api_client, org, onboarding, drain_events):
    task = file(org.agent, onboarding)
    drain_events()
    agent, boss = api_client(user=org.agent), api_client(user=org.boss)
    for item in agent.get(f"/api/v1/templates/tasks/{task.id}").json["checklist"]:
        agent.patch(f"/api/v1/templates/tasks/{task.id}/checklist/{item['id']}", json={"done": True})
    walk_to(org.agent, task, "open", "in_progress", "resolved")
    drain_events()
    assert len(_notes(org.boss, "templates.acceptance")) == 1
    closing = agent.patch(f"/api/v1/tasks/{task.id}", json={"status": "closed"})
    assert closing.status_code == 409 and "Bo Boss is accountable for this task" in closing.json["error"]["message"]
    assert agent.post(f"/api/v1/templates/tasks/{task.id}/accept").status_code == 403  # only the accountable
    assert boss.get(f"/api/v1/tasks/{task.id}").json["plugins"]["templates"]["raci"]["awaiting_acceptance"] is True

    no_reason = boss.post(f"/api/v1/templates/tasks/{task.id}/return", json={"reason": ""})
    assert no_reason.status_code == 422
    returned = boss.post(f"/api/v1/templates/tasks/{task.id}/return", json={"reason": "Wrong keyboard layout"})
    assert returned.status_code == 200 and returned.json["status"] == "open"
    drain_events()
    note = _notes(org.agent, "templates.returned")
    assert len(note) == 1 and note[0].body == "Wrong keyboard layout"
    assert boss.post(f"/api/v1/templates/tasks/{task.id}/accept").status_code == 409  # not resolved now

    walk_to(org.agent, Task.get_by_id(task.id), "in_progress", "resolved")
    accepted = boss.post(f"/api/v1/templates/tasks/{task.id}/accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "closed"
    kinds = [e.kind for e in TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)]
    assert "templates.returned" in kinds and "templates.accepted" in kinds
    # Reopened and resolved again, the earlier acceptance does not count.
    walk_to(org.admin, Task.get_by_id(task.id), "open", "in_progress", "resolved")
    assert agent.patch(f"/api/v1/tasks/{task.id}", json={"status": "closed"}).status_code == 409


@BOTH_DATABASES
def test_raci_notifications(api_client, org, onboarding, templates, drain_events):
    # other_agent and admin see the task through their department; auditor and requester cannot, so they are
    # made watchers: the consulted auditor an ordinary one (the core tells them itself), the informed requester
    # a quiet one (the core tells them nothing; the plugin tells them of status changes only).
    templates.update_template(None, onboarding.id, {"consulted_ids": [org.other_agent.id, org.auditor.id],
                                                    "informed_ids": [org.admin.id, org.requester.id]})
    task = file(org.agent, onboarding)
    drain_events()
    # Consulted people are asked for their input once.
    for person in (org.other_agent, org.auditor):
        asked = _notes(person, "templates.input_asked")
        assert len(asked) == 1 and asked[0].subject == f"Your input is asked on #{task.number} {task.title}"
    assert _notes(org.admin, "templates.input_asked") == []
    services.tasks.add_comment(org.agent, task.id, "Which model?")
    services.tasks.transition(org.agent, task.id, "open")
    drain_events()
    # Consulted: comments, not status changes. Informed: status changes, not comments.
    assert [n.body for n in _notes(org.other_agent, "templates.consulted")] == ["Which model?"]
    assert _notes(org.other_agent, "templates.informed") == [] and _notes(org.other_agent, "task.status_changed") == []
    informed = _notes(org.admin, "templates.informed")
    assert len(informed) == 1 and informed[0].subject.endswith("is now Open")
    assert _notes(org.admin, "templates.consulted") == [] and _notes(org.admin, "task.commented") == []
    # A watcher hears once, from the core, not a second time from the role.
    assert len(_notes(org.auditor, "task.commented")) == 1 and _notes(org.auditor, "templates.consulted") == []
    # The informed outsider hears of the status change only, once, and never of comments.
    informed = _notes(org.requester, "templates.informed")
    assert len(informed) == 1 and informed[0].subject.endswith("is now Open")
    assert _notes(org.requester, "task.status_changed") == [] and _notes(org.requester, "task.commented") == []
    # An internal note reaches consulted people who work tasks.
    services.tasks.add_comment(org.agent, task.id, "Budget is tight", internal=True)
    drain_events()
    assert sorted(n.body for n in _notes(org.other_agent, "templates.consulted")) == ["Budget is tight", "Which model?"]
    drain_events()  # a redelivery tells nobody twice
    assert len(_notes(org.admin, "templates.informed")) == 1
    assert len(_notes(org.other_agent, "templates.input_asked")) == 1
    assert len(_notes(org.requester, "templates.informed")) == 1 and _notes(org.requester, "task.commented") == []
    # People given a role could not see the task before: they watch it now (the informed one quietly).
    from workdesk import TaskWatcher
    watchers = {w.user_id: w.quiet for w in TaskWatcher.select().where(TaskWatcher.task == task.id)}
    assert watchers == {org.auditor.id: False, org.requester.id: True, org.boss.id: False}
    assert api_client(user=org.requester).get(f"/api/v1/tasks/{task.id}").status_code == 200


def test_department_default_roles_and_setting_roles(api_client, org, templates, drain_events):
    admin = api_client(user=org.admin)
    saved = admin.put(f"/api/v1/templates/departments/{org.it.id}/roles",
                      json={"accountable_id": org.boss.id, "informed_ids": [org.requester.id]})
    assert saved.status_code == 200 and saved.json["accountable_id"] == org.boss.id
    task = services.tasks.create_task(org.agent, title="Plain", department_id=org.it.id)
    drain_events()
    raci = api_client(user=org.agent).get(f"/api/v1/tasks/{task.id}").json["plugins"]["templates"]["raci"]
    assert raci["accountable_id"] == org.boss.id and raci["informed_ids"] == [org.requester.id]
    changed = api_client(user=org.agent).put(f"/api/v1/templates/tasks/{task.id}/roles",
                                             json={"consulted_ids": [org.auditor.id]})
    assert changed.status_code == 200 and changed.json["consulted_ids"] == [org.auditor.id]
    assert len(_notes(org.auditor, "templates.input_asked")) == 1
    again = api_client(user=org.agent).put(f"/api/v1/templates/tasks/{task.id}/roles",
                                           json={"consulted_ids": [org.auditor.id, org.other_agent.id]})
    assert again.status_code == 200
    assert len(_notes(org.auditor, "templates.input_asked")) == 1  # asked once, not again for someone else
    assert len(_notes(org.other_agent, "templates.input_asked")) == 1
    unknown = api_client(user=org.agent).put(f"/api/v1/templates/tasks/{task.id}/roles",
                                             json={"accountable_id": 999999})
    assert unknown.status_code == 422 and unknown.json["error"]["fields"] == {
        "accountable_id": ["No active user with id 999999."]}


# -- recurring rules, enabling and disabling --------------------------------------------------------------------

@BOTH_DATABASES
def test_a_recurring_rule_files_from_a_template(org, onboarding, enable_plugin, drain_events):
    enable_plugin("recurring")
    from workdesk.jobs import run_due_jobs
    from workdesk.plugins.recurring import services as recurring
    rule = recurring.create_rule(org.admin, {
        "title": "Monthly starter", "department_id": org.it.id, "dtstart": "2027-01-04T09:00",
        "rrule": "FREQ=MONTHLY;BYMONTHDAY=4", "timezone": "Europe/Sofia",
        "fields": {"template_id": onboarding.id, "category": "software"}}, now=at("2027-01-01T00:00Z"))
    run_due_jobs(at("2027-01-04T07:00Z"), force=True)
    drain_events()
    task = Task.get(Task.title.startswith("Laptop for Monthly starter"))
    assert task.fields == {"template_id": onboarding.id, "category": "software"}
    assert task.priority == "high" and task.description == "Model:\nDelivery address:"
    # +3 working days from when it was filed, at the end of that working day in Sofia
    assert task.due_at == onboarding_due(onboarding, org, task)
    data = services.tasks.plugin_data(task, org.admin)["templates"]
    assert len(data["checklist"]) == 2 and data["raci"]["accountable_id"] == org.boss.id
    assert rule.id


def onboarding_due(template, org, task):
    from workdesk.plugins.templates.services import due_at
    return due_at(template, org.it, task.created_at)


@BOTH_DATABASES
def test_disable_and_enable_keep_the_data(api_client, org, onboarding, drain_events, enable_plugin):
    from workdesk.registry import set_plugin_enabled
    task = file(org.agent, onboarding)
    drain_events()
    client = api_client(user=org.agent)
    item = client.get(f"/api/v1/templates/tasks/{task.id}").json["checklist"][0]
    client.patch(f"/api/v1/templates/tasks/{task.id}/checklist/{item['id']}", json={"done": True})
    set_plugin_enabled("templates", False)
    off = client.get(f"/api/v1/tasks/{task.id}").json
    assert "templates" not in off["plugins"] and off["fields"]["category"] == "hardware"
    assert client.get(f"/api/v1/templates/tasks/{task.id}").status_code == 404
    # While it is off nothing gates the work.
    assert walk_to(org.agent, task, "open", "in_progress", "resolved", "closed").status == "closed"
    enable_plugin("templates")
    data = client.get(f"/api/v1/tasks/{task.id}").json["plugins"]["templates"]
    assert data["template_id"] == onboarding.id and data["checklist"][0]["done"] is True
    assert data["raci"]["accountable_id"] == org.boss.id
    assert client.get("/api/v1/templates").json["items"][0]["name"] == "New laptop"


def test_recurring_rule_admin_page_takes_a_template(client, login, org, templates, every_field, enable_plugin,
                                                    drain_events):
    """The recurring rule form's template box becomes the rule's fields.template_id; its occurrences are filed
    from the template; clearing the box keeps the rule's other fields."""
    enable_plugin("recurring")
    import re
    from workdesk.jobs import run_due_jobs
    from workdesk.plugins.recurring import services as recurring
    from workdesk.plugins.recurring.models import Rule
    weekly = templates.create_template(None, {
        "name": "Weekly check", "department_id": org.it.id, "title_pattern": "{title} of {department}",
        "priority": "low", "checklist": ["Printers", "Badges"], "field_keys": ["cost"]})
    login(client, org.admin)
    url = "/admin/recurring/rules/new/"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "title": "Weekly check", "description": "", "department_id": str(org.it.id),
            "template_id": str(weekly.id), "priority": "normal", "type": "task", "due_after_minutes": "",
            "assign_mode": "proposal", "assignee_ids": "", "watcher_ids": "", "timezone": "Europe/Sofia",
            "dtstart": "2027-01-04T09:00", "rrule": "FREQ=WEEKLY;BYDAY=MO", "exdates": "", "anchor": "schedule",
            "non_working_day": "create", "catch_up": "latest", "catch_up_limit": "10"}
    created = client.post(url, data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    rule = Rule.get(Rule.title == "Weekly check")
    assert rule.fields == {"template_id": weekly.id}
    edit = f"/admin/recurring/rules/edit/?id={rule.id}"
    box = re.search(r'<input[^>]*name="template_id"[^>]*>', client.get(edit).get_data(as_text=True)).group(0)
    assert f'value="{weekly.id}"' in box  # prefilled from the rule's fields
    run_due_jobs(at("2027-01-04T07:00Z"), force=True)
    drain_events()
    task = Task.get(Task.title == "Weekly check of IT Support")
    assert task.priority == "low" and task.fields == {"template_id": weekly.id}
    assert [i["text"] for i in services.tasks.plugin_data(task, org.admin)["templates"]["checklist"]] == [
        "Printers", "Badges"]
    recurring.update_rule(org.admin, rule.id, {"fields": {"template_id": weekly.id, "cost": 3}})
    cleared = client.post(edit, data={**data, "template_id": ""})
    assert cleared.status_code == 302
    assert Rule.get_by_id(rule.id).fields == {"cost": 3}


@BOTH_DATABASES
def test_a_recurring_rule_with_a_wrong_template_is_refused_when_saved(api_client, org, onboarding, templates,
                                                                      enable_plugin):
    """An unknown or inactive template, or a required field of it left out, is a 422 naming the rule's field
    when the rule is saved (API and service), not a failure at each occurrence."""
    enable_plugin("recurring")
    from workdesk.plugins.recurring import services as recurring
    from workdesk.plugins.recurring.models import Rule
    client = api_client(user=org.admin)
    rule = {"title": "Monthly starter", "department_id": org.it.id, "dtstart": "2027-01-04T09:00",
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=4", "timezone": "Europe/Sofia"}
    unknown = client.post("/api/v1/recurring/rules", json={**rule, "fields": {"template_id": 4242}})
    assert unknown.status_code == 422 and unknown.json["error"]["fields"] == {
        "fields.template_id": ["No active template with id 4242."]}
    missing = client.post("/api/v1/recurring/rules", json={**rule, "fields": {"template_id": onboarding.id}})
    assert missing.status_code == 422 and list(missing.json["error"]["fields"]) == ["fields.category"]
    wrong_type = client.post("/api/v1/recurring/rules", json={**rule, "fields": {"template_id": onboarding.id,
                                                                                  "category": "sofa"}})
    assert wrong_type.status_code == 422 and list(wrong_type.json["error"]["fields"]) == ["fields.category"]
    assert Rule.select().count() == 0
    good = client.post("/api/v1/recurring/rules", json={**rule, "fields": {"template_id": onboarding.id,
                                                                           "category": "software"}})
    assert good.status_code == 201, good.json
    # A change is checked the same way, and a template switched off since refuses the next edit.
    changed = client.patch(f"/api/v1/recurring/rules/{good.json['id']}", json={"fields": {"template_id": 4242}})
    assert changed.status_code == 422 and list(changed.json["error"]["fields"]) == ["fields.template_id"]
    templates.update_template(None, onboarding.id, {"active": False})
    with pytest.raises(ValidationFailed) as refused:
        recurring.update_rule(org.admin, good.json["id"], {"title": "Starter"})
    assert list(refused.value.fields) == ["fields.template_id"]
    # Nothing was filed by the checks.
    assert Task.select().count() == 0


def test_the_recurring_admin_form_refuses_a_wrong_template(client, login, org, onboarding, enable_plugin):
    enable_plugin("recurring")
    import re
    from workdesk.plugins.recurring.models import Rule
    login(client, org.admin)
    url = "/admin/recurring/rules/new/"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "title": "Weekly check", "description": "", "department_id": str(org.it.id),
            "template_id": "4242", "priority": "normal", "type": "task", "due_after_minutes": "",
            "assign_mode": "proposal", "assignee_ids": "", "watcher_ids": "", "timezone": "Europe/Sofia",
            "dtstart": "2027-01-04T09:00", "rrule": "FREQ=WEEKLY;BYDAY=MO", "exdates": "", "anchor": "schedule",
            "non_working_day": "create", "catch_up": "latest", "catch_up_limit": "10"}
    unknown = client.post(url, data=data)
    page = unknown.get_data(as_text=True)
    assert unknown.status_code == 200 and "No active template with id 4242." in page
    box = page.index('name="template_id"')
    assert "No active template with id 4242." in page[box - 2000:box + 2000]  # beside the template box
    missing = client.post(url, data={**data, "template_id": str(onboarding.id)})
    assert missing.status_code == 200 and "category: This field is required." in missing.get_data(as_text=True)
    assert Rule.select().count() == 0
