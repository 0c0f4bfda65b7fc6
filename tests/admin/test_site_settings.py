"""The admin panel's Settings page: the core's run-time settings, here open_directory (closed by default)."""
from __future__ import annotations

from workdesk.site_settings import site_settings


def test_open_directory_is_set_on_the_settings_page(client, admin, csrf_token, make_user, login):
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert 'name="open_directory"' in page and "Open people directory" in page
    assert 'checked' not in page[page.index('name="open_directory"') - 200:page.index('name="open_directory"') + 80]
    token = csrf_token(client, "/admin/settings/")
    response = client.post("/admin/settings/", data={"csrf_token": token, "open_directory": "y"})
    assert response.status_code == 302 and site_settings()["open_directory"] is True
    assert client.post("/admin/settings/", data={"open_directory": "y"}).status_code == 400  # no CSRF token
    response = client.post("/admin/settings/", data={"csrf_token": csrf_token(client, "/admin/settings/")})
    assert response.status_code == 302 and site_settings()["open_directory"] is False  # unticked: closed

    clerk = make_user("agent")
    from workdesk.models import Role
    Role.update(permissions=[*Role.get(Role.name == "agent").permissions, "admin.access"]).where(
        Role.name == "agent").execute()
    login(client, clerk)
    assert client.get("/admin/settings/").status_code == 403  # the panel, but not user.manage


def test_attachment_limits_and_the_comment_window_are_set_on_the_settings_page(client, admin, csrf_token):
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert "Largest attachment (MB)" in page and "Comment editing window (minutes)" in page
    data = {"attachment_max_mb": "25", "attachment_quota_mb": "0", "comment_edit_minutes": "60"}
    response = client.post("/admin/settings/", data={"csrf_token": csrf_token(client, "/admin/settings/"), **data})
    assert response.status_code == 302
    assert {k: site_settings()[k] for k in data} == {"attachment_max_mb": 25, "attachment_quota_mb": 0,
                                                     "comment_edit_minutes": 60}
    response = client.post("/admin/settings/", data={"csrf_token": csrf_token(client, "/admin/settings/"),
                                                     "attachment_max_mb": "0"})
    assert response.status_code == 400 and site_settings()["attachment_max_mb"] == 25
