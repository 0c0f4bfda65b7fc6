"""Every admin form refuses a request without the CSRF token: Flask-Admin's forms, the bulk-action and
delete forms included, and the hand-written pages."""
from __future__ import annotations

import pytest

from workdesk.models import PluginState, Task, User


@pytest.fixture
def workdesk_config(workdesk_config):
    # Enforced explicitly, whatever a test configuration elsewhere might say.
    return {**workdesk_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def task(admin, department, make_task):
    return make_task(admin, department, title="Keep me")


def post_without_token(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400, (url, response.status_code)
    assert "The form expired or did not come from this site." in response.get_data(as_text=True)
    return response


def test_csrf_is_enforced_in_this_module(workdesk_app):
    assert workdesk_app.config["WTF_CSRF_ENABLED"] is True and workdesk_app.config["TESTING"] is True


def test_forms_render_a_token(client, admin, task):
    for url in ("/admin/tasks/", f"/admin/tasks/edit/?id={task.id}", "/admin/users/new/", "/admin/departments/new/",
                "/admin/roles/new/", "/admin/plugins/", "/admin/plugins/sample/settings",
                "/admin/plugins/sample/disable"):
        assert 'name="csrf_token"' in client.get(url).get_data(as_text=True), url


def test_delete_and_bulk_action_forms_refuse_without_token(client, admin, task):
    post_without_token(client, "/admin/tasks/delete/", {"id": str(task.id)})
    post_without_token(client, "/admin/tasks/action/", {"action": "close", "rowid": [str(task.id)]})
    post_without_token(client, "/admin/tasks/action/", {"action": "assign", "rowid": [str(task.id)],
                                                        "bulk_assignee": str(admin.id), "csrf_token": "forged"})
    assert Task.get_by_id(task.id).assignee_id is None


def test_model_forms_refuse_without_token(client, admin, task):
    post_without_token(client, f"/admin/tasks/edit/?id={task.id}", {"title": "Hijacked", "priority": "low"})
    post_without_token(client, "/admin/users/new/", {"email": "mallory@example.com", "name": "M",
                                                     "password": "password123", "role": "admin"})
    assert Task.get_by_id(task.id).title == "Keep me"
    assert not User.select().where(User.email == "mallory@example.com").exists()


def test_plugin_and_health_pages_refuse_without_token(client, admin):
    post_without_token(client, "/admin/plugins/sample/enable", {})
    post_without_token(client, "/admin/plugins/sample/settings", {"greeting": "pwned"})
    post_without_token(client, "/admin/health/retry-event/1", {})
    assert PluginState.get_or_none(PluginState.name == "sample") is None
