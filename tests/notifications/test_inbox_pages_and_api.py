"""The inbox page (forms with CSRF), the JSON API and the unread count for the navigation bar."""
from __future__ import annotations

import re

from flask import render_template_string

from workdesk.auth import issue_token
from workdesk.notifications import Notification, get_preferences, notify


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_inbox_lists_escaped_notifications_with_unread_count(client, login, make_user):
    user, other = make_user(), make_user()
    notify(user, "x.test", "<script>alert(1)</script>", "body & more")
    notify(user, "x.test", "Second")
    notify(other, "x.test", "Not yours")
    login(client, user)
    page = client.get("/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 unread" in html and "Second" in html and "Not yours" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "body &amp; more" in html


def test_anonymous_visitors_are_sent_to_login(client):
    page = client.get("/notifications")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_mark_read_and_mark_all_read_from_the_page(client, login, make_user, make_department, make_task):
    dept = make_department()
    user = make_user("agent", [dept])
    task = make_task(user, dept)
    first = notify(user, "x.test", "First", task=task)
    notify(user, "x.test", "Second")
    login(client, user)
    token = csrf_token(client.get("/notifications").get_data(as_text=True))
    opened = client.post(f"/notifications/{first.id}/read", data={"csrf_token": token, "open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tasks/{task.id}")
    assert Notification.get_by_id(first.id).is_read
    assert "1 unread" in client.get("/notifications").get_data(as_text=True)
    done = client.post("/notifications/read-all", data={"csrf_token": token}, follow_redirects=True)
    assert "1 notifications marked read." in done.get_data(as_text=True)
    assert Notification.select().where(Notification.is_read == False).count() == 0  # noqa: E712


def test_forms_without_a_csrf_token_are_refused(client, login, make_user):
    user = make_user()
    note = notify(user, "x.test", "First")
    login(client, user)
    assert client.post(f"/notifications/{note.id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post("/notifications/preferences", data={"digest": "daily"}).status_code == 400
    assert not Notification.get_by_id(note.id).is_read and get_preferences(user)["digest"] == "off"


def test_someone_elses_notification_is_not_found(client, login, make_user):
    owner, other = make_user(), make_user()
    note = notify(owner, "x.test", "Private")
    login(client, other)
    token = csrf_token(client.get("/notifications").get_data(as_text=True))
    assert client.post(f"/notifications/{note.id}/read", data={"csrf_token": token}).status_code == 404
    assert not Notification.get_by_id(note.id).is_read


def test_preferences_form_saves_digest_and_channel_choices(client, login, make_user, enable_plugin):
    enable_plugin("email", host="mail.example.com")
    user = make_user()
    login(client, user)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Quiet digest" in html and "A task is assigned to me" in html
    # One checkbox per (kind, channel); every channel starts switched on.
    boxes = re.findall(r'<input[^>]*aria-label="([^"]+)"[^>]*checked[^>]*name="(pref_\d+_\d+)"|'
                       r'<input[^>]*aria-label="([^"]+)"[^>]*name="(pref_\d+_\d+)"[^>]*checked', html)
    labels = {(a or c): (b or d) for a, b, c, d in boxes}
    assigned_by_email = labels["A task is assigned to me – Email delivery of notifications"]
    data = {"csrf_token": csrf_token(html), "digest": "hourly"}
    data.update({name: "y" for label, name in labels.items() if name != assigned_by_email})
    saved = client.post("/notifications/preferences", data=data, follow_redirects=True)
    assert "Notification preferences saved." in saved.get_data(as_text=True)
    prefs = get_preferences(user)
    assert prefs["digest"] == "hourly"
    assert prefs["channels"]["task.assigned"]["email"] is False
    assert prefs["channels"]["task.commented"]["email"] is True


def test_preferences_form_rejects_an_unknown_digest_mode(client, login, make_user):
    user = make_user()
    login(client, user)
    token = csrf_token(client.get("/notifications").get_data(as_text=True))
    page = client.post("/notifications/preferences", data={"csrf_token": token, "digest": "weekly"})
    assert page.status_code == 400 and "Not a valid choice" in page.get_data(as_text=True)
    assert get_preferences(user)["digest"] == "off"


def test_unread_count_is_available_to_every_template(workdesk_app, client, login, make_user):
    user = make_user()
    notify(user, "x.test", "One")
    with workdesk_app.test_request_context("/"):
        from flask import g
        g.user = user
        assert render_template_string("{{ unread_notifications_count }}") == "1"
        g.user = None
        assert render_template_string("{{ unread_notifications_count }}") == "0"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def test_api_lists_pages_and_filters_unread(client, make_user):
    user = make_user()
    notes = [notify(user, "x.test", f"Note {i}") for i in range(5)]
    headers = bearer(user)
    first = client.get("/api/v1/notifications?limit=2", headers=headers).get_json()
    assert [n["subject"] for n in first["items"]] == ["Note 4", "Note 3"] and first["unread_count"] == 5
    rest = client.get(f"/api/v1/notifications?limit=10&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [n["subject"] for n in rest["items"]] == ["Note 2", "Note 1", "Note 0"] and rest["next_cursor"] is None
    read = client.post(f"/api/v1/notifications/{notes[0].id}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["is_read"] is True
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert len(unread["items"]) == 4 and unread["unread_count"] == 4
    marked = client.post("/api/v1/notifications/read-all", headers=headers).get_json()
    assert marked == {"marked": 4, "unread_count": 0}


def test_api_errors_use_the_one_error_format(client, make_user):
    owner, other = make_user(), make_user()
    note = notify(owner, "x.test", "Private")
    assert client.get("/api/v1/notifications").status_code == 401
    answer = client.post(f"/api/v1/notifications/{note.id}/read", headers=bearer(other))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    answer = client.get("/api/v1/notifications?limit=0", headers=bearer(owner))
    assert answer.status_code == 422 and "limit" in answer.get_json()["error"]["fields"]


def test_api_preferences_round_trip(client, make_user, enable_plugin):
    enable_plugin("webhooks", endpoints=[{"name": "ops", "url": "https://chat.example.com/hooks/1",
                                          "secret": "a-secret-of-16-chars"}])
    user = make_user()
    headers = bearer(user)
    prefs = client.get("/api/v1/notifications/preferences", headers=headers).get_json()
    assert prefs["digest"] == "off" and prefs["channels"]["task.mentioned"] == {"webhooks": True}
    changed = client.put("/api/v1/notifications/preferences", headers=headers,
                         json={"digest": "daily", "channels": {"task.mentioned": {"webhooks": False}}})
    assert changed.status_code == 200
    assert changed.get_json()["digest"] == "daily" and changed.get_json()["channels"]["task.mentioned"] == {"webhooks": False}
    bad = client.put("/api/v1/notifications/preferences", headers=headers, json={"digest": "weekly"})
    assert bad.status_code == 422 and "digest" in bad.get_json()["error"]["fields"]


def test_api_with_a_session_needs_the_csrf_header(client, login, make_user):
    user = make_user()
    note = notify(user, "x.test", "One")
    login(client, user)
    refused = client.post(f"/api/v1/notifications/{note.id}/read")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = csrf_token(client.get("/notifications").get_data(as_text=True))
    assert client.post(f"/api/v1/notifications/{note.id}/read", headers={"X-CSRFToken": token}).status_code == 200
