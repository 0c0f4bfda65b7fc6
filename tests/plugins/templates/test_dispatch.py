"""Dispatch batches filing from a template: one task per member through the API and one per team through the
dispatch service, each with the template's title pattern, defaults, typed-field checks, checklist and due
offset; a wrong template reference is a 422 naming the field."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from workdesk import Task, services

from .conftest import BOTH_DATABASES


@pytest.fixture
def dispatch(enable_plugin, templates):
    enable_plugin("dispatch")
    from workdesk.plugins.dispatch import batch
    return batch


def checklist(task, viewer):
    return [item["text"] for item in services.tasks.plugin_data(task, viewer)["templates"]["checklist"]]


@BOTH_DATABASES
def test_a_batch_per_member_files_from_a_template(api_client, org, onboarding, dispatch, drain_events):
    client = api_client(user=org.admin)
    sent = client.post("/api/v1/dispatch/batch", json={
        "template": {"title": "Ana", "template_id": onboarding.id, "fields": {"category": "software"}},
        "department_ids": [org.it.id], "per": "member"})
    assert sent.status_code == 201, sent.json
    assert {t["assignee_id"] for t in sent.json["created"]} == {org.admin.id, org.agent.id, org.other_agent.id}
    drain_events()  # the filing events store the checklists and the roles
    tasks = list(Task.select().where(Task.id.in_([t["id"] for t in sent.json["created"]])))
    assert len(tasks) == 3
    for task in tasks:
        assert task.title.startswith("Laptop for Ana (20") and "-W" in task.title
        assert task.fields == {"template_id": onboarding.id, "category": "software"}
        assert (task.priority, task.type, task.description) == ("high", "request", "Model:\nDelivery address:")
        assert task.due_at == templates_due(onboarding, org, task)
        assert checklist(task, org.admin) == ["Order the laptop", "Install the image"]
        roles = services.tasks.plugin_data(task, org.admin)["templates"]["raci"]
        assert roles["responsible_id"] == task.assignee_id and roles["accountable_id"] == org.boss.id


@BOTH_DATABASES
def test_a_batch_per_team_files_from_a_template_without_its_own_title(org, templates, every_field, dispatch,
                                                                      make_department,
                                                                      drain_events):
    desk = make_department("Front Desk")
    weekly = templates.create_template(None, {
        "name": "Weekly check", "department_id": org.it.id, "title_pattern": "Weekly check of {department} ({week})",
        "priority": "low", "due_offset": 2, "due_unit": "working_days", "checklist": ["Printers", "Badges"],
        "field_keys": ["cost"]})
    result = dispatch.run(org.admin, {"template": {"template_id": weekly.id, "fields": {"cost": 12.5}},
                                      "department_ids": [org.it.id, desk.id], "per": "team"})
    drain_events()
    tasks = {t.department_id: t for t in Task.select().where(Task.id.in_([c["id"] for c in result["created"]]))}
    assert set(tasks) == {org.it.id, desk.id}
    for department, task in ((org.it, tasks[org.it.id]), (desk, tasks[desk.id])):
        assert task.title.startswith(f"Weekly check of {department.name} (20")
        assert task.priority == "low" and task.fields == {"template_id": weekly.id, "cost": 12.5}
        assert checklist(task, org.admin) == ["Printers", "Badges"]
    # the template's due offset: +2 working days on IT's calendar (the end of that working day), plain days at
    # the desk (without a calendar, counted from the moment of filing)
    assert tasks[org.it.id].due_at == templates.due_at(weekly, org.it, tasks[org.it.id].created_at)
    plain = tasks[desk.id]
    assert abs(plain.due_at - (plain.created_at + dt.timedelta(days=2))) < dt.timedelta(minutes=1)


@BOTH_DATABASES
def test_a_batch_with_a_wrong_template_or_field_is_refused_naming_the_field(api_client, org, onboarding, dispatch):
    client = api_client(user=org.admin)

    def send(template, per="member"):
        return client.post("/api/v1/dispatch/batch", json={"template": template, "department_ids": [org.it.id],
                                                           "per": per})

    unknown = send({"title": "Ana", "template_id": 999999})
    assert unknown.status_code == 422, unknown.json
    assert unknown.json["error"]["fields"] == {"template.template_id": ["No active template with id 999999."]}
    # the same reference given as the custom field it travels as
    assert send({"title": "Ana", "fields": {"template_id": 999999}}, per="team").json["error"]["fields"] == {
        "template.template_id": ["No active template with id 999999."]}
    not_an_id = send({"title": "Ana", "template_id": "x"})
    assert not_an_id.status_code == 422 and list(not_an_id.json["error"]["fields"]) == ["template.template_id"]
    required = send({"title": "Ana", "template_id": onboarding.id})
    assert required.status_code == 422 and set(required.json["error"]["fields"]) == {"template.fields.category"}
    wrong = send({"title": "Ana", "template_id": onboarding.id, "fields": {"category": "furniture", "cost": "a"}})
    assert wrong.status_code == 422
    assert set(wrong.json["error"]["fields"]) == {"template.fields.category", "template.fields.cost"}
    assert wrong.json["error"]["fields"]["template.fields.cost"] == ["Must be a number."]
    assert send({"title": ""}).json["error"]["fields"] == {"template.title": ["Between 1 and 200 characters."]}
    inactive = templates_update(onboarding, active=False)
    assert send({"title": "Ana", "template_id": inactive.id, "fields": {"category": "software"}}).json["error"][
        "fields"] == {"template.template_id": [f"No active template with id {inactive.id}."]}
    assert Task.select().count() == 0  # all or nothing


def test_the_admin_batch_page_files_from_a_template(client, login, org, onboarding, dispatch):
    login(client, org.admin)
    page = "/admin/dispatch/batch/"
    html = client.get(page).get_data(as_text=True)
    token = (re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or
             re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)).group(1)
    form = {"csrf_token": token, "title": "Ana", "priority": "normal", "department_ids": str(org.it.id),
            "per": "team", "template_id": "999999"}
    refused = client.post(page, data=form)
    assert refused.status_code == 200 and "No active template with id 999999." in refused.get_data(as_text=True)
    assert Task.select().count() == 0
    sent = client.post(page, data={**form, "template_id": str(onboarding.id)})
    # the required custom field cannot be given on the page: the template's check names it
    assert "category: This field is required." in sent.get_data(as_text=True) and Task.select().count() == 0
    from workdesk.plugins.templates.models import FieldDefinition
    FieldDefinition.update(required=False).where(FieldDefinition.key == "category").execute()
    sent = client.post(page, data={**form, "template_id": str(onboarding.id)})
    assert sent.status_code == 200 and "Tasks created: 1." in sent.get_data(as_text=True)
    task = Task.get()
    assert task.title.startswith("Laptop for Ana (") and task.fields == {"template_id": onboarding.id}


def templates_due(template, org, task):
    from workdesk.plugins.templates.services import due_at
    return due_at(template, org.it, task.created_at)


def templates_update(template, **values):
    from workdesk.plugins.templates.services import update_template
    return update_template(None, template.id, values)
