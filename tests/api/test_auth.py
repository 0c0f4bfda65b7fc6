"""Tokens, sessions, CSRF, rate limiting and the body limit of the API."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workdesk import throttle
from workdesk.db import utcnow
from workdesk.models import ApiToken, LoginFailure

from .conftest import error_of

ROOT = Path(__file__).resolve().parents[2]


def _csrf_token(client) -> str:
    """The session's CSRF token, as a page of a logged-in user carries it."""
    html = client.get("/api/docs").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_issue_token_returns_token_and_user_and_stores_only_its_hash(client, make_user):
    user = make_user("agent", email="Ann@Example.com")
    response = client.post("/api/v1/auth/token", json={"email": "ann@example.com", "password": "password123"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "ann@example.com" and body["user"]["id"] == user.id
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    assert response.headers["Cache-Control"] == "no-store"  # no cache keeps the token
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    stored = ApiToken.get(ApiToken.user == user)
    assert body["token"] not in stored.token_hash and len(stored.token_hash) == 64
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == user.id
    assert "task.create" in me.get_json()["permissions"]


@pytest.mark.parametrize("body", [{"email": "ann@example.com", "password": "wrong-password"},
                                  {"email": "nobody@example.com", "password": "password123"}])
def test_wrong_credentials_are_401(client, make_user, body):
    make_user("agent", email="ann@example.com")
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert "Wrong email or password" in error_of(response)["message"]


def test_deactivated_user_cannot_get_a_token(client, make_user, admin):
    from workdesk.services.users import update_user
    user = make_user("agent", email="gone@example.com")
    update_user(admin, user.id, {"is_active": False})
    response = client.post("/api/v1/auth/token", json={"email": "gone@example.com", "password": "password123"})
    assert response.status_code == 401


def test_token_request_validation(client):
    response = client.post("/api/v1/auth/token", json={"email": "a@example.com"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"password": ["Missing data for required field."]}
    response = client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "x", "remember": True})
    assert error_of(response)["fields"] == {"remember": ["Unknown field."]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wd_not-a-real-token"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}])
def test_missing_or_wrong_token_is_401(client, headers):
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert "Authorization: Bearer" in error_of(response)["message"]


def test_revoking_the_presented_token(api_as, make_user):
    user = make_user("agent")
    api = api_as(user)
    other = api_as(user)
    assert api.delete("/api/v1/auth/token").status_code == 204
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert other.get("/api/v1/me").status_code == 200  # only the presented token is revoked


def test_revoke_needs_a_bearer_token(client, login, make_user):
    user = make_user("agent")
    login(client, user)
    response = client.delete("/api/v1/auth/token", headers={"X-CSRFToken": _csrf_token(client)})
    assert response.status_code == 400
    assert "Authorization: Bearer" in error_of(response)["message"]


def test_deactivation_stops_tokens_at_once(api_as, make_user, admin):
    user = make_user("agent")
    api = api_as(user)
    assert api.get("/api/v1/me").status_code == 200
    assert api_as(admin).patch(f"/api/v1/users/{user.id}", json={"is_active": False}).status_code == 200
    assert api.get("/api/v1/me").status_code == 401


def test_deactivated_user_is_refused_even_with_an_unrevoked_token(api_as, make_user):
    from workdesk.models import User
    user = make_user("agent")
    api = api_as(user)
    # Deactivated behind the services' back (e.g. directly in the database): the token check still refuses.
    User.update(is_active=False).where(User.id == user.id).execute()
    assert api.get("/api/v1/me").status_code == 401


def test_password_change_ends_every_session_and_token(workdesk_app, api_as, login, make_user):
    user = make_user("agent", email="pat@example.com")
    browser = workdesk_app.test_client()
    login(browser, user)
    assert browser.get("/api/v1/me").status_code == 200
    api, second = api_as(user), api_as(user)
    response = api.patch(f"/api/v1/users/{user.id}", json={"password": "a-new-password-9"})
    assert response.status_code == 200
    assert api.get("/api/v1/me").status_code == 401
    assert second.get("/api/v1/me").status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    fresh = workdesk_app.test_client().post("/api/v1/auth/token",
                                            json={"email": "pat@example.com", "password": "a-new-password-9"})
    assert fresh.status_code == 201


def test_logout_ends_every_session_and_token(workdesk_app, api_as, login, make_user):
    user = make_user("agent")
    browser, other_browser = workdesk_app.test_client(), workdesk_app.test_client()
    login(browser, user)
    login(other_browser, user)
    api = api_as(user)
    response = browser.post("/logout", data={"csrf_token": _csrf_token(browser)})
    assert response.status_code == 302
    assert browser.get("/api/v1/me").status_code == 401
    assert other_browser.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me").status_code == 401


def test_login_issues_a_fresh_session_with_safe_cookie_flags(client, make_user):
    make_user("agent", email="sam@example.com")
    with client.session_transaction() as session:
        session["sid"] = "planted-by-an-attacker"
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    token = token.group(1) if token else re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page).group(1)
    response = client.post("/login", data={"email": "sam@example.com", "password": "password123", "csrf_token": token})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as session:
        assert session["sid"] != "planted-by-an-attacker"
    assert client.get("/api/v1/me").status_code == 200


def test_cookies_are_secure_when_configured_for_https(workdesk_config, tmp_path):
    from workdesk.app import create_app
    from workdesk.registry import set_registry
    app = create_app({**workdesk_config, "secure_cookies": True})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        with app.test_request_context("/"):
            from flask import session
            session["x"] = 1
            response = app.make_response("")
            app.session_interface.save_session(app, session, response)
            assert "Secure" in response.headers["Set-Cookie"]
    finally:
        set_registry(None)


# -- CSRF for session-authenticated API calls ------------------------------------------------------

def test_session_post_without_csrf_header_is_refused(client, login, make_user, dept):
    user = make_user("agent", departments=[dept])
    login(client, user)
    response = client.post("/api/v1/tasks", json={"title": "From the page", "department_id": dept.id})
    assert response.status_code == 400
    assert error_of(response)["code"] == "csrf_failed"
    response = client.post("/api/v1/tasks", json={"title": "From the page", "department_id": dept.id},
                           headers={"X-CSRFToken": "forged"})
    assert error_of(response)["code"] == "csrf_failed"


def test_session_post_with_csrf_header_works_and_reads_need_none(client, login, make_user, dept):
    user = make_user("agent", departments=[dept])
    login(client, user)
    assert client.get("/api/v1/tasks").status_code == 200
    response = client.post("/api/v1/tasks", json={"title": "From the page", "department_id": dept.id},
                           headers={"X-CSRFToken": _csrf_token(client)})
    assert response.status_code == 201


def test_bearer_requests_are_exempt_from_csrf(api_as, make_user, dept):
    response = api_as(make_user("agent", departments=[dept])).post(
        "/api/v1/tasks", json={"title": "Scripted", "department_id": dept.id})
    assert response.status_code == 201


# -- rate limiting ----------------------------------------------------------------------------------

def _fail(client, email: str, address: str = "127.0.0.1"):
    return client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-password"},
                       environ_base={"REMOTE_ADDR": address})


def test_more_than_ten_failures_for_one_email_is_429(client, make_user):
    make_user("agent", email="target@example.com")
    for attempt in range(10):
        assert _fail(client, "target@example.com", f"10.0.0.{attempt}").status_code == 401
    response = _fail(client, "target@example.com", "10.0.1.1")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert "Too many wrong passwords. Try again in" in error_of(response)["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    correct = client.post("/api/v1/auth/token", json={"email": "TARGET@example.com", "password": "password123"},
                          environ_base={"REMOTE_ADDR": "10.0.2.2"})
    assert correct.status_code == 429  # the right password does not slip through a lockout
    other = client.post("/api/v1/auth/token", json={"email": "someone@example.com", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.0.3.3"})
    assert other.status_code == 401


def test_more_than_ten_failures_from_one_address_is_429(client, make_user):
    make_user("agent", email="real@example.com")
    for attempt in range(10):
        assert _fail(client, f"guess{attempt}@example.com", "192.0.2.7").status_code == 401
    assert _fail(client, "another@example.com", "192.0.2.7").status_code == 429
    assert _fail(client, "another@example.com", "192.0.2.8").status_code == 401


def test_failures_older_than_a_minute_do_not_count(client, make_user):
    make_user("agent", email="slow@example.com")
    long_ago = utcnow() - dt.timedelta(minutes=2)
    for _ in range(20):
        throttle.record_failure("slow@example.com", "127.0.0.1", now=long_ago)
    response = client.post("/api/v1/auth/token", json={"email": "slow@example.com", "password": "password123"})
    assert response.status_code == 201


def test_failures_recorded_by_another_process_count(client, workdesk_config, make_user):
    make_user("agent", email="shared@example.com")
    script = ("import sys; from workdesk.db import connect_database; from workdesk import throttle\n"
              "connect_database(sys.argv[1])\n"
              "for _ in range(10): throttle.record_failure('shared@example.com', '203.0.113.9')\n")
    subprocess.run([sys.executable, "-c", script, workdesk_config["database_url"]], check=True, cwd=ROOT,
                   timeout=60)
    assert LoginFailure.select().count() == 10
    response = client.post("/api/v1/auth/token", json={"email": "shared@example.com", "password": "password123"})
    assert response.status_code == 429


# -- body parsing and limits --------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"', b'{"title": NaN}', b"\xff\xfe"])
def test_malformed_or_non_object_body_is_400(api_as, make_user, raw):
    response = api_as(make_user("agent")).post("/api/v1/tasks", data=raw,
                                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_body_beyond_the_limit_is_413(api_as, make_user, workdesk_app):
    limit = workdesk_app.config["MAX_CONTENT_LENGTH"]
    body = b'{"title": "' + b"x" * limit + b'"}'
    response = api_as(make_user("agent")).post("/api/v1/tasks", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
