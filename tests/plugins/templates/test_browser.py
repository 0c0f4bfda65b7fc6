"""In real headless Chromium on a 360 px phone: an agent files from a template through the quick picker, fills
the template's typed fields (a check refuses a wrong value next to its field), and ticks the checklist."""
from __future__ import annotations

import pytest

from workdesk import Task

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True  # the browser goes through the real forms and tokens


def assert_fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def test_filing_from_a_template_on_a_phone(chromium, live_server, org, onboarding, artifacts_dir, csrf_on):
    from workdesk.models import User
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        phone.goto("/login")
        phone.fill("input[name=email]", User.get_by_id(org.agent.id).email)
        phone.fill("input[name=password]", "password123")
        phone.click("button[type=submit]")
        phone.wait_for_url("**/")
        assert_fits(phone)
        phone.fill("#tpl-quick-title", "Ana Ivanova")
        phone.select_option("#tpl-quick-template", str(onboarding.id))
        phone.click("#template-quick button[type=submit]")
        phone.wait_for_url(f"**/templates/file/{onboarding.id}*")
        assert phone.locator("h1").inner_text() == "New task: New laptop"
        assert phone.input_value("input[name=title]") == "Ana Ivanova"
        assert_fits(phone)
        phone.screenshot(path=str(artifacts_dir / "01-template-form.png"), full_page=True)

        phone.select_option("select[name=f_category]", "hardware")
        phone.fill("input[name=f_cost]", "about a thousand")
        phone.select_option("select[name=f_systems]", ["mail", "vpn"])
        phone.click("#template-file button[type=submit]")
        error = phone.locator("[data-field=cost] .error")
        assert error.inner_text() == "Must be a number."
        assert_fits(phone)
        phone.fill("input[name=f_cost]", "1299.50")
        phone.click("#template-file button[type=submit]")
        phone.wait_for_url("**/tasks/*")
        task = Task.get(Task.title.startswith("Laptop for Ana Ivanova"))
        assert task.fields["cost"] == 1299.5 and task.fields["systems"] == ["mail", "vpn"]
        panel = phone.locator("#templates-panel")
        assert "Filed from the template New laptop." in panel.inner_text()
        assert panel.locator("dd[data-field=cost]").inner_text() == "1299.5"
        assert panel.locator("[data-role=accountable]").inner_text().startswith("Bo Boss")
        assert_fits(phone)

        panel.locator("li[data-item='Order the laptop'] button").click()
        phone.wait_for_url(f"**/tasks/{task.id}#templates-panel")
        assert phone.locator("li[data-item='Order the laptop']").get_attribute("data-done") == "1"
        assert "by Al Agent" in phone.locator("li[data-item='Order the laptop']").inner_text()
        assert_fits(phone)
        phone.screenshot(path=str(artifacts_dir / "02-task-panel.png"), full_page=True)
    finally:
        context.close()
