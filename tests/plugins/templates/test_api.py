"""Filing from a template through the API: typed field checks (422 naming the field and the rule), required
fields, title variables, the template's defaults, the OpenAPI document, and the task representation."""
from __future__ import annotations

import pytest

from .conftest import BOTH_DATABASES

GOOD = {"category": "hardware"}


def file(client, template, **body):
    return client.post("/api/v1/tasks", json={"title": "Ana", "department_id": template.department_id,
                                              "template_id": template.id, **body})


@BOTH_DATABASES
def test_filing_from_a_template_applies_its_defaults(api_client, org, onboarding, drain_events):
    client = api_client(user=org.agent)
    response = file(client, onboarding, fields=GOOD)
    assert response.status_code == 201, response.json
    task = response.json
    assert task["title"].startswith("Laptop for Ana (20") and "-W" in task["title"]
    assert task["description"] == "Model:\nDelivery address:"
    assert task["priority"] == "high" and task["type"] == "request" and task["due_at"] is not None
    assert task["fields"]["template_id"] == onboarding.id
    data = task["plugins"]["templates"]
    assert data["template_id"] == onboarding.id
    assert [i["text"] for i in data["checklist"]] == ["Order the laptop", "Install the image"]
    assert data["raci"]["accountable_id"] == org.boss.id and data["raci"]["consulted_ids"] == [org.auditor.id]
    drain_events()  # the filing event stores the checklist and the roles
    stored = client.get(f"/api/v1/templates/tasks/{task['id']}").json
    assert all(item["id"] for item in stored["checklist"]) and stored["raci"]["informed_ids"] == [org.requester.id]


@pytest.mark.parametrize("key,value,message", [
    ("summary", 12, "Must be text of at most 500 characters."),
    ("summary", "x" * 501, "Must be text of at most 500 characters."),
    ("details", ["no"], "Must be text of at most 20000 characters."),
    ("cost", "twelve", "Must be a number."),
    ("cost", True, "Must be a number."),
    ("needed_by", "2026-02-30", "Must be a date written YYYY-MM-DD."),
    ("needed_by", "tomorrow", "Must be a date written YYYY-MM-DD."),
    ("category", "furniture", "Must be one of: hardware, software."),
    ("systems", ["mail", "fax"], "Must be a list of different values from: mail, vpn, erp."),
    ("systems", "mail", "Must be a list of different values from: mail, vpn, erp."),
    ("manager", 999999, "Must be the id of an active person."),
    ("manager", "Bo", "Must be the id of an active person."),
    ("link", "javascript:alert(1)", "Must be an http or https address."),
    ("link", "ftp://files.example.com/x", "Must be an http or https address."),
])
def test_each_field_type_is_checked_on_create(api_client, org, onboarding, key, value, message):
    response = file(api_client(user=org.agent), onboarding, fields={**GOOD, key: value})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["fields"] == {f"fields.{key}": [message]}


def test_good_values_of_every_type_are_kept(api_client, org, onboarding):
    values = {"summary": "Standard", "details": "Long\ntext", "cost": 1299.5, "needed_by": "2026-12-01",
              "category": "hardware", "systems": ["mail", "vpn"], "manager": org.boss.id,
              "link": "https://shop.example.com/laptop"}
    response = file(api_client(user=org.agent), onboarding, fields=values)
    assert response.status_code == 201, response.json
    assert {k: response.json["fields"][k] for k in values} == values


def test_required_fields_and_checks_on_update(api_client, org, onboarding):
    client = api_client(user=org.agent)
    missing = file(client, onboarding)
    assert missing.status_code == 422 and missing.json["error"]["fields"] == {
        "fields.category": ["This field is required."]}
    task = file(client, onboarding, fields=GOOD).json
    cleared = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {"cost": 3}})
    assert cleared.status_code == 422 and cleared.json["error"]["fields"] == {
        "fields.category": ["This field is required."]}
    wrong = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {**GOOD, "cost": "3 euros"}})
    assert wrong.status_code == 422 and wrong.json["error"]["fields"] == {"fields.cost": ["Must be a number."]}
    moved = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {**GOOD, "template_id": 999}})
    assert moved.status_code == 422 and "fields.template_id" in moved.json["error"]["fields"]
    fine = client.patch(f"/api/v1/tasks/{task['id']}", json={"fields": {**GOOD, "cost": 3}})
    assert fine.status_code == 200 and fine.json["fields"]["template_id"] == onboarding.id  # kept


def test_unknown_or_inactive_template_is_a_422(api_client, org, onboarding, templates):
    client = api_client(user=org.agent)
    response = client.post("/api/v1/tasks", json={"title": "x", "department_id": org.it.id, "template_id": 4242})
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "template_id": ["No active template with id 4242."]}
    templates.update_template(None, onboarding.id, {"active": False})
    assert file(client, onboarding, fields=GOOD).status_code == 422
    assert client.post("/api/v1/tasks", json={"title": "x", "department_id": org.it.id,
                                              "template_id": "one"}).status_code == 422


def test_template_input_is_in_the_openapi_document_while_enabled(api_client, org, templates, workdesk_app):
    from workdesk.registry import set_plugin_enabled
    client = api_client(user=org.admin)
    body = client.get("/api/v1/openapi.json").json
    create = body["paths"]["/api/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = body["components"]["schemas"][create["$ref"].rpartition("/")[2]] if "$ref" in create else create
    assert "template_id" in schema["properties"]
    assert "/api/v1/templates" in body["paths"] and "/api/v1/templates/matrix" in body["paths"]
    set_plugin_enabled("templates", False)
    refused = client.post("/api/v1/tasks", json={"title": "x", "department_id": org.it.id, "template_id": 1})
    assert refused.status_code == 422 and refused.json["error"]["fields"] == {"template_id": ["Unknown field."]}


def test_title_variables(templates, org):
    import datetime as dt
    from .conftest import at
    now = at("2026-12-31T22:30Z")  # already 1 January 2027 in Sofia: ISO week 2026-W53
    sofia = org.agent
    from workdesk.models import User
    User.update(timezone="Europe/Sofia").where(User.id == sofia.id).execute()
    sofia = User.get_by_id(sofia.id)
    title = templates.render_title("{title} · {date} · {week} · {department} · {reporter}", "Desk", org.it, sofia, now)
    assert title == "Desk · 2027-01-01 · 2026-W53 · IT Support · Al Agent"
    assert templates.render_title("Daily check {date}", "", org.it, None, now) == "Daily check 2026-12-31"
    assert isinstance(dt, object)


@pytest.mark.parametrize("pattern,message", [
    ("{title} {nope}", "Unknown variable {nope}; use {title}, {date}, {week}, {department}, {reporter}."),
    ("{title", "Unbalanced braces: write {{ and }} for a brace itself."),
])
def test_title_pattern_is_checked(api_client, org, templates, pattern, message):
    response = api_client(user=org.admin).post("/api/v1/templates", json={
        "name": "Bad", "department_id": org.it.id, "title_pattern": pattern})
    assert response.status_code == 422 and response.json["error"]["fields"] == {"title_pattern": [message]}


def test_managing_templates_needs_the_permission(api_client, org, templates):
    response = api_client(user=org.agent).post("/api/v1/templates", json={"name": "Mine", "department_id": org.it.id})
    assert response.status_code == 403
    field = api_client(user=org.admin).post("/api/v1/templates/fields", json={
        "key": "colour", "label": "Colour", "type": "choice"})
    assert field.status_code == 422 and field.json["error"]["fields"] == {
        "options": ["A choice field needs at least one option."]}
    reserved = api_client(user=org.admin).post("/api/v1/templates/fields", json={
        "key": "urgency", "label": "U", "type": "text"})
    assert reserved.status_code == 422 and "key" in reserved.json["error"]["fields"]


@BOTH_DATABASES
def test_choice_filter_and_template_filter(api_client, org, onboarding):
    client = api_client(user=org.agent)
    hw = file(client, onboarding, fields={"category": "hardware", "systems": ["vpn", "mail"]}).json
    sw = file(client, onboarding, fields={"category": "software", "systems": ["erp"]}).json
    plain = client.post("/api/v1/tasks", json={"title": "Plain", "department_id": org.it.id}).json

    def ids(query):
        response = client.get(f"/api/v1/tasks?{query}")
        assert response.status_code == 200, response.json
        return sorted(t["id"] for t in response.json["items"])
    assert ids("choice=category:hardware") == [hw["id"]]
    assert ids("choice=systems:mail") == [hw["id"]]
    assert ids("choice=systems:erp") == [sw["id"]]
    assert ids(f"template={onboarding.id}") == sorted([hw["id"], sw["id"]])
    assert plain["id"] not in ids(f"template={onboarding.id}")
    bad = client.get("/api/v1/tasks?choice=category")
    assert bad.status_code == 422 and "choice" in bad.json["error"]["fields"]


@BOTH_DATABASES
def test_default_assignee_and_watchers(api_client, org, templates):
    """The template's assignee unless the request names one; its watchers added to the request's own."""
    desk = templates.create_template(None, {"name": "Desk", "department_id": org.it.id,
                                            "assignee_id": org.other_agent.id, "watcher_ids": [org.admin.id]})
    client = api_client(user=org.agent)
    filed = client.post("/api/v1/tasks", json={"title": "Chair", "department_id": org.it.id, "template_id": desk.id,
                                               "watcher_ids": [org.boss.id]})
    assert filed.status_code == 201, filed.json
    assert filed.json["assignee_id"] == org.other_agent.id
    assert {org.admin.id, org.boss.id} <= set(filed.json["watcher_ids"])
    own = client.post("/api/v1/tasks", json={"title": "Lamp", "department_id": org.it.id, "template_id": desk.id,
                                             "assignee_id": org.agent.id})
    assert own.status_code == 201 and own.json["assignee_id"] == org.agent.id
    assert org.admin.id in own.json["watcher_ids"]
    assert filed.json["plugins"]["templates"]["raci"]["responsible_id"] == org.other_agent.id


@BOTH_DATABASES
def test_a_template_alone_supplies_the_department_and_the_title(api_client, org, templates, make_department):
    """``{"template_id": n}`` files a task: the template's department and its rendered title pattern. An
    explicit department or title still wins (a dispatch batch sends one template to many teams)."""
    client = api_client(user=org.admin)
    jam = templates.create_template(None, {"name": "Printer jam", "department_id": org.it.id,
                                           "title_pattern": "Printer jam in {department} {title}"})
    response = client.post("/api/v1/tasks", json={"template_id": jam.id})
    assert response.status_code == 201, response.json
    assert response.json["department_id"] == org.it.id and response.json["title"] == "Printer jam in IT Support"
    assert client.post("/api/v1/tasks", json={"template_id": jam.id, "title": ""}).json["title"] == \
        "Printer jam in IT Support"
    typed = client.post("/api/v1/tasks", json={"template_id": jam.id, "title": "(2nd floor)"})
    assert typed.status_code == 201 and typed.json["title"] == "Printer jam in IT Support (2nd floor)"
    hr = make_department("Human Resources")
    elsewhere = client.post("/api/v1/tasks", json={"template_id": jam.id, "department_id": hr.id})
    assert elsewhere.status_code == 201, elsewhere.json
    assert elsewhere.json["department_id"] == hr.id and elsewhere.json["title"] == "Printer jam in Human Resources"


@BOTH_DATABASES
def test_without_a_template_the_department_and_the_title_are_still_required(api_client, org, templates):
    client = api_client(user=org.admin)
    neither = client.post("/api/v1/tasks", json={})
    assert neither.status_code == 422 and neither.json["error"]["fields"] == {
        "title": ["Missing data for required field."], "department_id": ["Missing data for required field."]}
    no_title = client.post("/api/v1/tasks", json={"department_id": org.it.id, "title": " "})
    assert no_title.status_code == 422 and list(no_title.json["error"]["fields"]) == ["title"]
    # A template whose pattern is only what the person types gives no title of its own.
    plain = templates.create_template(None, {"name": "Plain", "department_id": org.it.id, "title_pattern": "{title}"})
    untitled = client.post("/api/v1/tasks", json={"template_id": plain.id})
    assert untitled.status_code == 422 and list(untitled.json["error"]["fields"]) == ["title"]
    # An unknown template supplies nothing: the template is named, not a missing department.
    unknown = client.post("/api/v1/tasks", json={"template_id": 4242})
    assert unknown.status_code == 422 and unknown.json["error"]["fields"] == {
        "template_id": ["No active template with id 4242."]}
    openapi = client.get("/api/v1/openapi.json").json
    create = openapi["paths"]["/api/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = openapi["components"]["schemas"][create["$ref"].rpartition("/")[2]] if "$ref" in create else create
    assert "title" not in schema.get("required", []) and "department_id" not in schema.get("required", [])
