"""The team pages in real headless Chromium: a requester files from a phone, an agent works it to resolved."""
from __future__ import annotations

import pytest

from workdesk.models import Comment, Task

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True  # the browser goes through the real forms and tokens


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def assert_fits(page) -> None:
    """Nothing on the page is wider than the viewport (no sideways scrolling on a phone)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def test_requester_files_on_a_phone_and_agent_resolves_it(chromium, live_server, page, artifacts_dir, cast,
                                                          csrf_on):
    phone_context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = phone_context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, "rita@example.com")
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "01-phone-my-work-empty.png", full_page=True)
        phone.fill("#quick-title", "Wi-Fi drops in meeting room 3")
        phone.press("#quick-title", "Enter")
        phone.wait_for_url("**/tasks/*")
        assert phone.locator("h1").inner_text() == "Wi-Fi drops in meeting room 3"
        assert "is filed in IT" in phone.locator(".flash").inner_text()
        assert phone.locator("button[name=status]").count() == 0  # a requester moves nothing
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "02-phone-filed-task.png", full_page=True)
        phone.goto("/?view=reported")
        assert phone.locator("li.task").count() == 1
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "03-phone-reported.png", full_page=True)
    finally:
        phone_context.close()
    task = Task.get(Task.title == "Wi-Fi drops in meeting room 3")
    assert (task.department_id, task.reporter_id) == (cast.it.id, cast.requester.id)

    log_in(page, "ana@example.com")
    page.goto("/queue")
    row = page.locator("li.task", has_text="Wi-Fi drops in meeting room 3")
    page.screenshot(path=artifacts_dir / "04-desktop-queue.png", full_page=True)
    row.get_by_role("button", name="Take it").click()
    page.wait_for_url("**/queue*")
    assert f"You took #{task.number}." in page.locator(".flash").inner_text()
    assert page.locator("li.task", has_text="Wi-Fi drops").count() == 0
    assert Task.get_by_id(task.id).assignee_id == cast.agent.id

    page.goto(f"/tasks/{task.id}")
    page.fill("textarea[name=body]", "Replacing the access point this afternoon.")
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_url(f"**/tasks/{task.id}#comments")
    assert "Replacing the access point" in page.locator("#comments").inner_text()
    for button in ("Open", "Start work", "Resolve"):
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
    assert "Resolved" in page.locator(".badges").inner_text()
    page.screenshot(path=artifacts_dir / "05-desktop-resolved-task.png", full_page=True)
    timeline = page.locator("ol.timeline").inner_text()
    assert "changed the status from In progress to Resolved" in timeline
    assert Task.get_by_id(task.id).status == "resolved"
    assert Comment.get(Comment.task == task.id).author_id == cast.agent.id
    page.goto("/?status=resolved")
    assert page.locator("li.task", has_text="Wi-Fi drops").count() == 1
    page.screenshot(path=artifacts_dir / "06-desktop-my-work-resolved.png", full_page=True)


def test_agent_pages_fit_a_phone(chromium, live_server, artifacts_dir, cast, make_task, csrf_on):
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)
    task = make_task(cast.requester, cast.it, title="A rather long title that has to wrap on a small phone screen",
                     description="Steps:\n1. open the lid\n2. nothing happens", priority="urgent",
                     due_at=now - dt.timedelta(hours=3))
    make_task(cast.requester, cast.it, title="Second task in the queue", priority="low")
    from workdesk.services.tasks import add_comment
    add_comment(cast.requester, task.id, "Any news?")
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, "ana@example.com")
        for name, url in (("06-phone-queue", "/queue"), ("07-phone-task", f"/tasks/{task.id}"),
                          ("08-phone-new-task", "/tasks/new"), ("09-phone-search", "/search?q=task"),
                          ("10-phone-account", "/account")):
            phone.goto(url)
            assert_fits(phone)
            phone.screenshot(path=artifacts_dir / f"{name}.png", full_page=True)
    finally:
        context.close()
