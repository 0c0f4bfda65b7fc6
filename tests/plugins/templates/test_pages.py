"""The pages: the template picker beside quick create and on the full form, the template's filing form with
each field type's check next to the field, the task page's panel (values, checklist, roles, accept and return),
and the admin views with their validation."""
from __future__ import annotations

import html
import re

import pytest

from workdesk import Notification, Task, TaskEvent, services

from .conftest import BOTH_DATABASES


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_picker_beside_quick_create_and_on_the_full_form(client, login, org, onboarding):
    login(client, org.agent)
    home = client.get("/").get_data(as_text=True)
    assert 'id="template-quick"' in home and "New laptop · IT Support" in home
    full = client.get("/tasks/new").get_data(as_text=True)
    assert 'id="template-choose"' in full
    chosen = client.get(f"/templates/file?template_id={onboarding.id}&title=Ana")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith(f"/templates/file/{onboarding.id}?title=Ana")
    assert client.get("/templates/file?template_id=99999").status_code == 302


def test_quick_picker_files_at_once_or_opens_the_form(client, login, org, templates, onboarding):
    simple = templates.create_template(None, {"name": "Password reset", "department_id": org.it.id,
                                              "title_pattern": "Password reset: {title}"})
    login(client, org.agent)
    token = csrf(client, "/")
    filed = client.post("/templates/quick", data={"csrf_token": token, "title": "Ana", "template_id": simple.id})
    task = Task.get(Task.title == "Password reset: Ana")
    assert filed.status_code == 302 and filed.headers["Location"].endswith(f"/tasks/{task.id}")
    # A template with a required field opens its form, keeping the title.
    form = client.post("/templates/quick", data={"csrf_token": token, "title": "Bo", "template_id": onboarding.id})
    assert form.headers["Location"].endswith(f"/templates/file/{onboarding.id}?title=Bo")
    without = client.post("/templates/quick", data={"title": "x", "template_id": simple.id})
    assert without.status_code in (302, 400) and not Task.select().where(Task.title == "Password reset: x").exists()


@pytest.mark.parametrize("name,value,message", [
    ("f_cost", "a lot", "Must be a number."),
    ("f_needed_by", "31.12.2026", "Must be a date written YYYY-MM-DD."),
    ("f_link", "www.example.com", "Must be an http or https address."),
    ("f_category", "furniture", "Must be one of: hardware, software."),
    ("f_manager", "abc", "Must be the id of an active person."),
    ("f_category", "", "This field is required."),
    ("f_summary", "x" * 501, "Must be text of at most 500 characters."),
    ("f_details", "y" * 20001, "Must be text of at most 20000 characters."),
    ("f_systems", ["mail", "fax"], "Must be a list of different values from: mail, vpn, erp."),
])
def test_filing_form_shows_each_check_next_to_its_field(client, login, org, onboarding, name, value, message):
    login(client, org.agent)
    token = csrf(client, f"/templates/file/{onboarding.id}")
    data = {"csrf_token": token, "title": "Ana", "description": "", "f_category": "hardware", name: value}
    response = client.post(f"/templates/file/{onboarding.id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    block = html[html.index(f'data-field="{name[2:]}"'):]
    block = block[:block.index("</div>")]
    assert message in block
    assert not Task.select().where(Task.title.contains("Ana")).exists()


@BOTH_DATABASES
def test_filing_form_files_and_the_panel_shows_everything(client, login, org, onboarding, drain_events):
    login(client, org.agent)
    token = csrf(client, f"/templates/file/{onboarding.id}")
    response = client.post(f"/templates/file/{onboarding.id}", data={
        "csrf_token": token, "title": "Ana <b>", "description": "Model: X1", "impact": "high", "urgency": "high",
        "f_cost": "1299,50", "f_needed_by": "2026-12-01", "f_category": "hardware", "f_systems": ["mail", "vpn"],
        "f_manager": str(org.boss.id), "f_link": "https://shop.example.com/x1", "f_summary": "Standard kit"})
    assert response.status_code == 302, response.get_data(as_text=True)
    task = Task.get(Task.title.startswith("Laptop for Ana"))
    assert task.fields["cost"] == 1299.5 and task.fields["systems"] == ["mail", "vpn"]
    assert task.fields["manager"] == org.boss.id and task.priority == "urgent" and task.impact == "high"
    drain_events()
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="templates-panel"' in page and "Filed from the template New laptop." in page
    assert '<dd data-field="manager">Bo Boss</dd>' in page and '<dd data-field="systems">mail, vpn</dd>' in page
    assert "Laptop for Ana &lt;b&gt;" in page
    assert '<dd data-role="accountable">Bo Boss' in page and '<dd data-role="consulted">Cy Auditor</dd>' in page
    assert 'data-item="Order the laptop" data-done="0"' in page


def test_ticking_changing_values_accepting_and_returning_in_the_panel(client, login, org, onboarding, drain_events):
    task = services.tasks.create_task(org.agent, title="Ana", department_id=org.it.id, template_id=onboarding.id,
                                      fields={"category": "hardware"})
    drain_events()
    login(client, org.agent)
    token = csrf(client, f"/tasks/{task.id}")
    from workdesk.plugins.templates.models import ChecklistItem
    for item in ChecklistItem.select().where(ChecklistItem.task_id == task.id):
        assert client.post(f"/templates/tasks/{task.id}/checklist/{item.position + 1}",
                           data={"csrf_token": token, "done": "1"}).status_code == 302
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert page.count('data-done="1"') == 2 and "ticked “Order the laptop”" in page
    wrong = client.post(f"/templates/tasks/{task.id}/fields", data={
        "csrf_token": token, "version": str(Task.get_by_id(task.id).version), "f_category": "hardware",
        "f_cost": "many", "impact": "", "urgency": ""}, follow_redirects=True)
    assert "Must be a number." in wrong.get_data(as_text=True)
    ok = client.post(f"/templates/tasks/{task.id}/fields", data={
        "csrf_token": token, "version": str(Task.get_by_id(task.id).version), "f_category": "software",
        "f_cost": "12", "impact": "low", "urgency": "low"}, follow_redirects=True)
    assert "The task is saved." in ok.get_data(as_text=True)
    assert Task.get_by_id(task.id).fields["category"] == "software" and Task.get_by_id(task.id).priority == "low"
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(org.agent, task.id, status)

    login(client, org.boss)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Accept the result" in page and "waiting for acceptance" in page
    token = csrf(client, f"/tasks/{task.id}")
    empty = client.post(f"/templates/tasks/{task.id}/return", data={"csrf_token": token, "reason": ""},
                        follow_redirects=True)
    assert "Say why the result is returned." in empty.get_data(as_text=True)
    back = client.post(f"/templates/tasks/{task.id}/return", data={"csrf_token": token, "reason": "Missing bag"},
                       follow_redirects=True)
    assert "the task is open again" in back.get_data(as_text=True) and Task.get_by_id(task.id).status == "open"
    assert "returned the result: “Missing bag”" in back.get_data(as_text=True)
    for status in ("in_progress", "resolved"):
        services.tasks.transition(org.agent, task.id, status)
    accepted = client.post(f"/templates/tasks/{task.id}/accept", data={"csrf_token": token}, follow_redirects=True)
    assert "the task is closed" in accepted.get_data(as_text=True) and Task.get_by_id(task.id).status == "closed"
    drain_events()
    assert Notification.select().where((Notification.recipient == org.agent)
                                       & (Notification.kind == "templates.returned")).count() == 1


def test_admin_views_validate(client, login, org, templates, every_field):
    login(client, org.admin)
    assert client.get("/admin/templates/templates/").status_code == 200
    token = csrf(client, "/admin/templates/templates/new/")
    bad = client.post("/admin/templates/templates/new/", data={
        "csrf_token": token, "name": "Broken", "department_id": str(org.it.id), "type": "task",
        "title_pattern": "{title} {oops}", "priority": "normal", "due_unit": "working_days", "active": "y"})
    assert "Unknown variable {oops}" in bad.get_data(as_text=True)
    unknown_field = client.post("/admin/templates/templates/new/", data={
        "csrf_token": token, "name": "Broken", "department_id": str(org.it.id), "type": "task",
        "title_pattern": "{title}", "priority": "normal", "due_unit": "working_days", "field_keys": "cost, nope"})
    assert "No field with the key nope." in unknown_field.get_data(as_text=True)
    good = client.post("/admin/templates/templates/new/", data={
        "csrf_token": token, "name": "Desk move", "department_id": str(org.it.id), "type": "move",
        "title_pattern": "Move: {title}", "priority": "normal", "due_unit": "working_days", "due_offset": "2",
        "checklist": "Pack\nUnpack", "require_checklist": "y", "field_keys": "cost", "active": "y"})
    assert good.status_code == 302
    from workdesk.plugins.templates.models import Template
    created = Template.get(Template.name == "Desk move")
    assert created.checklist == ["Pack", "Unpack"] and created.field_keys == ["cost"] and created.due_offset == 2
    token = csrf(client, "/admin/templates/fields/new/")
    no_options = client.post("/admin/templates/fields/new/", data={
        "csrf_token": token, "key": "colour", "label": "Colour", "type": "choice"})
    assert "A choice field needs at least one option." in no_options.get_data(as_text=True)
    used = Template.get(Template.name == "Desk move")
    delete = client.post("/admin/templates/fields/delete/", data={"csrf_token": token, "id": str(every_field["cost"].id)},
                         follow_redirects=True)
    assert "Templates use this field: Desk move." in delete.get_data(as_text=True) and used.id
    token = csrf(client, "/admin/templates/matrix/")
    saved = client.post("/admin/templates/matrix/", data={
        "csrf_token": token, **{f"{i}_{u}": "urgent" for i in ("low", "medium", "high") for u in ("low", "medium", "high")}})
    assert saved.status_code == 302 and set(templates.matrix().values()) == {"urgent"}
    login(client, org.agent)
    assert client.get("/admin/templates/matrix/").status_code in (403, 404)


def test_audit_trail_phrases(org, onboarding, drain_events, client, login):
    task = services.tasks.create_task(org.agent, title="Ana", department_id=org.it.id, template_id=onboarding.id,
                                      fields={"category": "hardware"})
    services.tasks.update_task(org.agent, task.id, {"impact": "high", "fields": {"category": "hardware",
                                                                                   "urgency": "low"}})
    services.tasks.update_task(org.agent, task.id, {"priority": "urgent"})
    login(client, org.agent)
    page = html.unescape(client.get(f"/tasks/{task.id}").get_data(as_text=True))
    assert "overrode the matrix's priority normal with urgent" in page
    assert TaskEvent.select().where(TaskEvent.kind == "templates.priority_override").count() == 1


def test_admin_task_form_checks_custom_fields(client, login, org, onboarding):
    task = services.tasks.create_task(org.agent, title="Ana", department_id=org.it.id, template_id=onboarding.id,
                                      fields={"category": "hardware"})
    login(client, org.admin)
    url = f"/admin/tasks/edit/?id={task.id}"
    page = client.get(url)
    assert page.status_code == 200 and "&#34;category&#34;: &#34;hardware&#34;" in page.get_data(as_text=True)
    token = csrf(client, url)
    base = {"csrf_token": token, "title": task.title, "description": "", "priority": task.priority, "type": "request",
            "department_id": str(org.it.id), "assignee_id": ""}
    wrong = client.post(url, data={**base, "fields": '{"template_id": %d, "category": "hardware", "cost": "lots"}'
                                   % onboarding.id})
    assert "cost: Must be a number." in html.unescape(wrong.get_data(as_text=True))
    not_json = client.post(url, data={**base, "fields": "[1, 2]"})
    assert "Write a JSON object" in html.unescape(not_json.get_data(as_text=True))
    good = client.post(url, data={**base, "fields": '{"template_id": %d, "category": "software", "cost": 5}'
                                  % onboarding.id})
    assert good.status_code == 302 and Task.get_by_id(task.id).fields["cost"] == 5


@BOTH_DATABASES
def test_list_pages_offer_choice_and_template_filters(client, login, org, onboarding):
    """The search page offers each choice field's options and the templates as selects, and filters by them."""
    hardware = services.tasks.create_task(org.agent, title="Ana", department_id=org.it.id, template_id=onboarding.id,
                                          fields={"category": "hardware", "systems": ["vpn"]})
    software = services.tasks.create_task(org.agent, title="Bo", department_id=org.it.id, template_id=onboarding.id,
                                          fields={"category": "software", "systems": ["mail", "erp"]})
    plain = services.tasks.create_task(org.agent, title="Plain one", department_id=org.it.id)
    login(client, org.agent)
    page = html.unescape(client.get("/search").get_data(as_text=True))
    form = page[page.index('<select name="choice">'):]
    form = form[:form.index("</select>")]
    assert '<option value="category:hardware">Category: hardware</option>' in form
    assert '<option value="systems:erp">Systems: erp</option>' in form
    templates_select = page[page.index('<select name="template">'):]
    assert f'<option value="{onboarding.id}">New laptop · IT Support</option>' in templates_select

    def found(query):
        body = client.get(f"/search?{query}").get_data(as_text=True)
        return {task.id for task in (hardware, software, plain) if f'href="/tasks/{task.id}"' in body}
    assert found("choice=category:hardware") == {hardware.id}
    assert found("choice=systems:mail") == {software.id}
    assert found(f"template={onboarding.id}") == {hardware.id, software.id}
    chosen = client.get("/search?choice=category:software").get_data(as_text=True)
    assert '<option value="category:software" selected>' in chosen
