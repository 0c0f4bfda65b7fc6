"""The SMTP password is write-only: masked by the API and never in the admin page's HTML, kept when
settings are saved without a new value (and still logs in to a real SMTP server), replaced by a new
value, cleared on request."""
from __future__ import annotations

import re

from workdesk.notifications import notify
from workdesk.registry import plugin_settings
from workdesk.secret_settings import SECRET_MASK
from workdesk.plugins.email.models import EmailDelivery

from .conftest import password_checker

PASSWORD = "s3cret-pass-4-smtp"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_api_masks_the_password_and_keeps_it_when_saved_without_one(smtp_server, enable_plugin, api_client,
                                                                     make_user, drain_events):
    server = smtp_server(authenticator=password_checker("desk", PASSWORD))
    enable_plugin("email", **server.settings(username="desk", password=PASSWORD))
    api = api_client("admin")

    listed = api.get("/api/v1/plugins")
    assert PASSWORD not in listed.get_data(as_text=True)
    email = next(p for p in listed.get_json()["items"] if p["name"] == "email")
    assert email["settings"]["password"] == SECRET_MASK and email["settings"]["username"] == "desk"

    # Sending back what was read (the mask), an empty value, or leaving it out keeps the password.
    for password in ({"password": SECRET_MASK}, {"password": ""}, {}):
        settings = {**email["settings"], **password}
        settings.pop("password") if not password else None
        response = api.patch("/api/v1/plugins/email", json={"settings": {**settings, "timeout_seconds": 3}})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["settings"]["password"] == SECRET_MASK
        assert PASSWORD not in response.get_data(as_text=True)
        assert plugin_settings("email")["password"] == PASSWORD

    notify(make_user(), "x.test", "Logged in with the kept password")
    drain_events()
    assert EmailDelivery.get().status == "sent" and len(server.messages) == 1

    # A new value replaces it; null clears it (the default, no password).
    api.patch("/api/v1/plugins/email", json={"settings": {**email["settings"], "password": "another-one"}})
    assert plugin_settings("email")["password"] == "another-one"
    cleared = api.patch("/api/v1/plugins/email", json={"settings": {**email["settings"], "password": None}})
    assert cleared.status_code == 200 and cleared.get_json()["settings"]["password"] == ""
    assert plugin_settings("email")["password"] == ""


def test_the_admin_form_shows_a_password_input_without_the_value(smtp_server, enable_plugin, make_user, client, login,
                                                                drain_events):
    server = smtp_server(authenticator=password_checker("desk", PASSWORD))
    enable_plugin("email", **server.settings(username="desk", password=PASSWORD))
    login(client, make_user("admin"))

    html = client.get("/admin/plugins/email/settings").get_data(as_text=True)
    assert PASSWORD not in html and SECRET_MASK not in html
    password_input = re.search(r'<input[^>]*name="password"[^>]*>', html).group(0)
    assert 'type="password"' in password_input and 'value=""' in password_input
    assert 'placeholder="Stored; leave empty to keep it"' in password_input

    # Saving the form as shown (password empty) keeps the password; the SMTP login still works.
    form = {"csrf_token": csrf(html), "host": "127.0.0.1", "port": str(server.port), "security": "none",
            "username": "desk", "password": "", "from_address": "desk@example.com", "timeout_seconds": "4",
            "max_attempts": "3", "retry_base_seconds": "30"}
    saved = client.post("/admin/plugins/email/settings", data=form, follow_redirects=True)
    assert "Settings of Email delivery of notifications saved." in saved.get_data(as_text=True)
    assert PASSWORD not in saved.get_data(as_text=True)
    assert plugin_settings("email")["password"] == PASSWORD and plugin_settings("email")["timeout_seconds"] == 4
    notify(make_user(), "x.test", "Still authenticated")
    drain_events()
    assert EmailDelivery.get().status == "sent" and len(server.messages) == 1

    # A rejected form does not echo a newly typed password either.
    refused = client.post("/admin/plugins/email/settings", data={**form, "port": "70000", "password": "typed-new"})
    assert refused.status_code == 400 and "typed-new" not in refused.get_data(as_text=True)
    assert plugin_settings("email")["password"] == PASSWORD

    client.post("/admin/plugins/email/settings", data={**form, "password": "the-next-one"})
    assert plugin_settings("email")["password"] == "the-next-one"
    client.post("/admin/plugins/email/settings", data={**form, "password__clear": "y"})
    assert plugin_settings("email")["password"] == ""
    html = client.get("/admin/plugins/email/settings").get_data(as_text=True)
    assert 'placeholder="Not set"' in re.search(r'<input[^>]*name="password"[^>]*>', html).group(0)
