"""GET /plugins, PATCH /plugins/<name>, and plugin endpoints built with the API's helpers."""
from __future__ import annotations

import re

import pytest

from workdesk.models import PluginState

from .conftest import error_of


def test_list_plugins_is_admin_only(api_as, admin, make_user):
    body = api_as(admin).get("/api/v1/plugins").get_json()
    sample = next(p for p in body["items"] if p["name"] == "apisample")
    assert sample == {"name": "apisample", "title": "API sample",
                      "description": 'Blocks resolving tasks whose custom field ``checklist`` is ``"open"``.',
                      "version": "0.1.0", "enabled": False, "usable": True, "error": None,
                      "settings": {"threshold": 3, "label": "sample"}}
    response = api_as(make_user("manager")).get("/api/v1/plugins")
    assert response.status_code == 403 and error_of(response)["permission"] == "plugin.manage"
    assert error_of(response)["message"] == "Your role does not allow this: “Enable, disable and configure plugins”."


def test_enable_configure_and_disable(api_as, admin, make_user, dept, make_task):
    api = api_as(admin)
    agent = make_user("agent", departments=[dept])
    task = make_task(agent, dept, fields={"checklist": "open"})
    assert api.get(f"/api/v1/apisample/tasks/{task.id}/summary").status_code == 404  # disabled: route is gone
    response = api.patch("/api/v1/plugins/apisample", json={"enabled": True, "settings": {"label": "ours"}})
    assert response.status_code == 200
    assert response.get_json()["enabled"] is True and response.get_json()["settings"] == {"threshold": 3, "label": "ours"}
    summary = api.get(f"/api/v1/apisample/tasks/{task.id}/summary")
    assert summary.status_code == 200 and summary.get_json() == {"task_id": task.id, "label": "ours"}
    shown = api.get(f"/api/v1/tasks/{task.id}").get_json()
    assert shown["plugins"] == {"apisample": {"checklist": "open", "viewer_id": admin.id}}
    assert api.patch("/api/v1/plugins/apisample", json={"enabled": False}).get_json()["enabled"] is False
    assert api.get(f"/api/v1/tasks/{task.id}").get_json()["plugins"] == {}
    assert api.get(f"/api/v1/apisample/tasks/{task.id}/summary").status_code == 404


@pytest.mark.parametrize("settings, fields", [
    ({"threshold": 0}, {"settings.threshold": ["Must be greater than or equal to 1 and less than or equal to 10."]}),
    ({"threshold": "many"}, {"settings.threshold": ["Not a valid integer."]}),
    ({"colour": "red"}, {"settings.colour": ["Unknown field."]}),
    ({"label": ""}, {"settings.label": ["Length must be between 1 and 20."]}),
])
def test_invalid_settings_are_422_per_field_and_nothing_changes(api_as, admin, settings, fields):
    response = api_as(admin).patch("/api/v1/plugins/apisample", json={"enabled": True, "settings": settings})
    assert response.status_code == 422
    assert error_of(response)["fields"] == fields
    state = PluginState.get_or_none(PluginState.name == "apisample")
    assert state is None or (not state.enabled and state.settings == {})


def test_a_plugin_missing_required_settings_is_not_enabled(api_as, admin):
    api = api_as(admin)
    response = api.patch("/api/v1/plugins/email", json={"enabled": True, "settings": {"port": 587}})
    assert response.status_code == 422
    error = error_of(response)
    assert error["message"].startswith("Email delivery of notifications cannot be enabled before these settings are "
                                       "filled in: host.")
    assert error["fields"]["settings.host"] == ["Required to enable the plugin."]
    state = PluginState.get_or_none(PluginState.name == "email")
    assert state is None or (not state.enabled and state.settings == {})  # the settings were not kept either
    enabled = api.patch("/api/v1/plugins/email", json={"enabled": True, "settings": {"host": "mail.example.com"}})
    assert enabled.status_code == 200 and enabled.get_json()["enabled"] is True
    cleared = api.patch("/api/v1/plugins/email", json={"settings": {"host": ""}})
    assert cleared.status_code == 422
    assert error_of(cleared)["fields"] == {"settings.host": ["Required while the plugin is enabled."]}
    off = api.patch("/api/v1/plugins/email", json={"enabled": False, "settings": {"host": ""}})
    assert off.status_code == 200 and off.get_json()["enabled"] is False and off.get_json()["settings"]["host"] == ""


def test_patch_plugin_errors(api_as, admin, make_user):
    api = api_as(admin)
    assert api.patch("/api/v1/plugins/nonexistent", json={"enabled": True}).status_code == 404
    assert error_of(api.patch("/api/v1/plugins/apisample", json={"on": True}))["fields"] == {"on": ["Unknown field."]}
    assert error_of(api.patch("/api/v1/plugins/apisample", json={"enabled": "yes"}))["fields"] == {
        "enabled": ["Not a valid boolean."]}
    assert api_as(make_user("agent")).patch("/api/v1/plugins/apisample", json={"enabled": True}).status_code == 403


def test_plugin_api_blueprint_gets_the_same_auth_csrf_and_errors(workdesk_app, api_as, make_user, login,
                                                                 enable_plugin):
    enable_plugin("apisample")
    anonymous = workdesk_app.test_client().post("/api/v1/apisample/echo", json={"text": "hi"})
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthorized"
    user = make_user("agent")
    api = api_as(user)
    response = api.post("/api/v1/apisample/echo", json={"text": "hi"})
    assert response.status_code == 201 and response.get_json() == {"text": "hi"}
    assert error_of(api.post("/api/v1/apisample/echo", json={"text": ""}))["fields"] == {
        "text": ["Length must be between 1 and 50."]}
    assert error_of(api.post("/api/v1/apisample/echo", data=b"{", headers={"Content-Type": "application/json"}))[
        "code"] == "bad_request"
    browser = workdesk_app.test_client()
    login(browser, user)
    refused = browser.post("/api/v1/apisample/echo", json={"text": "hi"})
    assert refused.status_code == 400 and error_of(refused)["code"] == "csrf_failed"
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/api/docs").get_data(as_text=True)).group(1)
    assert browser.post("/api/v1/apisample/echo", json={"text": "hi"}, headers={"X-CSRFToken": token}).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/plugins/%2F0", "/api/v1/plugins//apisample"])
def test_an_encoded_slash_in_a_name_is_a_404_not_a_redirect(api_as, admin, path):
    # Found by the API fuzz: werkzeug merged the doubled slash and answered an undocumented 308.
    response = api_as(admin).patch(path, json={})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
