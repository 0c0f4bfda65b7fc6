"""The admin panel in real headless Chromium: log in, toggle a plugin, save its settings, bulk-assign."""
from __future__ import annotations

import re

import pytest

from workdesk.models import Task
from workdesk.registry import get_registry, plugin_settings

pytestmark = pytest.mark.browser


def test_admin_runs_plugins_and_tasks_in_a_browser(page, make_user, make_department, make_task, artifacts_dir):
    support = make_department("Support")
    admin = make_user("admin", email="ada@example.com", password="correct horse", name="Ada Admin")
    agent = make_user("agent", departments=[support], name="Aggie Agent")
    tasks = [make_task(admin, support, title=title) for title in
             ("Printer jams on tray 2", "VPN drops every hour", "<script>alert('x')</script> in a title")]

    page.goto("/admin/plugins/")
    assert re.search(r"/login\?next=", page.url)
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/plugins/")

    card = page.locator("#plugin-sample")
    card.get_by_role("button", name="Enable").click()
    page.wait_for_selector("#plugin-sample[data-state=enabled]")
    assert get_registry().is_enabled("sample")

    page.locator("#plugin-sample").get_by_role("link", name="Disable").click()
    page.wait_for_selector("text=Its data and settings are kept")
    page.get_by_role("button", name="Disable plugin").click()
    page.wait_for_selector("#plugin-sample[data-state=disabled]")
    assert not get_registry().is_enabled("sample")
    assert page.locator("text=Its data is kept").count() == 1

    page.locator("#plugin-sample").get_by_role("button", name="Enable").click()
    page.wait_for_selector("#plugin-sample[data-state=enabled]")
    assert page.locator("nav >> text=Sample plugin").count() == 1  # its own menu section
    page.screenshot(path=str(artifacts_dir / "plugins.png"), full_page=True)

    page.locator("#plugin-sample").get_by_role("link", name="Settings").click()
    page.fill("#greeting", "")
    page.fill("#max_items", "1000")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("text=Missing data for required field.")
    assert page.locator("text=Must be greater than or equal to 1 and less than or equal to 100.").count() == 1
    page.screenshot(path=str(artifacts_dir / "plugin-settings-invalid.png"), full_page=True)
    page.fill("#greeting", "Welcome aboard")
    page.fill("#max_items", "25")
    page.select_option("#mode", "loud")
    page.fill("#tags", "printers\nnetwork")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("text=Settings of Sample plugin saved.")
    assert plugin_settings("sample") == {"greeting": "Welcome aboard", "max_items": 25, "mode": "loud",
                                         "tags": ["printers", "network"], "notify": False}

    page.goto("/admin/tasks/")
    assert page.locator("td.col-title", has_text="<script>alert('x')</script> in a title").count() == 1
    for task in tasks[:2]:
        page.check(f"input.action-checkbox[value='{task.id}']")
    page.select_option("#bulk_assignee", str(agent.id))
    page.click("#bulk-assign")
    page.wait_for_selector("text=2 tasks assigned.")
    assert [Task.get_by_id(t.id).assignee_id for t in tasks] == [agent.id, agent.id, None]
    assert page.locator("td.col-assignee", has_text="Aggie Agent").count() == 2
    page.screenshot(path=str(artifacts_dir / "task-list.png"), full_page=True)

    page.get_by_role("link", name="Home").click()
    page.wait_for_selector("text=Workload per person")
    page.screenshot(path=str(artifacts_dir / "home.png"), full_page=True)
    page.get_by_role("link", name="Health").click()
    page.wait_for_selector("text=Periodic jobs")
    page.screenshot(path=str(artifacts_dir / "health.png"), full_page=True)
