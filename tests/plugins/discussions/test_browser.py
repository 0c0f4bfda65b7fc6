"""A discussion thread started, replied to and read on a 360 px phone screen in real headless Chromium,
under the application's strict CSP (no inline script or style needed)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


def sign_in(context, email: str):
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


def test_a_thread_is_posted_to_and_read_on_a_phone(chromium, live_server, team, support_space, make_user,
                                                   artifacts_dir):
    make_user("agent", departments=[team["department"]], email="vera@example.com", password="correct horse",
              name="Vera Viewer")
    make_user("agent", departments=[team["department"]], email="pavel@example.com", password="correct horse",
              name="Pavel Phone")
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    violations = []
    try:
        phone = sign_in(context, "vera@example.com")
        phone.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        phone.goto("/discussions/")
        phone.click("text=Support")
        phone.fill("input[name=title]", "Printer on floor 2 keeps jamming, a very long title to wrap at 360 px")
        phone.fill("textarea[name=body]", "It jams on **every** A3 job. @Pavel Phone, can you look? "
                                          "https://support.example.com/a/very/long/link/that/must/wrap/nicely")
        phone.click("text=Start the thread")
        phone.wait_for_url("**/discussions/threads/*")
        assert phone.locator(".disc-post strong").first.inner_text() == "Vera Viewer"
        assert phone.locator(".disc-post .prose strong").first.inner_text() == "every"
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        phone.screenshot(path=str(artifacts_dir / "thread-phone.png"), full_page=True)

        reader = sign_in(context.browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True,
                                                     has_touch=True), "pavel@example.com")
        reader.goto("/discussions/")
        assert reader.locator(".disc-spaces .count").first.inner_text() == "1"
        reader.click("text=Support")
        reader.click("text=Printer on floor 2")
        reader.fill("textarea[name=body]", "On my way with a new roller.")
        reader.click("text=Post the reply")
        reader.wait_for_url("**#post-*")
        assert reader.locator(".disc-post").count() == 2
        overflow = reader.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        reader.screenshot(path=str(artifacts_dir / "reply-phone.png"), full_page=True)
        reader.context.close()

        phone.goto("/discussions/")
        assert phone.locator(".disc-spaces .count").first.inner_text() == "1"
        assert violations == []
    finally:
        context.close()
