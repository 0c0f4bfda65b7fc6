"""In real headless Chromium: a reviewer opens their queue, approves a stage, and the task page shows it."""
from __future__ import annotations

import pytest

from workdesk.plugins.compliance_review.models import ReviewStage

from .conftest import people_stage

pytestmark = pytest.mark.browser


def test_reviewer_approves_from_the_queue(page, org, make_policy, file_task, make_user, artifacts_dir):
    reviewer = make_user("manager", email="fiona@example.com", password="correct horse", name="Fiona Finance",
                         departments=[org.finance])
    make_policy([people_stage("Cost review", [reviewer]), people_stage("Management approval", [org.ceo])])
    task = file_task(title="Replace the core switch")

    page.goto("/compliance/queue")
    page.fill("input[name=email]", "fiona@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/compliance/queue")
    row = page.locator(f"tr[data-task='{task.id}']")
    assert "Replace the core switch" in row.inner_text() and "Cost review" in row.inner_text()
    page.screenshot(path=str(artifacts_dir / "queue.png"), full_page=True)

    row.locator("a").click()
    page.wait_for_url(f"**/tasks/{task.id}*")
    panel = page.locator("#compliance-review")
    assert "Waiting for: Fiona Finance" in panel.inner_text()
    panel.locator("textarea[name=comment]").fill("Budget line 4711 covers it.")
    panel.locator("button[name=decision][value=approve]").click()
    page.wait_for_url(f"**/tasks/{task.id}#compliance-review")

    panel = page.locator("#compliance-review")
    cost = panel.locator("[data-stage='Cost review']")
    assert cost.get_attribute("data-state") == "approved"
    assert "Fiona Finance" in cost.inner_text() and "approved" in cost.inner_text()
    assert "“Budget line 4711 covers it.”" in cost.inner_text()
    assert panel.locator("[data-stage='Management approval']").get_attribute("data-state") == "active"
    assert "Waiting for: Cleo CEO" in panel.inner_text()
    assert page.locator("button[name=decision]").count() == 0  # nothing left for this reviewer to decide
    page.screenshot(path=str(artifacts_dir / "task-page.png"), full_page=True)
    assert ReviewStage.get(ReviewStage.name == "Cost review").state == "approved"

    page.goto("/compliance/queue")
    assert "No review waits for you." in page.locator("main").inner_text()
