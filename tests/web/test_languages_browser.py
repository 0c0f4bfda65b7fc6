"""The task page and the inbox in real headless Chromium in Chinese, Vietnamese and Russian, kept as
screenshots (test-artifacts/): each script renders, nothing overflows, the login page's switch works."""
from __future__ import annotations

import pytest

from workdesk.services import tasks as task_service

pytestmark = pytest.mark.browser

SAMPLES = {
    "zh_Hans": ("王芳", "三楼打印机卡纸", "打印机每天早上都卡纸，请尽快更换滚轮。", "任务", "收件箱"),
    "vi": ("Võ Thị Mai", "Máy lạnh phòng họp bị chảy nước", "Nước nhỏ giọt xuống bàn họp từ sáng nay.",
           "Công việc", "Hộp thư đến"),
    "ru": ("Ольга Смирнова", "Не работает VPN у отдела продаж", "С утра никто не может подключиться к серверу.",
           "Задача", "Входящие"),
}


@pytest.mark.parametrize("lang", list(SAMPLES))
def test_task_page_and_inbox_in_each_script(lang, page, make_department, make_user, workdesk_app, artifacts_dir,
                                            drain_events):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True
    name, title, description, _task_word, inbox_word = SAMPLES[lang]
    department = make_department({"zh_Hans": "信息技术部", "vi": "Phòng CNTT", "ru": "ИТ-отдел"}[lang])
    agent = make_user("agent", [department], name=name, email=f"agent-{lang}@example.com", locale=lang)
    boss = make_user("manager", [department], name="Dieter Chef", locale="de")
    task = task_service.create_task(boss, title=title, description=description, department_id=department.id,
                                    priority="high")
    task_service.assign(boss, task.id, agent.id)
    task_service.add_comment(boss, task.id, description)
    drain_events()  # the assignment and the comment reach the inbox, rendered in the reader's language

    page.goto(f"/login?lang={lang}")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/tasks/{task.id}")
    assert page.locator("h1").inner_text() == title
    assert page.locator("html").get_attribute("lang") == lang.replace("_", "-")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=artifacts_dir / f"task-{lang}.png", full_page=True)

    page.goto("/notifications")
    assert inbox_word in page.content()
    assert title in page.content()
    page.screenshot(path=artifacts_dir / f"inbox-{lang}.png", full_page=True)
