"""Who gets into the admin panel: admins only; anonymous visitors log in first; everyone else gets 403."""
from __future__ import annotations

import pytest

ADMIN_PAGES = ["/admin/", "/admin/tasks/", "/admin/users/", "/admin/departments/", "/admin/roles/",
               "/admin/comments/", "/admin/audit/", "/admin/plugins/", "/admin/health/", "/admin/users/new/"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_sees_every_page(client, admin, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "Workdesk admin" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["manager", "agent", "reviewer", "requester"])
@pytest.mark.parametrize("url", ["/admin/", "/admin/tasks/", "/admin/plugins/", "/admin/health/"])
def test_other_roles_get_403_and_no_admin_page(client, make_user, login, role, url):
    login(client, make_user(role))
    response = client.get(url)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert 'href="/"' in html  # the core's error page with its way back
    assert "Workdesk admin" not in html and "navbar" not in html  # the core's error page, not Flask-Admin's


@pytest.mark.parametrize("role", ["manager", "agent", "reviewer", "requester"])
def test_other_roles_cannot_post_admin_actions(client, make_user, login, csrf_token, role):
    login(client, make_user(role))
    token = csrf_token(client, "/")
    response = client.post("/admin/plugins/sample/enable", data={"csrf_token": token})
    assert response.status_code == 403


def test_role_with_admin_access_gets_in(client, make_user, login, admin, csrf_token):
    from workdesk.services.users import create_role
    create_role(admin, name="auditor", permissions=["admin.access"])
    auditor = make_user("auditor")
    login(client, auditor)
    assert client.get("/admin/audit/").status_code == 200


def test_deactivated_admin_is_locked_out(client, make_user, login):
    from workdesk.services.users import update_user
    ada = make_user("admin")
    login(client, ada)
    assert client.get("/admin/").status_code == 200
    update_user(ada, ada.id, {"is_active": False})
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_menu_hides_plugin_section_until_enabled(client, admin, enable_plugin):
    assert "Sample plugin" not in client.get("/admin/").get_data(as_text=True)
    enable_plugin("sample", greeting="hi")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Sample plugin" in html and "/admin/sample/report" in html
