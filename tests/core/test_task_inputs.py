"""The task-filing hooks: ``register_task_inputs`` (extra inputs of POST /api/v1/tasks and create_task),
``validate_task_change`` (422 per field, on create and update) and ``task_filing_panels``."""
from __future__ import annotations

import pytest

from workdesk import ValidationFailed, services
from workdesk.registry import set_plugin_enabled

PLUGIN = "tests.core.task_input_plugins:CostCentrePlugin"


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [PLUGIN]}


@pytest.fixture
def costcentre(workdesk_app, enable_plugin):
    enable_plugin("costcentre")


def test_an_input_reaches_the_adjustments_and_is_not_stored(costcentre, api_client, make_department):
    department = make_department("Finance")
    client = api_client(role="agent", departments=[department])
    created = client.post("/api/v1/tasks", json={"title": "Invoice", "department_id": department.id,
                                                 "cost_centre": "CC-7"})
    assert created.status_code == 201 and created.json["fields"] == {"cost_centre": "CC-7"}
    wrong_type = client.post("/api/v1/tasks", json={"title": "x", "department_id": department.id, "cost_centre": 7})
    assert wrong_type.status_code == 422 and "cost_centre" in wrong_type.json["error"]["fields"]
    # A bad item or a taken name is recorded against the plugin and left out; the good one stays.
    from workdesk.models import PluginState
    assert "register_task_inputs" in PluginState.get_by_id("costcentre").last_error
    schema = client.get("/api/v1/openapi.json").json
    body = schema["paths"]["/api/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    properties = schema["components"]["schemas"][body["$ref"].rpartition("/")[2]]["properties"] if "$ref" in body \
        else body["properties"]
    assert "cost_centre" in properties and "Bad Name" not in properties


def test_validation_is_a_422_naming_the_field_on_create_and_update(costcentre, make_user, make_department):
    department = make_department("Finance")
    agent = make_user("agent", departments=[department])
    with pytest.raises(ValidationFailed) as refused:
        services.tasks.create_task(agent, title="x", department_id=department.id, cost_centre="7")
    assert refused.value.fields == {"fields.cost_centre": ["A cost centre starts with CC-."]}
    task = services.tasks.create_task(agent, title="x", department_id=department.id, cost_centre="CC-1")
    with pytest.raises(ValidationFailed) as refused:
        services.tasks.update_task(agent, task.id, {"fields": {"cost_centre": "9"}})
    assert refused.value.status == 422 and list(refused.value.fields) == ["fields.cost_centre"]


def test_inputs_of_a_disabled_plugin_are_unknown(costcentre, make_user, make_department):
    department = make_department("Finance")
    agent = make_user("agent", departments=[department])
    set_plugin_enabled("costcentre", False)
    with pytest.raises(ValidationFailed) as refused:
        services.tasks.create_task(agent, title="x", department_id=department.id, cost_centre="CC-1")
    assert refused.value.fields == {"cost_centre": ["Unknown field."]}


def test_filing_panels_beside_quick_create_and_on_the_full_form(costcentre, client, login, make_user):
    login(client, make_user("agent"))
    assert 'data-form="quick"' in client.get("/").get_data(as_text=True)
    assert 'data-form="full"' in client.get("/tasks/new").get_data(as_text=True)
    set_plugin_enabled("costcentre", False)
    assert "cost-centre-hint" not in client.get("/").get_data(as_text=True)
