"""Users, departments and roles through the admin panel (and so through workdesk.services.users)."""
from __future__ import annotations

import html as html_lib

from workdesk.access import department_ids
from workdesk.auth import check_current_password
from workdesk.models import Department, Role, User


def test_create_user_with_role_departments_and_skills(client, admin, csrf_token, department):
    response = client.post("/admin/users/new/", data={
        "csrf_token": csrf_token(client, "/admin/users/new/"), "email": "Rita@Example.com", "name": "Rita Reviewer",
        "password": "long-enough-pw", "role": "reviewer", "department_ids": [str(department.id)],
        "skills": "printers, networks", "timezone": "Europe/Sofia"})
    assert response.status_code == 302
    rita = User.get(User.email == "rita@example.com")
    assert (rita.role.name, rita.skills, rita.timezone) == ("reviewer", ["printers", "networks"], "Europe/Sofia")
    assert department_ids(rita) == [department.id]
    assert check_current_password(rita, "long-enough-pw")


def test_service_refusals_appear_on_the_fields(client, admin, csrf_token):
    response = client.post("/admin/users/new/", data={
        "csrf_token": csrf_token(client, "/admin/users/new/"), "email": admin.email, "name": "Twin",
        "password": "short", "role": "agent", "timezone": "UTC"})
    assert response.status_code == 200
    text = html_lib.unescape(response.get_data(as_text=True))
    assert "At least 8 characters." in text
    assert User.select().where(User.name == "Twin").count() == 0


def test_edit_resets_password_and_deactivates(client, admin, csrf_token, make_user, department):
    agent = make_user("agent", departments=[department])
    url = f"/admin/users/edit/?id={agent.id}"
    form = client.get(url).get_data(as_text=True)
    assert f'value="{agent.email}"' in form and "checked" in form
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "email": agent.email, "name": agent.name, "role": "manager",
        "department_ids": [], "skills": "", "timezone": "UTC", "new_password": "brand-new-secret"},
        follow_redirects=True)
    assert "was logged out everywhere" in html_lib.unescape(response.get_data(as_text=True))
    agent = User.get_by_id(agent.id)
    assert agent.role.name == "manager" and not agent.is_active and department_ids(agent) == []
    assert check_current_password(agent, "brand-new-secret") and agent.session_version == 2  # old sessions end


def test_bulk_deactivate_skips_oneself(client, admin, csrf_token, make_user):
    people = [make_user("agent") for _ in range(2)]
    response = client.post("/admin/users/action/", data={
        "csrf_token": csrf_token(client, "/admin/users/"), "action": "deactivate",
        "rowid": [str(p.id) for p in people] + [str(admin.id)]}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "2 people deactivated." in text and "You cannot deactivate yourself here." in text
    assert [User.get_by_id(p.id).is_active for p in people] == [False, False]
    assert User.get_by_id(admin.id).is_active


def test_users_cannot_be_deleted(client, admin, csrf_token, make_user):
    agent = make_user("agent")
    client.post("/admin/users/delete/", data={"csrf_token": csrf_token(client, "/admin/users/"), "id": str(agent.id)})
    assert User.get_or_none(User.id == agent.id) is not None


def test_department_tree_with_heads(client, admin, csrf_token, make_department, make_user):
    head = make_user("manager", name="Hana Head")
    company = make_department("Company", head_id=head.id)
    url = "/admin/departments/new/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "name": "Field <Service>",
                                      "parent": str(company.id), "head": ""})
    assert response.status_code == 302
    child = Department.get(Department.name == "Field <Service>")
    assert child.parent_id == company.id
    text = client.get("/admin/departments/").get_data(as_text=True)
    assert "Field &lt;Service&gt;" in text and "head: Hana Head" in text
    assert text.index("Company") < text.index("Field &lt;Service&gt;")
    edit = f"/admin/departments/edit/?id={company.id}"
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), "name": "Company",
                                       "parent": str(child.id), "head": str(head.id)})
    assert response.status_code == 200  # refused: the tree would loop
    assert "A department cannot be inside itself." in response.get_data(as_text=True)
    assert Department.get_by_id(company.id).parent_id is None


def test_role_with_plugin_permission(client, admin, csrf_token):
    url = "/admin/roles/new/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "name": "reporter",
                                      "description": "Reads reports",
                                      "permissions": ["admin.access", "sample.report"]})
    assert response.status_code == 302
    assert Role.get(Role.name == "reporter").permissions == ["admin.access", "sample.report"]
    listing = client.get("/admin/roles/").get_data(as_text=True)
    assert "admin.access, sample.report" in listing


def test_role_with_unknown_permission_is_refused(admin):
    import pytest

    from workdesk.errors import ValidationFailed
    from workdesk.services.users import create_role
    with pytest.raises(ValidationFailed) as refused:
        create_role(admin, name="odd", permissions=["task.fly"])
    assert refused.value.fields == {"permissions": ["Unknown permission: task.fly."]}


def test_the_new_user_form_preselects_the_least_privileged_role(client, admin):
    page = client.get("/admin/users/new/").get_data(as_text=True)
    assert '<option selected value="requester">requester</option>' in page
    assert '<option value="admin">admin</option>' in page  # listed, not chosen
    Role.create(name="guest", permissions=["task.comment"])  # fewer permissions than the requester's two
    page = client.get("/admin/users/new/").get_data(as_text=True)
    assert '<option selected value="guest">guest</option>' in page


def test_least_privileged_role_counts_permissions_and_star_as_all(workdesk_app):
    from workdesk.services.users import least_privileged_role
    assert least_privileged_role().name == "requester"
    Role.update(permissions=["*"]).where(Role.name == "requester").execute()
    assert least_privileged_role().name == "reviewer"


def test_a_department_counts_on_a_working_calendar(client, admin, csrf_token, make_department, api_client):
    from workdesk import Calendar
    office = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours={"mon": [["09:00", "17:00"]]})
    company = make_department("Company")
    edit = f"/admin/departments/edit/?id={company.id}"
    assert "Sofia office" in client.get(edit).get_data(as_text=True)
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), "name": "Company", "parent": "",
                                       "head": "", "calendar": str(office.id)})
    assert response.status_code == 302
    assert Department.get_by_id(company.id).calendar_id == office.id
    api = api_client(user=admin)
    assert api.get(f"/api/v1/departments/{company.id}").json["calendar_id"] == office.id
    refused = api.patch(f"/api/v1/departments/{company.id}", json={"calendar_id": 999999})
    assert refused.status_code == 422 and refused.json["error"]["fields"]["calendar_id"] == ["No such calendar."]
    assert api.patch(f"/api/v1/departments/{company.id}", json={"calendar_id": None}).json["calendar_id"] is None
