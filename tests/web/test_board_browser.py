"""In real headless Chromium, 1280 px and 360 px, screenshots kept: an agent moves cards on the board by
dragging and by the buttons, and a plugin's veto is shown; a requester files a task and confirms its
resolution on a phone, another reopens one with a reason on a desktop."""
from __future__ import annotations

import pytest

from workdesk.models import Task, TaskEvent
from workdesk.services.tasks import assign, transition

from .test_browser import PHONE, assert_fits, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True


def _watch_console(page) -> list[str]:
    """Every console error (a script the CSP refused, a failed script) is kept for the test to check."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url')})")
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_board_moves_by_dragging_and_by_buttons_and_a_veto(chromium, live_server, page, artifacts_dir, cast,
                                                           make_task, enable_plugin, csrf_on):
    enable_plugin("webveto")
    dragged = make_task(cast.requester, cast.it, title="Projector bulb", priority="high")
    transition(cast.agent, dragged.id, "open")
    held = make_task(cast.requester, cast.it, title="Rack rewiring [hold]", priority="urgent")
    for status in ("open", "in_progress"):
        transition(cast.agent, held.id, status)
    make_task(cast.requester, cast.it, title="Toner for the 3rd floor")

    # Desktop: drag a card from "Open" onto "In progress"; the script presses the card's own button.
    errors = _watch_console(page)
    log_in(page, "ana@example.com")
    page.get_by_role("link", name="Board", exact=True).click()
    page.wait_for_url("**/board")
    page.screenshot(path=artifacts_dir / "01-desktop-board.png", full_page=True)
    assert page.locator("[data-status=open] .board-card").count() == 1
    assert page.locator(f"#card-{dragged.id}").get_attribute("draggable") == "true"  # the script ran under the CSP
    page.locator(f"#card-{dragged.id}").drag_to(page.locator("[data-status=in_progress]"))
    page.wait_for_selector(".flash")
    assert f"#{dragged.number} is now In progress." in page.locator(".flash").inner_text()
    assert page.locator(f"[data-status=in_progress] #card-{dragged.id}").count() == 1
    assert Task.get_by_id(dragged.id).status == "in_progress"
    page.screenshot(path=artifacts_dir / "02-desktop-board-after-drag.png", full_page=True)

    # The plugin refuses to resolve the held card: the reason is shown, the card stays.
    page.locator(f"#card-{held.id}").get_by_role("button", name="Resolve").click()
    page.wait_for_selector(".alert")
    assert "was not moved: Hold blocks this change: the task is on hold" in page.locator(".alert").inner_text()
    assert page.locator(f"[data-status=in_progress] #card-{held.id}").count() == 1
    assert Task.get_by_id(held.id).status == "in_progress"
    page.screenshot(path=artifacts_dir / "03-desktop-board-veto.png", full_page=True)
    assert_fits(page)
    assert not errors, errors

    # A phone: the columns stack, the buttons move the card.
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        phone_errors = _watch_console(phone)
        log_in(phone, "ana@example.com")
        phone.goto("/board")
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "04-phone-board.png", full_page=True)
        phone.locator(f"#card-{dragged.id}").get_by_role("button", name="Resolve").click()
        phone.wait_for_selector(".flash")
        assert phone.locator(f"[data-status=resolved] #card-{dragged.id}").count() == 1
        phone.locator(f"#card-{held.id}").get_by_role("button", name="Resolve").click()
        phone.wait_for_selector(".alert")
        assert "the task is on hold" in phone.locator(".alert").inner_text()
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "05-phone-board-veto.png", full_page=True)
        assert not phone_errors, phone_errors
    finally:
        context.close()
    assert Task.get_by_id(dragged.id).status == "resolved"
    assert TaskEvent.select().where((TaskEvent.task_id == dragged.id) & (TaskEvent.actor == cast.agent)).count() == 3


def test_requesters_file_then_confirm_or_reopen(chromium, live_server, page, artifacts_dir, cast, make_user,
                                                csrf_on):
    # A phone: Rita files from My work, the agent resolves it, she confirms it is done.
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, "rita@example.com")
        phone.fill("#quick-title", "Coffee machine leaks")
        phone.press("#quick-title", "Enter")
        phone.wait_for_url("**/tasks/*")
        assert "is filed in IT" in phone.locator(".flash").inner_text()
        task = Task.get(Task.title == "Coffee machine leaks")
        assign(cast.agent, task.id, cast.agent.id)
        for status in ("open", "in_progress", "resolved"):
            transition(cast.agent, task.id, status)
        phone.goto("/")
        assert phone.locator(".tabs a[aria-current=page]").inner_text().startswith("Reported")
        phone.screenshot(path=artifacts_dir / "01-phone-my-work.png", full_page=True)
        phone.get_by_role("link", name="1 task you reported is resolved: is it done?").click()
        phone.wait_for_url("**status=resolved*")
        phone.locator("li.task", has_text="Coffee machine leaks").locator("a.task-title").click()
        phone.wait_for_url(f"**/tasks/{task.id}")
        assert phone.locator(".resolution-card").is_visible()
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "02-phone-is-it-done.png", full_page=True)
        phone.get_by_role("button", name="Yes, it is done").click()
        phone.wait_for_selector(".flash")
        assert "Thank you: the task is closed." in phone.locator(".flash").inner_text()
        assert "confirmed the resolution" in phone.locator(".timeline").inner_text()
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "03-phone-confirmed.png", full_page=True)
    finally:
        context.close()
    assert Task.get_by_id(task.id).status == "closed"

    # A desktop: Nina, in no department, files into the intake department, then reopens with a reason.
    make_user("requester", [], name="Nina Nobody", email="nina@example.com")
    log_in(page, "nina@example.com")
    page.fill("#quick-title", "Parking badge does not open the gate")
    page.press("#quick-title", "Enter")
    page.wait_for_url("**/tasks/*")
    assert "is filed in IT" in page.locator(".flash").inner_text()  # the intake department (the oldest)
    filed = Task.get(Task.title == "Parking badge does not open the gate")
    for status in ("open", "in_progress", "resolved"):
        transition(cast.agent, filed.id, status)
    page.reload()
    page.locator(".resolution-card summary").click()
    page.fill("textarea[name=reason]", "Still refused at the east gate.")
    page.get_by_role("button", name="Reopen").click()
    page.wait_for_selector(".flash")
    assert "The task is open again" in page.locator(".flash").inner_text()
    assert "Still refused at the east gate." in page.locator(".timeline").inner_text()
    page.screenshot(path=artifacts_dir / "04-desktop-reopened.png", full_page=True)
    assert_fits(page)
    assert Task.get_by_id(filed.id).status == "open"
