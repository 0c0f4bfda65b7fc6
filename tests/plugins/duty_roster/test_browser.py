"""The week grid and "my shifts" on a 360 px phone screen in real headless Chromium."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


def test_the_week_grid_reads_on_a_phone(chromium, live_server, team, make_rotation, make_user, artifacts_dir):
    agents = team["agents"]
    reader = make_user("agent", departments=[team["department"]], email="vera@example.com", password="correct horse",
                       name="Vera Viewer", timezone="Europe/Sofia")
    make_rotation(member_ids=[agents[0].id, reader.id], shift_unit="days", handoff_weekday=None,
                  start_date="2026-03-02", restrictions=[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00",
                                                          "end": "18:00"}])
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        phone.goto("/login")
        phone.fill("input[name=email]", "vera@example.com")
        phone.fill("input[name=password]", "correct horse")
        phone.click("button[type=submit]")
        phone.wait_for_url("**/")
        phone.goto(f"/duty/?department_id={team['department'].id}&week=2026-03-30")
        days = phone.locator(".duty-day")
        assert days.count() == 7
        # An English reader's week starts on Sunday 29 March (CLDR: en -> en_US).
        assert days.nth(0).get_attribute("data-date") == "2026-03-29"
        # Monday 30 March is day 28 since 2 March: agent 0's; Tuesday the reader's.
        monday, tuesday = days.nth(1), days.nth(2)
        assert monday.locator(".duty-who").all_inner_texts() == ["Nobody scheduled", agents[0].name, "Nobody scheduled"]
        assert "09:00–18:00" in tuesday.inner_text() and "Vera Viewer" in tuesday.inner_text()
        # One column on a phone: the days are stacked, each as wide as the screen allows.
        boxes = [days.nth(i).bounding_box() for i in range(7)]
        assert all(b["x"] == boxes[0]["x"] for b in boxes) and all(b["y"] < c["y"] for b, c in zip(boxes, boxes[1:]))
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        phone.screenshot(path=str(artifacts_dir / "week-phone.png"), full_page=True)

        phone.click("text=Next week")
        phone.wait_for_url("**week=2026-04-05")
        assert phone.locator(".duty-day").first.get_attribute("data-date") == "2026-04-05"
        phone.click("text=My shifts")
        phone.wait_for_url("**/duty/mine")
        assert phone.locator("h1").inner_text() == "My shifts"
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        phone.screenshot(path=str(artifacts_dir / "mine-phone.png"), full_page=True)
    finally:
        context.close()


def sign_in(context, email: str):
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


def test_a_hand_over_is_submitted_and_acknowledged_on_a_phone(chromium, live_server, team, make_rotation, make_user,
                                                               run_jobs, artifacts_dir):
    from workdesk.services import tasks
    department = team["department"]
    outgoing = make_user("agent", departments=[department], email="otto@example.com", password="correct horse",
                         name="Otto Outgoing", timezone="Europe/Sofia")
    incoming = make_user("agent", departments=[department], email="ines@example.com", password="correct horse",
                         name="Ines Incoming", timezone="Europe/Sofia")
    make_rotation(member_ids=[outgoing.id, incoming.id], shift_unit="days", handoff_weekday=None,
                  start_date="2026-03-02")
    tasks.create_task(team["head"], title="Printer on fire", department_id=department.id, assignee_id=outgoing.id)
    run_jobs("2026-03-03T07:05Z", force=True)
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone = sign_in(context, "otto@example.com")
        phone.goto("/duty/mine")
        phone.click("text=Hand-overs")
        phone.wait_for_url("**/duty/handovers")
        phone.click(".duty-handover a")
        assert "Printer on fire" in phone.locator(".duty-tasks").inner_text()
        assert "03.03.2026" in phone.content() or "3/3/2026" in phone.content()
        phone.fill("textarea[name=handover-notes]", "Printer still smoking")
        phone.fill("textarea[name=handover-incidents]", "Fire alarm at 14:00")
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        phone.screenshot(path=str(artifacts_dir / "handover-phone.png"), full_page=True)
        phone.click("button[name=submit]")
        phone.wait_for_selector("text=Hand-over submitted.")
        assert phone.locator(".duty-status").get_attribute("data-status") == "submitted"
        context.clear_cookies()

        phone = sign_in(context, "ines@example.com")
        phone.goto("/duty/handovers")
        phone.click(".duty-handover a")
        assert "Printer still smoking" in phone.locator(".duty-notes").inner_text()
        assert phone.locator(".duty-incidents li").all_inner_texts() == ["Fire alarm at 14:00"]
        phone.click("text=Acknowledge")
        phone.wait_for_selector("text=Hand-over acknowledged.")
        assert phone.locator(".duty-status").get_attribute("data-status") == "acknowledged"
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
    finally:
        context.close()
