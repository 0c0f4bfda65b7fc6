"""Every installed plugin's admin views open while it is enabled and answer 404 once it is disabled."""
from __future__ import annotations

import pytest

from workdesk.registry import get_registry, plugin_settings, save_plugin_settings, set_plugin_enabled


def plugin_views(app, plugin_name):
    owners = app.extensions["workdesk_blueprint_owner"]
    return [view for view in app.extensions["admin"][0]._views
            if owners.get(view.blueprint.name) == plugin_name]


# What the plugins that cannot be enabled without settings get here.
REQUIRED_SETTINGS = {
    "email": {"host": "mail.example.com"},
    "webhooks": {"endpoints": [{"name": "ops", "url": "https://chat.example.com/hooks/1",
                                "secret": "a-secret-of-16-chars"}]},
    "mail_intake": {"mailboxes": [{"name": "support", "host": "imap.example.com", "username": "support",
                                   "password": "a-password", "address": "support@example.com", "department_id": 1}]},
}


def test_every_usable_plugin_view_follows_its_plugin(client, admin, workdesk_app):
    checked = 0
    for info in get_registry().usable():
        views = plugin_views(workdesk_app, info.name)
        if info.plugin.missing_configuration(plugin_settings(info.name)):
            save_plugin_settings(info.name, REQUIRED_SETTINGS[info.name])
        set_plugin_enabled(info.name, True)
        menu = client.get("/admin/").get_data(as_text=True)
        for view in views:
            response = client.get(view.url + "/")
            assert response.status_code == 200, (info.name, view.url, response.status_code)
            assert f'href="{view.url}/"' in menu, (info.name, view.url)
            if getattr(view, "can_create", False):
                assert 'name="csrf_token"' in client.get(view.url + "/new/").get_data(as_text=True)
        set_plugin_enabled(info.name, False)
        for view in views:
            assert client.get(view.url + "/").status_code == 404, (info.name, view.url)
        checked += len(views)
    assert checked >= 1  # the sample plugin's view at least


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_plugin_views_refuse_non_admins(client, make_user, login, enable_plugin, role):
    enable_plugin("sample", greeting="hi")
    login(client, make_user(role))
    assert client.get("/admin/sample/report/").status_code == 403
