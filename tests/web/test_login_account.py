"""Logging in and out, the session cookie, and one's own settings (name, time zone, language, password)."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.models import User


def test_every_page_sends_anonymous_visitors_to_login(client, cast, make_task):
    task = make_task(cast.requester, cast.it)
    for url in ["/", "/queue", "/search?q=x", "/account", "/tasks/new", f"/tasks/{task.id}"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next=")
    assert client.post(f"/tasks/{task.id}/comments", data={"body": "hi"}).status_code == 302


def test_login_with_wrong_password_says_so(client, cast):
    response = client.post("/login", data={"email": "ana@example.com", "password": "wrong-password"})
    assert response.status_code == 400
    assert "Wrong email or password." in response.text


def test_login_goes_to_next_page_but_never_off_site(client, cast):
    response = client.post("/login?next=/queue", data={"email": "ANA@example.com", "password": "password123"})
    assert response.headers["Location"] == "/queue"
    client.post("/logout")
    response = client.post("/login?next=//evil.example/x", data={"email": "ana@example.com", "password": "password123"})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_samesite_and_secure_over_https(client, cast):
    response = client.post("/login", data={"email": "ana@example.com", "password": "password123"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = client.application.test_client()
    response = https.post("/login", data={"email": "ana@example.com", "password": "password123"},
                          base_url="https://workdesk.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_ends_the_session_everywhere(client, cast):
    other_device = client.application.test_client()
    for c in (client, other_device):
        c.post("/login", data={"email": "ana@example.com", "password": "password123"})
        assert c.get("/").status_code == 200
    response = client.post("/logout", follow_redirects=True)
    assert "You are logged out on every device." in response.text
    assert other_device.get("/").status_code == 302


def test_account_page_shows_own_settings(client, login, cast):
    login(client, cast.agent)
    page = client.get("/account").text
    assert "ana@example.com" in page and 'value="Ana Agent"' in page
    assert '<option selected value="UTC">UTC</option>' in page


def test_time_zone_and_language_change_how_times_are_shown(client, login, cast, make_task):
    task = make_task(cast.agent, cast.it, due_at=dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.timezone.utc))
    login(client, cast.agent)
    assert "12:00" in client.get(f"/tasks/{task.id}").text
    response = client.post("/account/preferences", data={"name": "Ana A.", "timezone": "Asia/Tokyo",
                                                          "locale": "de"}, follow_redirects=True)
    assert "Your settings are saved." in response.text
    user = User.get_by_id(cast.agent.id)
    assert (user.name, user.timezone, user.locale) == ("Ana A.", "Asia/Tokyo", "de")
    page = client.get(f"/tasks/{task.id}").text
    assert '<html lang="de">' in page
    assert "15.01.2030, 21:00" in page  # noon UTC is 21:00 in Tokyo, in German date order, four-digit year


def test_an_unknown_time_zone_is_refused_on_the_form(client, login, cast):
    login(client, cast.agent)
    response = client.post("/account/preferences", data={"name": "Ana", "timezone": "Mars/Olympus", "locale": "en"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.text
    assert User.get_by_id(cast.agent.id).timezone == "UTC"


def _change_password(client, current="password123", new="a-new-secret", confirm=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm": confirm if confirm is not None else new})


def test_password_change_needs_the_current_password(client, login, cast):
    login(client, cast.agent)
    response = _change_password(client, current="not-my-password")
    assert response.status_code == 400
    assert "This is not your current password." in response.text


def test_password_change_shows_the_services_rule(client, login, cast):
    login(client, cast.agent)
    response = _change_password(client, new="short")
    assert response.status_code == 422
    assert "At least 8 characters." in response.text


def test_password_confirmation_must_match(client, login, cast):
    login(client, cast.agent)
    response = _change_password(client, new="a-new-secret", confirm="another-secret")
    assert response.status_code == 400
    assert "The passwords differ." in response.text


def test_password_change_ends_other_sessions_and_renews_this_one(client, cast):
    other_device = client.application.test_client()
    for c in (client, other_device):
        c.post("/login", data={"email": "ana@example.com", "password": "password123"})
    with client.session_transaction() as session:
        old_sid, old_version = session["sid"], session["sv"]
    response = _change_password(client)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["sid"] != old_sid and session["sv"] == old_version + 1
    page = client.get("/")  # this browser goes on, on its fresh session
    assert page.status_code == 200 and "Your password is changed." in page.text
    assert other_device.get("/").status_code == 302  # every other session is over
    assert other_device.post("/login", data={"email": "ana@example.com", "password": "password123"}).status_code == 400
    assert other_device.post("/login", data={"email": "ana@example.com",
                                             "password": "a-new-secret"}).status_code == 302


@pytest.mark.parametrize("url", ["/account/preferences", "/account/password"])
def test_account_forms_reject_empty_posts(client, login, cast, url):
    login(client, cast.agent)
    assert client.post(url, data={}).status_code == 400
