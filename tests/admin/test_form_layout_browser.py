"""The people forms of the admin panel in real Chromium, at desktop and phone widths.

Playwright's click refuses an element that another one covers ("... intercepts pointer events"),
so clicking every box and field proves none is hidden under a neighbour.
"""
from __future__ import annotations

import pytest

from workdesk.access import department_ids
from workdesk.models import Role, User

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
FIELDS = ("form.admin-form input:not([type=submit]):visible, form.admin-form select:visible, "
          "form.admin-form textarea:visible")


@pytest.fixture
def admin_page(chromium, live_server, make_user, make_department, request):
    for name in ("Facilities", "IT Support", "Finance", "Customer Care", "Compliance", "Legal", "Sales"):
        make_department(name)
    make_user("admin", email="ada@example.com", password="correct horse", name="Ada Admin")
    context = chromium.new_context(base_url=live_server, viewport=SIZES[request.param])
    page = context.new_page()
    page.set_default_timeout(4000)  # a covered element fails fast instead of waiting 15 s
    page.goto("/login?next=/admin/")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def click_every_field(page, url: str, artifacts_dir) -> int:
    page.goto(url)
    page.screenshot(path=str(artifacts_dir / (url.strip("/").replace("/", "-").replace("?", "") + ".png")),
                    full_page=True)
    fields = page.locator(FIELDS)
    for i in range(fields.count()):
        fields.nth(i).click()  # raises when another element would receive the click
    return fields.count()


@pytest.mark.parametrize("admin_page", list(SIZES), indirect=True)
def test_every_box_and_field_of_the_people_forms_can_be_clicked(admin_page, artifacts_dir):
    page = admin_page
    assert click_every_field(page, "/admin/roles/new/", artifacts_dir) >= 14  # name, description, 12+ permissions
    boxes = page.locator("input[name=permissions]")
    assert boxes.count() >= 12 and boxes.evaluate_all("bs => bs.every(b => b.checked)")
    assert click_every_field(page, "/admin/users/new/", artifacts_dir) >= 13  # 7 departments among them
    ada = User.get(User.email == "ada@example.com")
    assert click_every_field(page, f"/admin/users/edit/?id={ada.id}", artifacts_dir) >= 13


@pytest.mark.parametrize("admin_page", list(SIZES), indirect=True)
def test_time_zone_is_found_by_typing_and_saved(admin_page, artifacts_dir):
    page = admin_page
    page.goto("/admin/users/new/")
    assert page.locator("#timezone").evaluate("s => s.tagName") == "SELECT"
    page.fill("#email", "bistra@example.com")
    page.fill("#name", "Bistra Petrova")
    page.fill("#password", "long-enough-1")
    page.select_option("#role", "agent")
    page.get_by_label("Finance").check()
    page.get_by_label("Legal").check()
    page.fill("#timezone-filter", "sofia")
    assert page.locator("#timezone").input_value() == "Europe/Sofia"
    assert page.locator("#timezone option:not([hidden])").count() == 1
    page.fill("#timezone-filter", "new york")
    assert page.locator("#timezone").input_value() == "America/New_York"
    page.fill("#timezone-filter", "ho chi")
    assert page.locator("#timezone").input_value() == "Asia/Ho_Chi_Minh"
    page.screenshot(path=str(artifacts_dir / "time-zone-filtered.png"), full_page=True)
    page.locator("input[type=submit][value=Save]").click()
    page.wait_for_url("**/admin/users/")
    created = User.get(User.email == "bistra@example.com")
    assert created.timezone == "Asia/Ho_Chi_Minh" and created.role.name == "agent"
    assert len(department_ids(created)) == 2


def test_time_zone_is_checked_on_the_server(client, admin, csrf_token):
    token = csrf_token(client, "/admin/users/new/")
    page = client.get("/admin/users/new/").get_data(as_text=True)
    assert 'data-filter="Type to filter, e.g. Sofia" id="timezone"' in page
    assert '<option selected value="UTC">UTC</option>' in page  # the instance's default_timezone
    assert '<option value="America/New_York">America/New York</option>' in page
    response = client.post("/admin/users/new/", data={
        "csrf_token": token, "email": "x@example.com", "name": "X", "password": "long-enough-1",
        "role": Role.get(Role.name == "agent").name, "timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert not User.select().where(User.email == "x@example.com").exists()
