"""One throttle behind every way to present a password (issue 11, item 1): the login page, the token
endpoint and the password change count on the same ledger and refuse with 429 and Retry-After."""
from __future__ import annotations

import datetime as dt

from workdesk import throttle
from workdesk.db import utcnow
from workdesk.models import User


def _login(client, password: str, email: str = "ana@example.com", address: str = "127.0.0.1", **kwargs):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


def _token(client, password: str, email: str = "ana@example.com", address: str = "127.0.0.1"):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_web_login_refuses_the_right_password_after_ten_wrong_ones(client, cast):
    for attempt in range(throttle.MAX_FAILURES):
        assert _login(client, "wrong-password", address=f"10.0.0.{attempt}").status_code == 400
    refused = _login(client, "password123", email="ANA@example.com", address="10.9.9.9")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many wrong passwords. Try again in" in refused.text
    assert 'role="alert"' in refused.text and 'name="email"' in refused.text  # still the login form
    assert client.get("/").status_code == 302  # not logged in
    assert _login(client, "password123", email="fred@example.com", address="10.9.9.9").status_code == 302


def test_web_login_counts_failures_per_address_too(client, cast):
    for attempt in range(throttle.MAX_FAILURES):
        assert _login(client, "guess", email=f"guess{attempt}@example.com", address="192.0.2.7").status_code == 400
    assert _login(client, "password123", address="192.0.2.7").status_code == 429
    assert _login(client, "password123", address="192.0.2.8").status_code == 302


def test_the_message_is_translated(client, cast):
    for _ in range(throttle.MAX_FAILURES):
        _login(client, "wrong-password")
    refused = _login(client, "password123", headers={"Accept-Language": "de"})
    assert refused.status_code == 429 and "Zu viele falsche Passwörter" in refused.text


def test_retry_after_counts_down_to_when_the_oldest_failure_leaves_the_window(client, cast):
    fifty_seconds_ago = utcnow() - dt.timedelta(seconds=50)
    for _ in range(throttle.MAX_FAILURES):
        throttle.record_failure("ana@example.com", "203.0.113.1", now=fifty_seconds_ago)
    refused = _login(client, "password123")
    assert refused.status_code == 429 and 8 <= int(refused.headers["Retry-After"]) <= 11
    sixty_one_seconds_later = utcnow() + dt.timedelta(seconds=61)
    assert throttle.retry_after("ana@example.com", "127.0.0.1", now=sixty_one_seconds_later) == 0


def test_api_failures_lock_the_web_login_and_web_failures_lock_the_api(client, cast):
    for attempt in range(throttle.MAX_FAILURES):
        assert _token(client, "wrong-password", address=f"10.1.0.{attempt}").status_code == 401
    assert _login(client, "password123", address="10.1.1.1").status_code == 429
    for attempt in range(throttle.MAX_FAILURES):
        assert _login(client, "wrong-password", email="fred@example.com", address=f"10.2.0.{attempt}").status_code == 400
    refused = _token(client, "password123", email="fred@example.com", address="10.2.1.1")
    assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()
    assert refused.get_json()["error"]["code"] == "rate_limited"


def test_the_password_change_is_throttled_on_the_same_count(client, login, cast):
    login(client, cast.agent)
    for _ in range(throttle.MAX_FAILURES):
        response = client.post("/account/password", data={"current_password": "not-mine", "new_password": "a-new-secret",
                                                          "confirm": "a-new-secret"})
        assert response.status_code == 400
    refused = client.post("/account/password", data={"current_password": "password123", "new_password": "a-new-secret",
                                                     "confirm": "a-new-secret"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many wrong passwords. Try again in" in refused.text
    assert User.get_by_id(cast.agent.id).session_version == cast.agent.session_version  # nothing changed
    other_browser = client.application.test_client()
    assert _login(other_browser, "password123", address="10.3.3.3").status_code == 429  # the login shares the count
