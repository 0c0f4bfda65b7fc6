"""In real headless Chromium: a manager filters the task list, saves it as a view shared with IT and switches to
the table; an agent opens the view from the navigation on a phone, in cards and in the table. 1280 px and 360 px,
screenshots kept."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import absences
from workdesk.models import SavedView

from .test_browser import PHONE, assert_fits, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True


def test_a_filtered_saved_view_and_the_table_view(chromium, live_server, page, artifacts_dir, cast, make_user,
                                                  make_task, csrf_on):
    make_user("manager", [cast.it], name="Mona Manager", email="mona@example.com")
    now = dt.datetime.now(dt.timezone.utc)
    make_task(cast.requester, cast.it, title="Server room at 35 °C and climbing", priority="urgent",
              due_at=now - dt.timedelta(hours=2))
    make_task(cast.admin, cast.it, title="VPN refuses every certificate since this morning's update",
              priority="urgent", due_at=now + dt.timedelta(hours=5), assignee_id=cast.agent.id)
    make_task(cast.requester, cast.it, title="Badge reader at the loading dock", priority="urgent")
    make_task(cast.requester, cast.it, title="New starter needs a laptop", due_at=now + dt.timedelta(days=3))
    make_task(cast.requester, cast.it, title="Replace toner on the 2nd floor", priority="low")
    absences.create_absence(cast.agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=4),
                            delegate_id=cast.other_agent.id)

    # A manager on a desktop filters, saves the list as a view shared with IT, and looks at it as a table.
    log_in(page, "mona@example.com")
    page.goto("/search")
    page.select_option("select[name=priority]", "urgent")
    page.select_option("select[name=status]", "active")
    page.select_option("select[name=sort]", "due")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?*")
    assert page.locator("li.task").count() == 3
    page.locator(".save-view summary").click()
    page.screenshot(path=artifacts_dir / "00-desktop-search-filtered.png", full_page=True)
    page.fill(".save-view details input[name=name]", "Urgent in IT")
    page.select_option(".save-view details select[name=share]", label="Everyone in IT")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url("**/views/*")
    view = SavedView.get(SavedView.name == "Urgent in IT")
    assert view.params == {"priority": "urgent", "status": "active", "sort": "due"}
    assert page.locator(".viewsnav a[aria-current=page]").inner_text() == "Urgent in IT 3"
    assert page.locator("li.task .task-title").all_inner_texts()[0].endswith("Server room at 35 °C and climbing")
    assert "away until" in page.locator("li.task", has_text="VPN").inner_text()
    page.screenshot(path=artifacts_dir / "01-desktop-saved-view-cards.png", full_page=True)
    assert_fits(page)
    page.get_by_role("link", name="Table", exact=True).click()
    page.wait_for_url("**layout=table*")
    assert page.locator("table.task-table tbody tr").count() == 3
    assert page.locator("table.task-table th", has_text="Department").is_visible()
    page.screenshot(path=artifacts_dir / "02-desktop-saved-view-table.png", full_page=True)
    assert_fits(page)

    # An agent of IT opens it from the navigation on a phone: cards, then the table, never wider than the screen.
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, "ana@example.com")
        phone.locator(".viewsnav a", has_text="Urgent in IT").click()
        phone.wait_for_url(f"**/views/{view.id}")
        assert phone.locator("li.task").count() == 3
        phone.screenshot(path=artifacts_dir / "03-phone-saved-view-cards.png", full_page=True)
        assert_fits(phone)
        phone.get_by_role("link", name="Table", exact=True).click()
        phone.wait_for_url("**layout=table*")
        assert phone.locator("table.task-table tbody tr").count() == 3
        assert not phone.locator("table.task-table th", has_text="Department").is_visible()  # narrow: fewer columns
        phone.screenshot(path=artifacts_dir / "04-phone-saved-view-table.png", full_page=True)
        assert_fits(phone)
        phone.goto("/queue?due=overdue")
        assert phone.locator("table.task-table tbody tr").count() == 1  # the layout is remembered
        phone.screenshot(path=artifacts_dir / "05-phone-queue-overdue-table.png", full_page=True)
        assert_fits(phone)
        phone.goto("/account")
        phone.screenshot(path=artifacts_dir / "06-phone-account-absence.png", full_page=True)
        assert_fits(phone)
    finally:
        context.close()
