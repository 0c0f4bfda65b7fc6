"""The Content-Security-Policy in real headless Chromium: the team pages, the API docs, a plugin's page
and the admin panel load and work without a single violation — the admin panel's filters (select2,
date pickers), bulk actions with their confirmation and the delete confirmation included."""
from __future__ import annotations

import pytest

from workdesk.models import Absence, Task, User

pytestmark = pytest.mark.browser


@pytest.fixture
def violations(page):
    """Every CSP violation Chromium reports on ``page``: its console errors and the
    ``securitypolicyviolation`` events of every document loaded."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.expose_function("reportViolation", lambda text: found.append(text))
    page.add_init_script("""document.addEventListener("securitypolicyviolation", function (e) {
        window.reportViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
                               e.sourceFile + ":" + e.lineNumber);
    });""")
    return found


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")


def test_the_team_pages_and_a_plugin_page_run_without_violations(page, violations, cast, make_task, enable_plugin,
                                                                 workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True
    enable_plugin("compliance_review")
    task = make_task(cast.agent, cast.it, title="Printer jams on tray 2")
    log_in(page, "ana@example.com")
    for path in ("/", "/queue", "/tasks/new", f"/tasks/{task.id}", "/search?q=printer", "/account",
                 "/notifications", "/api/docs", "/compliance/queue"):
        visit(page, path)
    page.goto(f"/tasks/{task.id}")
    page.fill("textarea[name=body]", "Looking into it")
    page.locator("form", has=page.locator("textarea[name=body]")).locator("button[type=submit]").first.click()
    page.wait_for_selector("text=Looking into it")
    assert page.goto("/no/such/page").status == 404
    assert violations == []


def test_the_admin_panel_works_under_the_policy(page, violations, cast, make_task, workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True
    tasks = [make_task(cast.admin, cast.it, title=title) for title in ("Replace the toner", "Fix the door")]
    log_in(page, "ada@example.com")
    for path in ("/admin/", "/admin/tasks/", f"/admin/tasks/details/?id={tasks[0].id}",
                 f"/admin/tasks/edit/?id={tasks[0].id}", "/admin/users/", "/admin/users/new/",
                 f"/admin/users/edit/?id={cast.agent.id}", "/admin/departments/", "/admin/roles/new/",
                 "/admin/absences/new/", "/admin/audit/", "/admin/comments/", "/admin/plugins/",
                 "/admin/plugins/email/settings", "/admin/health/"):
        visit(page, path)

    # Filters: select2 on a choice, the date range picker on a date.
    visit(page, "/admin/tasks/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.filter", has_text="Status").first.click()
    page.wait_for_selector(".select2-container")
    page.locator(".select2-container").last.click()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.filter", has_text="Due").first.click()
    page.locator("input.filter-val[data-date-format]").last.click()
    page.wait_for_selector(".daterangepicker", state="visible")
    assert page.url.endswith("/admin/tasks/")  # the filter links opened nothing

    # A bulk action asks for confirmation: dismissed, nothing happens; accepted, the tasks close.
    resolved = make_task(cast.admin, cast.it, title="Already resolved")
    Task.update(status="resolved").where(Task.id == resolved.id).execute()
    visit(page, "/admin/tasks/")
    page.check(f"input.action-checkbox[value='{resolved.id}']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#bulk-close")
    page.wait_for_timeout(300)
    assert Task.get_by_id(resolved.id).status == "resolved"
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#bulk-close")
    page.wait_for_selector("text=1 task closed.")
    assert dialogs == ["Close the selected tasks? Only resolved tasks can be closed."]
    assert Task.get_by_id(resolved.id).status == "closed"

    # The actions menu of another list (people): confirmation, then the action.
    visit(page, "/admin/users/")
    page.check(f"input.action-checkbox[value='{cast.other_requester.id}']")
    page.get_by_role("button", name="With selected").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Deactivate").click()
    page.wait_for_load_state("load")
    page.wait_for_function("document.readyState === 'complete'")
    assert User.get_by_id(cast.other_requester.id).is_active is False

    # Deleting a row asks first: dismissed, the row stays; accepted, it goes.
    absence = Absence.create(user=cast.agent, starts_at=tasks[0].created_at, ends_at=tasks[0].created_at.replace(
        year=tasks[0].created_at.year + 1), note="Parental leave")
    visit(page, "/admin/absences/")
    delete = page.locator(f"form[action$='/admin/absences/delete/'] button[title='Delete Record']").first
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    page.wait_for_timeout(300)
    assert Absence.get_or_none(Absence.id == absence.id) is not None
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    page.wait_for_selector("text=Record was successfully deleted.")
    assert Absence.get_or_none(Absence.id == absence.id) is None

    assert violations == []
