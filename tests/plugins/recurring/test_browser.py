"""An admin creates a rule in the admin panel in real headless Chromium and previews it."""
from __future__ import annotations

import pytest

from workdesk.plugins.recurring.models import Rule

pytestmark = pytest.mark.browser


def test_admin_creates_and_previews_a_rule(page, recurring, make_user, make_department, artifacts_dir):
    boiler_room = make_department("Boiler room")
    make_user("admin", email="ada@example.com", password="correct horse", name="Ada Admin", departments=[boiler_room])
    page.goto("/admin/recurring/rules/new/")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/recurring/rules/new/")

    page.fill("input[name=title]", "Pressure check {date}")
    page.select_option("select[name=department_id]", label="Boiler room")
    page.fill("input[name=timezone]", "Europe/Sofia")
    page.fill("input[name=dtstart]", "2099-03-17T09:00")
    page.fill("input[name=rrule]", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    page.fill("textarea[name=exdates]", "2099-04-14T09:00")
    page.click("input[type=submit][value='Save']")
    page.wait_for_url("**/admin/recurring/rules/")
    assert page.locator("text=every 2 weeks on Tuesday at 9:00\u202fAM, Europe/Sofia, except 1 date").count() == 1
    page.screenshot(path=str(artifacts_dir / "rules.png"), full_page=True)

    rule = Rule.get(Rule.title == "Pressure check {date}")
    page.goto(f"/admin/recurring/rules/preview/?id={rule.id}&count=4")
    rows = page.locator("table tbody tr td:first-child").all_inner_texts()
    # Fortnightly from 17 March; the spring change (29 March) moves the offset, not the wall time; 14 April is excluded.
    assert rows == ["2099-03-17T09:00:00+02:00", "2099-03-31T09:00:00+03:00", "2099-04-28T09:00:00+03:00",
                    "2099-05-12T09:00:00+03:00"]
    page.screenshot(path=str(artifacts_dir / "preview.png"), full_page=True)
