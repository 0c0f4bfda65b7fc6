"""The plugins page: listing, one-click enable/disable with confirmation, settings forms, plugin views."""
from __future__ import annotations

import html as html_lib

from workdesk.models import PluginState
from workdesk.registry import get_registry, plugin_settings


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html_lib.unescape(response.get_data(as_text=True))


def test_lists_every_discovered_plugin_with_its_facts(client, admin):
    text = page(client, "/admin/plugins/")
    assert "Sample plugin" in text and "2.1.0" in text
    assert 'refuses to start work on tasks titled "[frozen]"' in text
    assert "config: tests.admin.sample_plugin:SamplePlugin" in text
    for name in get_registry().plugins:
        assert f'id="plugin-{name}"' in text


def test_load_errors_are_shown(client, admin, workdesk_app):
    from workdesk.registry import PluginInfo
    get_registry().plugins["broken"] = PluginInfo("broken", "config: tests.admin.nowhere:Broken",
                                                  error="failed to load: ModuleNotFoundError('tests.admin.nowhere')")
    text = page(client, "/admin/plugins/")
    assert 'id="plugin-broken" data-state="broken"' in text
    assert "failed to load: ModuleNotFoundError('tests.admin.nowhere')" in text


def test_enable_is_one_post_and_takes_effect(client, admin, csrf_token):
    assert client.get("/admin/sample/report/").status_code == 404
    response = client.post("/admin/plugins/sample/enable", data={"csrf_token": csrf_token(client, "/admin/plugins/")})
    assert response.status_code == 302
    assert get_registry().is_enabled("sample")
    assert 'id="plugin-sample" data-state="enabled"' in page(client, "/admin/plugins/")
    assert client.get("/admin/sample/report/").get_data(as_text=True) == "<h1>Sample report</h1>"
    assert "Sample plugin" in page(client, "/admin/")  # its menu section


def test_enabling_a_plugin_without_its_required_settings_is_refused(client, admin, csrf_token):
    assert "Fill in these settings before enabling it: host." in page(client, "/admin/plugins/")
    response = client.post("/admin/plugins/email/enable", data={"csrf_token": csrf_token(client, "/admin/plugins/")},
                           follow_redirects=True)
    assert "Email delivery of notifications cannot be enabled before these settings are filled in: host." in \
        html_lib.unescape(response.get_data(as_text=True))
    assert not get_registry().is_enabled("email")


def test_disable_asks_first_and_says_data_is_kept(client, admin, csrf_token, enable_plugin):
    enable_plugin("sample", greeting="hello")
    confirmation = page(client, "/admin/plugins/sample/disable")
    assert "Disable Sample plugin?" in confirmation
    assert "Its data and settings are kept" in confirmation
    assert get_registry().is_enabled("sample")  # looking at the question changes nothing
    response = client.post("/admin/plugins/sample/disable", data={"csrf_token": csrf_token(client, "/admin/plugins/")},
                           follow_redirects=True)
    assert "Its data is kept" in html_lib.unescape(response.get_data(as_text=True))
    assert not get_registry().is_enabled("sample")
    assert client.get("/admin/sample/report/").status_code == 404
    assert "Sample plugin" not in page(client, "/admin/")
    assert PluginState.get_by_id("sample").settings["greeting"] == "hello"  # settings survive


def test_enabling_an_unloadable_plugin_explains_why(client, admin, csrf_token):
    from workdesk.registry import PluginInfo
    get_registry().plugins["broken"] = PluginInfo("broken", "config: x:Y", error="failed to load: boom")
    response = client.post("/admin/plugins/broken/enable", data={"csrf_token": csrf_token(client, "/admin/plugins/")},
                           follow_redirects=True)
    assert "Plugin &#39;broken&#39; cannot be enabled: it failed to load: boom." in response.get_data(as_text=True)


def test_unknown_plugin_is_404(client, admin, csrf_token):
    assert client.get("/admin/plugins/nope/settings").status_code == 404
    assert client.post("/admin/plugins/nope/enable", data={"csrf_token": csrf_token(client)}).status_code == 404


def test_settings_form_is_generated_from_the_schema(client, admin):
    text = page(client, "/admin/plugins/sample/settings")
    assert 'name="greeting"' in text and "Shown on the sample report." in text
    assert 'name="max_items" step="1" type="number" value="10"' in text
    assert '<select class="form-control" id="mode" name="mode">' in text
    assert '<option selected value="quiet">quiet</option>' in text
    assert '<textarea class="form-control" id="tags" name="tags" rows="4">' in text
    assert 'type="checkbox"' in text and 'name="csrf_token"' in text


def test_invalid_settings_show_field_messages_and_store_nothing(client, admin, csrf_token, enable_plugin):
    enable_plugin("sample", greeting="hello")
    token = csrf_token(client, "/admin/plugins/sample/settings")
    response = client.post("/admin/plugins/sample/settings", data={
        "csrf_token": token, "greeting": "", "max_items": "500", "mode": "shouting", "tags": "ok\nfar-too-long-tag"})
    assert response.status_code == 400
    text = html_lib.unescape(response.get_data(as_text=True))
    assert "Missing data for required field." in text
    assert "Must be greater than or equal to 1 and less than or equal to 100." in text
    assert "Must be one of: quiet, loud." in text
    assert "item 2: Longer than maximum length 10." in text
    assert "The settings were not saved" in text
    assert plugin_settings("sample")["greeting"] == "hello"
    assert 'value="500"' in text  # what was typed stays in the form


def test_valid_settings_are_saved(client, admin, csrf_token):
    token = csrf_token(client, "/admin/plugins/sample/settings")
    response = client.post("/admin/plugins/sample/settings", data={
        "csrf_token": token, "greeting": "Hi <there>", "max_items": "7", "mode": "loud", "tags": "a\n\nb\n",
        "notify": "y"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Settings of Sample plugin saved." in response.get_data(as_text=True)
    assert plugin_settings("sample") == {"greeting": "Hi <there>", "max_items": 7, "mode": "loud", "tags": ["a", "b"],
                                         "notify": True}
    text = response.get_data(as_text=True)
    assert 'value="Hi &lt;there&gt;"' in text  # shown back escaped


def test_unticked_checkbox_saves_false(client, admin, csrf_token, enable_plugin):
    enable_plugin("sample", greeting="x", notify=True)
    token = csrf_token(client, "/admin/plugins/sample/settings")
    client.post("/admin/plugins/sample/settings", data={"csrf_token": token, "greeting": "x", "max_items": "10",
                                                        "mode": "quiet", "tags": ""})
    assert plugin_settings("sample")["notify"] is False


def test_plugin_permissions_appear_in_the_role_form(client, admin):
    assert "sample.report — Read the sample report" in page(client, "/admin/roles/new/")
