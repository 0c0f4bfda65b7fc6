"""The dashboard in real headless Chromium: pygal's SVG charts render under the strict CSP (styled, no
violation), the page fits a phone; screenshots are kept as artifacts."""
from __future__ import annotations

PHONE = {"width": 360, "height": 740}
WEEK = "/reports?from=2026-01-05&to=2026-01-11"


def log_in(page, user) -> None:
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_charts_render_under_the_csp_beside_their_tables(chromium, live_server, history, artifacts_dir):
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        log_in(page, history.admin)
        page.click("nav.mainnav >> text=Reports")
        page.goto(WEEK)
        volume = page.locator('section[data-metric="reports.volume"]')
        chart = volume.locator("figure.report-chart svg")
        box = chart.bounding_box()
        assert box["width"] > 400 and box["height"] > 150
        # the chart's own stylesheet applied (it carries the nonce): the first series is drawn in our blue
        stroke = page.evaluate("""() => getComputedStyle(document.querySelector(
            'section[data-metric="reports.volume"] svg .serie-0 .line')).stroke""")
        assert stroke == "rgb(47, 109, 181)"
        table = volume.locator(".report-table")
        assert table.locator("tbody tr").count() == 7 and table.bounding_box()["x"] > box["x"]  # side by side
        assert violations == []
        volume.screenshot(path=str(artifacts_dir / "volume-chart.png"))
        page.locator('section[data-metric="reports.time_in_status"]').screenshot(
            path=str(artifacts_dir / "time-in-status-chart.png"))
    finally:
        context.close()
    phone_context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = phone_context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, history.manager)
        phone.goto(WEEK)
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        chart = phone.locator('section[data-metric="reports.volume"] svg').bounding_box()
        assert 250 < chart["width"] <= PHONE["width"]
        phone.screenshot(path=str(artifacts_dir / "dashboard-phone.png"), full_page=True)
    finally:
        phone_context.close()
