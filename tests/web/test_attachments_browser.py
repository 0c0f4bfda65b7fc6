"""In real headless Chromium, at 1280 px and 360 px: a requester uploads several files from the task page,
drops one on the comment box (drag and drop through the page's script, under the Content-Security-Policy)
and picks a mention from the suggestions; the picture opens in the browser, the text file downloads;
an agent on a phone opens the picture and adds a file. Screenshots kept."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from workdesk.models import Attachment, Comment
from workdesk.services.tasks import update_task

from .test_browser import PHONE, assert_fits, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(workdesk_app):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True


def png_bytes(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 500), color).save(out, "PNG")
    return out.getvalue()


def violations_of(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


def drop_files(page, form: str, files: list[tuple[str, str, str]]) -> None:
    """Drag ``(content, name, type)`` files onto ``form`` and drop them, as a person would."""
    data_transfer = page.evaluate_handle("""files => {
        const dt = new DataTransfer();
        for (const [content, name, type] of files) dt.items.add(new File([content], name, {type}));
        return dt; }""", [list(f) for f in files])
    page.dispatch_event(form, "dragenter", {"dataTransfer": data_transfer})
    assert "dragover" in page.locator(form).get_attribute("class")
    page.dispatch_event(form, "drop", {"dataTransfer": data_transfer})


def test_upload_and_open_attachments_on_desktop_and_phone(chromium, live_server, page, artifacts_dir, cast,
                                                           make_task, csrf_on):
    task = make_task(cast.requester, cast.it, title="Projector in room 4 shows stripes",
                     description="It started **after** the firmware update. See https://vendor.example.com/kb/42")
    update_task(cast.admin, task.id, {"assignee_id": cast.agent.id})  # a requester may mention who is on the task
    csp_problems = violations_of(page)

    # Desktop: the requester adds two files at once with the file picker.
    log_in(page, "rita@example.com")
    page.goto(f"/tasks/{task.id}")
    assert page.locator(".desc-card strong", has_text="after").is_visible()
    assert page.locator('.desc-card a[href="https://vendor.example.com/kb/42"]').get_attribute("rel") == \
        "noopener nofollow"
    page.set_input_files("#attach-files", [
        {"name": "stripes.png", "mimeType": "image/png", "buffer": png_bytes((30, 90, 200))},
        {"name": "error-log.txt", "mimeType": "text/plain", "buffer": b"E42 lamp driver fault\n"},
    ])
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"**/tasks/{task.id}#attachments")
    assert page.locator(".flash").inner_text() == "2 files attached."
    assert page.locator(".files-card li.file").count() == 2
    thumb = page.locator(".files-card li.file .thumb img")
    thumb.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", thumb.element_handle())
    page.screenshot(path=artifacts_dir / "00-desktop-files.png", full_page=True)
    assert_fits(page)

    # Drag and drop onto the comment box, and an @mention picked from the suggestions.
    drop_files(page, "form.comment-form", [("serial: PJ-4471", "serial.txt", "text/plain")])
    assert page.evaluate("document.querySelector('#comment-files').files.length") == 1
    box = page.locator("form.comment-form textarea")
    box.click()
    box.type("Thanks @An")
    page.locator(".mention-list button", has_text="Ana Agent").click()
    assert box.input_value() == "Thanks @Ana Agent "
    box.type("here is the serial")
    page.screenshot(path=artifacts_dir / "01-desktop-comment-with-drop.png", full_page=True)
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_url(f"**/tasks/{task.id}#comments")
    comment = Comment.get(Comment.task == task.id)
    assert [a.filename for a in Attachment.select().where(Attachment.comment == comment)] == ["serial.txt"]
    assert page.locator(".comment .mention", has_text="@Ana Agent").is_visible()
    assert page.locator(".comment li.file a.file-name", has_text="serial.txt").is_visible()

    # The text file downloads (never opens as a page); the picture opens in the browser.
    with page.expect_download() as download_info:
        page.locator(".files-card a.file-name", has_text="error-log.txt").click()
    download = download_info.value
    assert download.suggested_filename == "error-log.txt"
    assert open(download.path(), "rb").read() == b"E42 lamp driver fault\n"
    page.locator(".files-card .thumb").click()
    page.wait_for_url("**/view")
    assert page.evaluate("document.contentType") == "image/png"
    page.screenshot(path=artifacts_dir / "02-desktop-picture-opened.png")
    assert not csp_problems, csp_problems

    # A phone: the agent of IT sees the files and the comment, opens the picture and adds one more file.
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    try:
        log_in(phone, "ana@example.com")
        phone.goto(f"/tasks/{task.id}")
        assert phone.locator(".files-card li.file").count() == 2
        phone.screenshot(path=artifacts_dir / "03-phone-task-files.png", full_page=True)
        assert_fits(phone)
        phone.set_input_files("#attach-files", [{"name": "replacement-quote.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"%PDF-1.7\n% quote for a new lamp\n"}])
        phone.get_by_role("button", name="Upload").click()
        phone.wait_for_url(f"**/tasks/{task.id}#attachments")
        assert phone.locator(".files-card li.file").count() == 3
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "04-phone-after-upload.png", full_page=True)
        phone.locator(".files-card .thumb").click()
        phone.wait_for_url("**/view")
        assert phone.evaluate("document.contentType") == "image/png"
        phone.screenshot(path=artifacts_dir / "05-phone-picture-opened.png")
    finally:
        context.close()


def test_filing_a_task_with_files_on_phone_and_desktop(chromium, live_server, page, artifacts_dir, cast, csrf_on):
    from workdesk.models import Task

    # A phone: the requester files a request with a photo taken of the problem.
    context = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15000)
    csp_problems = violations_of(phone)
    try:
        log_in(phone, "rita@example.com")
        phone.goto("/tasks/new")
        assert phone.locator("#new-task-files").is_visible()
        phone.fill("input[name=title]", "Water on the floor by the lift")
        phone.fill("textarea[name=description]", "Near the **2nd floor** lift, since this morning.")
        phone.set_input_files("#new-task-files", [
            {"name": "IMG_0412.png", "mimeType": "image/png", "buffer": png_bytes((20, 120, 220))}])
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "10-phone-new-task-with-photo.png", full_page=True)
        phone.get_by_role("button", name="File the task").click()
        phone.wait_for_url("**/tasks/*")
        assert "is filed" in phone.locator(".flash").inner_text()
        task = Task.get(Task.title == "Water on the floor by the lift")
        assert phone.locator(".files-card li.file").count() == 1
        thumb = phone.locator(".files-card li.file .thumb img")
        thumb.scroll_into_view_if_needed()  # thumbnails load lazily, as they come into view
        phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        assert phone.locator(".desc-card strong", has_text="2nd floor").is_visible()
        assert_fits(phone)
        phone.screenshot(path=artifacts_dir / "11-phone-filed-with-photo.png", full_page=True)
        phone.locator(".files-card .thumb").click()
        phone.wait_for_url("**/view")
        assert phone.evaluate("document.contentType") == "image/png"
    finally:
        context.close()
    assert not csp_problems, csp_problems
    assert [a.filename for a in Attachment.select().where(Attachment.task == task)] == ["IMG_0412.png"]

    # A desktop: two files dropped onto the form, filed together with the task.
    log_in(page, "rita@example.com")
    page.goto("/tasks/new")
    page.fill("input[name=title]", "Invoice totals do not match the order")
    drop_files(page, "form[data-dropzone]", [("%PDF-1.7\n% invoice 2026-118\n", "invoice.pdf", "application/pdf"),
                                            ("line;amount\n1;120.00\n", "order.csv", "text/csv")])
    assert page.evaluate("document.querySelector('#new-task-files').files.length") == 2
    page.screenshot(path=artifacts_dir / "12-desktop-new-task-dropped-files.png", full_page=True)
    page.get_by_role("button", name="File the task").click()
    page.wait_for_url("**/tasks/*")
    filed = Task.get(Task.title == "Invoice totals do not match the order")
    assert sorted((a.filename, a.content_type) for a in Attachment.select().where(Attachment.task == filed)) == [
        ("invoice.pdf", "application/pdf"), ("order.csv", "text/plain")]
    assert page.locator(".files-card li.file").count() == 2
    page.screenshot(path=artifacts_dir / "13-desktop-filed-with-files.png", full_page=True)
    assert_fits(page)

    # An agent edits the description: its box suggests people to mention, as the comment box does.
    page.context.clear_cookies()
    log_in(page, "ana@example.com")
    page.goto(f"/tasks/{filed.id}")
    page.locator(".desc-card details.edit summary").click()
    box = page.locator(".desc-card textarea[name=description]")
    box.click()
    box.type("Please send the order, @Ri")
    page.locator(".desc-card .mention-list button", has_text="Rita Requester").click()
    assert box.input_value() == "Please send the order, @Rita Requester "
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".flash")
    assert page.locator(".desc-card .mention", has_text="@Rita Requester").is_visible()
    assert Task.get_by_id(filed.id).description.rstrip() == "Please send the order, @Rita Requester"
