"""Attachments on the task page and in the API, on SQLite and PostgreSQL: limits, sniffed types, files
served as downloads only to who may see the task, thumbnails, the audit trail, deletion with the task."""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from workdesk.models import Attachment, Task, TaskEvent
from workdesk.services.tasks import add_comment, delete_task
from workdesk.site_settings import save_site_settings

from .conftest import csrf_token_from

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def png_bytes(size=(640, 480), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def upload(client, task_id, *files, path=None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(path or f"/tasks/{task_id}/attachments", data=data, content_type="multipart/form-data")


def stored_files(root: Path) -> list[Path]:
    folder = root / "attachments"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@BOTH_DATABASES
def test_upload_sniff_serve_and_audit(client, login, cast, make_task, workdesk_app):
    task = make_task(cast.requester, cast.it, title="Printer jams")
    login(client, cast.requester)
    response = upload(client, task.id, ("photo.png", png_bytes()), ("notes.txt", b"plain words\n"),
                      ("holiday.png", HTML), ("logo.svg", SVG))
    assert response.status_code == 302 and response.headers["Location"].endswith("#attachments")
    files = {a.filename: a for a in Attachment.select().where(Attachment.task == task)}
    assert files["photo.png"].content_type == "image/png" and files["photo.png"].thumbnail_key
    assert files["notes.txt"].content_type == "text/plain"
    assert files["holiday.png"].content_type == "text/html"  # the extension lied: the bytes decide
    assert files["logo.svg"].content_type == "image/svg+xml" and files["logo.svg"].thumbnail_key is None

    page = client.get(f"/tasks/{task.id}").text
    assert "4 files attached." in page and "photo.png" in page and "attached photo.png, notes.txt" in page

    for name in ("holiday.png", "logo.svg"):  # HTML and SVG only ever as downloads of no renderable type
        served = client.get(f"/tasks/{task.id}/attachments/{files[name].id}")
        assert served.status_code == 200 and served.data in (HTML, SVG)
        assert served.headers["Content-Type"] == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        viewed = client.get(f"/tasks/{task.id}/attachments/{files[name].id}/view")
        assert viewed.headers["Content-Disposition"].startswith("attachment;")
    picture = client.get(f"/tasks/{task.id}/attachments/{files['photo.png'].id}/view")
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.headers["Content-Disposition"].startswith("inline")
    thumb = client.get(f"/tasks/{task.id}/attachments/{files['photo.png'].id}/thumbnail")
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "PNG" and max(image.size) <= 320

    # private files under the instance folder
    for path in stored_files(Path(workdesk_app.instance_path)):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    # another requester of the same department, and an agent of another one: 404, as for a missing file
    for outsider in (cast.other_requester, cast.other_agent):
        login(client, outsider)
        assert client.get(f"/tasks/{task.id}/attachments/{files['photo.png'].id}").status_code == 404
        assert client.get(f"/tasks/{task.id}/attachments/{files['photo.png'].id}/thumbnail").status_code == 404
    login(client, cast.agent)
    assert client.get(f"/tasks/{task.id + 1}/attachments/{files['photo.png'].id}").status_code == 404

    # removal: the uploader may, the audit trail says so, the bytes go
    login(client, cast.requester)
    before = len(stored_files(Path(workdesk_app.instance_path)))
    response = client.post(f"/tasks/{task.id}/attachments/{files['logo.svg'].id}/delete")
    assert response.status_code == 302
    assert len(stored_files(Path(workdesk_app.instance_path))) == before - 1
    trail = TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
    kinds = [(e.kind, e.actor_id) for e in trail]
    assert ("attached", cast.requester.id) in kinds and ("detached", cast.requester.id) in kinds
    assert "removed the file logo.svg" in client.get(f"/tasks/{task.id}").text

    # deleting the task deletes every file it had
    delete_task(cast.admin, task.id)
    assert stored_files(Path(workdesk_app.instance_path)) == []
    assert Attachment.select().count() == 0


@BOTH_DATABASES
def test_size_limit_and_quota(client, login, cast, make_task):
    save_site_settings(None, {"attachment_max_mb": 1, "attachment_quota_mb": 2})
    task = make_task(cast.requester, cast.it)
    login(client, cast.requester)
    big = b"x" * (1024 * 1024 + 1)
    response = upload(client, task.id, ("big.log", big))
    assert response.status_code == 413
    assert "big.log is 1.0 MB; files may be at most 1.0 MB." in response.text
    assert Attachment.select().count() == 0
    near = b"y" * (1024 * 1024 - 10)
    assert upload(client, task.id, ("a.log", near)).status_code == 302
    response = upload(client, task.id, ("b.log", near), ("c.log", near))
    assert response.status_code == 413 and "is full" in response.text
    assert Attachment.select().count() == 1
    assert upload(client, task.id, ("empty.txt", b"")).status_code == 422
    too_many = [(f"f{i}.txt", b"1") for i in range(11)]
    assert "At most 10 files at once." in upload(client, task.id, *too_many).text


@BOTH_DATABASES
def test_api_upload_list_download_delete(api_client, cast, make_task, workdesk_app):
    requester = api_client(user=cast.requester)
    task = make_task(cast.requester, cast.it)
    response = upload(requester, task.id, ("report.pdf", b"%PDF-1.7\n..."), ("page.html", HTML),
                      path=f"/api/v1/tasks/{task.id}/attachments")
    assert response.status_code == 201, response.json
    items = response.json["items"]
    assert [(i["filename"], i["content_type"]) for i in items] == [("report.pdf", "application/pdf"),
                                                                   ("page.html", "text/html")]
    listed = requester.get(f"/api/v1/tasks/{task.id}/attachments").json["items"]
    assert [i["id"] for i in listed] == [i["id"] for i in items]
    content = requester.get(items[1]["content_url"])
    assert content.data == HTML and content.headers["Content-Type"] == "application/octet-stream"
    assert content.headers["Content-Disposition"].startswith("attachment;")
    assert content.headers["X-Content-Type-Options"] == "nosniff"

    outsider = api_client(user=cast.other_agent)
    assert outsider.get(items[0]["content_url"]).status_code == 404
    assert outsider.get(f"/api/v1/tasks/{task.id}/attachments/{items[0]['id']}").json["error"]["code"] == "not_found"
    assert outsider.delete(f"/api/v1/tasks/{task.id}/attachments/{items[0]['id']}").status_code == 404
    # another requester on the task (watching) may see but not remove someone else's file
    watcher = api_client(user=cast.other_requester)
    from workdesk.services.tasks import add_watchers
    add_watchers(task.id, [cast.other_requester.id])
    refused = watcher.delete(f"/api/v1/tasks/{task.id}/attachments/{items[0]['id']}")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert requester.delete(f"/api/v1/tasks/{task.id}/attachments/{items[0]['id']}").status_code == 204
    events = requester.get(f"/api/v1/tasks/{task.id}/events").json["items"]
    assert [e["kind"] for e in events if e["kind"] in ("attached", "detached")] == ["attached", "detached"]
    assert events[-1]["changes"]["attachments"][0][0]["filename"] == "report.pdf"

    # files on one's own comment; not on someone else's, not on a comment of another task
    mine = requester.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "the log"}).json
    theirs = api_client(user=cast.agent).post(f"/api/v1/tasks/{task.id}/comments", json={"body": "reply"}).json
    on_comment = requester.post(f"/api/v1/tasks/{task.id}/attachments", content_type="multipart/form-data",
                                data={"comment_id": str(mine["id"]), "files": [(io.BytesIO(b"log"), "app.log")]})
    assert on_comment.status_code == 201 and on_comment.json["items"][0]["comment_id"] == mine["id"]
    listed = requester.get(f"/api/v1/tasks/{task.id}/comments").json["items"]
    assert listed[0]["attachment_ids"] == [on_comment.json["items"][0]["id"]]
    refused = requester.post(f"/api/v1/tasks/{task.id}/attachments", content_type="multipart/form-data",
                             data={"comment_id": str(theirs["id"]), "files": [(io.BytesIO(b"x"), "x.txt")]})
    assert refused.status_code == 403
    for bad in ("999999", "abc"):
        answer = requester.post(f"/api/v1/tasks/{task.id}/attachments", content_type="multipart/form-data",
                                data={"comment_id": bad, "files": [(io.BytesIO(b"x"), "x.txt")]})
        assert answer.status_code in (404, 422) and answer.json["error"]["code"] in ("not_found", "validation_error")

    save_site_settings(None, {"attachment_max_mb": 1})
    too_big = upload(requester, task.id, ("huge.bin", b"\0" * (1024 * 1024 + 5)),
                     path=f"/api/v1/tasks/{task.id}/attachments")
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "payload_too_large"
    assert too_big.json["error"]["fields"]["files"] == ["huge.bin is 1.0 MB; files may be at most 1.0 MB."]
    none = requester.post(f"/api/v1/tasks/{task.id}/attachments", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and none.json["error"]["fields"]["files"]

    spec = requester.get("/api/v1/openapi.json").json
    upload_op = spec["paths"]["/api/v1/tasks/{task_id}/attachments"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"] and "413" in upload_op["responses"]
    download = spec["paths"]["/api/v1/tasks/{task_id}/attachments/{attachment_id}/content"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    assert "delete" in spec["paths"]["/api/v1/tasks/{task_id}/attachments/{attachment_id}"]


def test_upload_beyond_the_request_limit_follows_the_setting(workdesk_app, cast, make_task, api_client):
    """The app-wide body limit (1 MB by default) does not cap uploads: the attachment limit does."""
    save_site_settings(None, {"attachment_max_mb": 3})
    requester = api_client(user=cast.requester)
    task = make_task(cast.requester, cast.it)
    response = upload(requester, task.id, ("scan.bin", b"\x01\x02" * (1024 * 1024)),
                      path=f"/api/v1/tasks/{task.id}/attachments")
    assert response.status_code == 201 and response.json["items"][0]["size"] == 2 * 1024 * 1024


@BOTH_DATABASES
def test_files_of_an_internal_note_are_hidden_from_requesters(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it)
    add_comment(cast.agent, task.id, "Vendor invoice attached", internal=True,
                uploads=[__import__("workdesk").services.attachments.Upload("invoice.pdf", b"%PDF-1.4 secret")])
    attachment = Attachment.get()
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "invoice.pdf" in page and "Internal note" in page
    assert client.get(f"/tasks/{task.id}/attachments/{attachment.id}").status_code == 200
    login(client, cast.requester)
    page = client.get(f"/tasks/{task.id}").text
    assert "invoice.pdf" not in page and "Vendor invoice" not in page and "internal note" not in page.lower()
    assert client.get(f"/tasks/{task.id}/attachments/{attachment.id}").status_code == 404


def test_comment_with_files_from_the_page(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it)
    login(client, cast.requester)
    response = client.post(f"/tasks/{task.id}/comments", content_type="multipart/form-data",
                           data={"body": "", "files": [(io.BytesIO(png_bytes()), "screen.png")]})
    assert response.status_code == 302
    attachment = Attachment.get()
    assert attachment.comment_id is not None and attachment.thumbnail_key
    page = client.get(f"/tasks/{task.id}").text
    assert f"/tasks/{task.id}/attachments/{attachment.id}/thumbnail" in page
    # an empty comment without files is still refused
    assert client.post(f"/tasks/{task.id}/comments", data={"body": " "}).status_code == 422


def file_a_task(client, department, *files, title="Screen flickers", **fields):
    data = {"title": title, "department_id": str(department.id), "priority": "normal", "assignee_id": "",
            **fields, "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/tasks/new", data=data, content_type="multipart/form-data")


@BOTH_DATABASES
def test_files_attached_when_filing_a_task(client, login, cast, workdesk_app):
    login(client, cast.requester)
    form = client.get("/tasks/new").text
    assert 'enctype="multipart/form-data"' in form and 'name="files" multiple' in form and "data-dropzone" in form
    assert "You can also drop files here." in form and "Markdown: **bold**" in form

    response = file_a_task(client, cast.it, ("screenshot.png", png_bytes()), ("error.png", HTML),
                           description="It flickers after **lunch**.")
    assert response.status_code == 302, response.text
    task = Task.get(Task.title == "Screen flickers")
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    files = {a.filename: a for a in Attachment.select().where(Attachment.task == task)}
    assert files["screenshot.png"].content_type == "image/png" and files["screenshot.png"].thumbnail_key
    assert files["error.png"].content_type == "text/html"  # sniffed, whatever the name says
    assert all(a.comment_id is None and a.uploader_id == cast.requester.id for a in files.values())
    trail = [(e.kind, e.actor_id) for e in TaskEvent.select().where(TaskEvent.task_id == task.id)
             .order_by(TaskEvent.id)]
    assert trail == [("created", cast.requester.id), ("attached", cast.requester.id)]
    page = client.get(f"/tasks/{task.id}").text
    assert "attached screenshot.png, error.png" in page
    assert f"/attachments/{files['screenshot.png'].id}/thumbnail" in page
    served = client.get(f"/tasks/{task.id}/attachments/{files['error.png'].id}")
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    login(client, cast.other_agent)  # of another department: the task and its files are not there for them
    assert client.get(f"/tasks/{task.id}/attachments/{files['screenshot.png'].id}").status_code == 404

    # A file over the limit, or beyond the quota: nothing is filed, nothing is stored, the form says why.
    login(client, cast.requester)
    stored = stored_files(Path(workdesk_app.instance_path))
    save_site_settings(None, {"attachment_max_mb": 1, "attachment_quota_mb": 2})
    response = file_a_task(client, cast.it, ("small.txt", b"fine"), ("dump.log", b"x" * (1024 * 1024 + 1)),
                           title="Too big")
    assert response.status_code == 413
    assert "dump.log is 1.0 MB; files may be at most 1.0 MB." in response.text
    assert 'value="Too big"' in response.text  # the rest of the form is kept
    near = b"y" * (1024 * 1024 - 10)
    response = file_a_task(client, cast.it, ("a.log", near), ("b.log", near), title="Too much")
    assert response.status_code == 413 and "is full" in response.text
    assert Task.select().where(Task.title.in_(["Too big", "Too much"])).count() == 0
    assert stored_files(Path(workdesk_app.instance_path)) == stored

    # A refusal of the task itself keeps the files out too.
    response = file_a_task(client, cast.it, ("note.txt", b"words"), title="Watched", watchers="nobody@example.com")
    assert response.status_code == 422 and "No user with the email nobody@example.com." in response.text
    assert Task.select().where(Task.title == "Watched").count() == 0
    assert stored_files(Path(workdesk_app.instance_path)) == stored

    # Without files the form files as before.
    assert file_a_task(client, cast.it, title="Just words").status_code == 302
    assert Attachment.select().join(Task).where(Task.title == "Just words").count() == 0


def test_filing_a_task_with_files_through_the_service(cast):
    from workdesk.services.attachments import Upload
    from workdesk.services.tasks import create_task
    task = create_task(cast.requester, title="Scanned form", department_id=cast.it.id,
                       uploads=[Upload("scan.pdf", b"%PDF-1.7 form"), Upload("../../etc/notes.txt", b"text")])
    assert [(a.filename, a.content_type) for a in Attachment.select().where(Attachment.task == task)
            .order_by(Attachment.id)] == [("scan.pdf", "application/pdf"), ("notes.txt", "text/plain")]
    with pytest.raises(Exception) as refused:
        create_task(cast.requester, title="Empty file", department_id=cast.it.id, uploads=[Upload("e.txt", b"")])
    assert refused.value.fields == {"files": ["e.txt is empty."]}
    assert Task.select().where(Task.title == "Empty file").count() == 0


def test_upload_needs_csrf(workdesk_app, cast, make_task, login):
    workdesk_app.config["WTF_CSRF_ENABLED"] = True
    client = workdesk_app.test_client()
    task = make_task(cast.requester, cast.it)
    login(client, cast.requester)
    assert upload(client, task.id, ("a.txt", b"hello")).status_code == 400
    assert Attachment.select().count() == 0
    # with its token, a file beyond the app's 1 MB body limit passes: the attachment limit decides,
    # before the CSRF check reads the form
    save_site_settings(None, {"attachment_max_mb": 3})
    token = csrf_token_from(client.get(f"/tasks/{task.id}").text)
    for path in (f"/tasks/{task.id}/attachments", f"/tasks/{task.id}/comments"):
        response = client.post(path, content_type="multipart/form-data", data={
            "csrf_token": token, "files": [(io.BytesIO(b"z" * (2 * 1024 * 1024)), "big.txt")]})
        assert response.status_code == 302, response.text
    assert Attachment.select().count() == 2
    # the new-task form too; without its token nothing is filed
    token = csrf_token_from(client.get("/tasks/new").text)
    assert file_a_task(client, cast.it, ("big.txt", b"z" * (2 * 1024 * 1024)), title="No token").status_code == 400
    response = file_a_task(client, cast.it, ("big.txt", b"z" * (2 * 1024 * 1024)), title="With token",
                           csrf_token=token)
    assert response.status_code == 302, response.text
    assert Task.select().where(Task.title == "No token").count() == 0
    assert Attachment.select().count() == 3
