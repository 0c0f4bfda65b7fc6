"""The API under /api/v1/mail-intake, the admin views and the settings: permissions, the error format,
and the password never read back."""
from __future__ import annotations

from workdesk.registry import set_plugin_enabled

from .conftest import mail, requires_dovecot

pytestmark = requires_dovecot


def test_the_api_lists_the_log_and_the_mailboxes_for_admins_only(desk, api_client):
    desk.deliver(mail(desk.requester.email, "Via the API"))
    desk.deliver(mail(desk.requester.email, "Out of office", Auto_Submitted="auto-replied"))
    desk.run()
    admin = api_client(user=desk.admin)
    log = admin.get("/api/v1/mail-intake/messages")
    assert log.status_code == 200
    assert [(m["subject"], m["status"]) for m in log.json["items"]] == [
        ("Out of office", "ignored"), ("Via the API", "accepted")]
    ignored = admin.get("/api/v1/mail-intake/messages?status=ignored&limit=1").json
    assert [m["subject"] for m in ignored["items"]] == ["Out of office"] and ignored["next_cursor"] is None
    page = admin.get("/api/v1/mail-intake/messages?limit=1").json
    rest = admin.get(f"/api/v1/mail-intake/messages?limit=1&cursor={page['next_cursor']}").json
    assert [m["subject"] for m in rest["items"]] == ["Via the API"]

    boxes = admin.get("/api/v1/mail-intake/mailboxes")
    (box,) = boxes.json["items"]
    assert box["name"] == "support" and box["last_uid"] == 2 and box["counts"] == {"accepted": 1, "ignored": 1}
    assert desk.server.password not in boxes.get_data(as_text=True)
    assert admin.get("/api/v1/mail-intake/mailboxes/support").json["last_error"] is None

    missing = admin.get("/api/v1/mail-intake/mailboxes/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = admin.get("/api/v1/mail-intake/messages?status=lost&limit=0")
    assert wrong.status_code == 422 and set(wrong.json["error"]["fields"]) == {"status", "limit"}
    refused = api_client(user=desk.agent).get("/api/v1/mail-intake/messages")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_the_password_is_write_only(desk, api_client):
    admin = api_client(user=desk.admin)
    shown = admin.get("/api/v1/plugins").get_data(as_text=True)
    assert desk.server.password not in shown and "********" in shown
    from workdesk import plugin_settings
    assert plugin_settings("mail_intake")["mailboxes"][0]["password"] == desk.server.password


def test_the_admin_views_show_the_log_and_vanish_when_disabled(desk, client, login):
    desk.deliver(mail(desk.requester.email, "Seen in the admin panel"))
    desk.run()
    login(client, desk.admin)
    page = client.get("/admin/mail-intake/log/")
    assert page.status_code == 200 and "Seen in the admin panel" in page.get_data(as_text=True)
    assert client.get("/admin/mail-intake/mailboxes/").status_code == 200
    exported = client.get("/admin/mail-intake/log/export/csv/")
    assert exported.status_code == 200 and "Seen in the admin panel" in exported.get_data(as_text=True)
    set_plugin_enabled("mail_intake", False)
    assert client.get("/admin/mail-intake/log/").status_code == 404
    assert client.get("/api/v1/mail-intake/messages").status_code == 404


def test_a_failing_message_is_a_dead_letter_that_does_not_block_the_mailbox_and_can_be_retried(
        desk, api_client, monkeypatch):
    from workdesk.plugins.mail_intake import services as intake
    create = intake.services.tasks.create_task

    def refuse_poison(actor, **values):
        if values["title"] == "Poison":
            raise RuntimeError("the database said no")
        return create(actor, **values)
    monkeypatch.setattr(intake.services.tasks, "create_task", refuse_poison)
    desk.deliver(mail(desk.requester.email, "Poison"))
    desk.deliver(mail(desk.requester.email, "Healthy"))
    assert desk.run() == {"support": 2}
    assert [(r.subject, r.status) for r in desk.ledger()] == [("", "failed"), ("Healthy", "accepted")]
    assert desk.ledger()[0].reason == "RuntimeError: the database said no"

    monkeypatch.setattr(intake.services.tasks, "create_task", create)
    admin = api_client(user=desk.admin)
    failed_id = desk.ledger()[0].id
    assert admin.post("/api/v1/mail-intake/messages/999999/retry").status_code == 404
    assert admin.post(f"/api/v1/mail-intake/messages/{failed_id}/retry").json == {"retried": 1}
    assert admin.post(f"/api/v1/mail-intake/messages/{failed_id}/retry").status_code == 404
    desk.run()
    assert sorted((r.subject, r.status) for r in desk.ledger()) == [("Healthy", "accepted"), ("Poison", "accepted")]


def test_test_connection_from_the_api_and_the_admin_panel(desk, api_client, client, login):
    admin = api_client(user=desk.admin)
    assert admin.post("/api/v1/mail-intake/mailboxes/support/check").json == {"ok": True, "problem": ""}
    assert admin.post("/api/v1/mail-intake/mailboxes/nope/check").status_code == 404
    login(client, desk.admin)
    listing = client.get("/admin/mail-intake/mailboxes/").get_data(as_text=True)
    assert "Test connection" in listing
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', listing).group(1)
    checked = client.post("/admin/mail-intake/mailboxes/check/support", data={"csrf_token": token},
                          follow_redirects=True)
    assert "The mailbox support can be read." in checked.get_data(as_text=True)
    desk.configure(password="wrong-password")
    answer = admin.post("/api/v1/mail-intake/mailboxes/support/check").json
    assert answer["ok"] is False and answer["problem"] and "wrong-password" not in answer["problem"]
    assert client.post("/admin/mail-intake/mailboxes/check/support").status_code == 400  # no CSRF token


def test_the_task_page_shows_what_came_by_mail_with_the_original_message(desk, client, login):
    from workdesk import Task, services
    first = mail(desk.requester.email, "Keyboard missing keys", "The Q key is gone.")
    desk.deliver(first)
    desk.run()
    task = Task.get_by_id(desk.ledger()[0].task_id)
    desk.deliver(mail(desk.requester.email, f"Re: [#{task.number}]", "And the W key."))
    desk.run()
    rows = desk.ledger()
    files = {a.id: a for a in services.attachments.visible_attachments(desk.requester, task)}
    assert files[rows[0].original_id].filename == "original-message.eml"
    assert files[rows[1].original_id].comment_id == rows[1].comment_id

    login(client, desk.requester)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "This task came by e-mail from" in page and f"Comment #{rows[1].comment_id} came by e-mail" in page
    original = client.get(f"/tasks/{task.id}/attachments/{rows[0].original_id}")
    assert original.status_code == 200 and b"The Q key is gone." in original.get_data()


def test_keeping_the_original_can_be_switched_off(desk):
    desk.configure(keep_original=False)
    desk.deliver(mail(desk.requester.email, "No copy"))
    desk.run()
    (row,) = desk.ledger()
    assert row.original_id is None and attachment_count(row.task_id) == 0


def attachment_count(task_id: int) -> int:
    from workdesk import Attachment
    return Attachment.select().where(Attachment.task == task_id).count()


def test_odd_input_never_makes_a_500(desk, api_client):
    admin = api_client(user=desk.admin)
    for url in ["/api/v1/mail-intake/messages?cursor=%00", "/api/v1/mail-intake/messages?cursor=not-a-cursor",
                "/api/v1/mail-intake/messages?limit=99999999999999999999", "/api/v1/mail-intake/messages?mailbox=%00",
                "/api/v1/mail-intake/messages?mailbox=" + "x" * 500, "/api/v1/mail-intake/messages?status=%ED%A0%80",
                "/api/v1/mail-intake/mailboxes/%00", "/api/v1/mail-intake/mailboxes/%F0%9F%93%AC",
                "/api/v1/mail-intake/messages/99999999999/retry"]:
        method = admin.post if url.endswith("/retry") else admin.get
        response = method(url)
        assert response.status_code in (404, 422), (url, response.status_code)
        assert set(response.json["error"]) >= {"code", "message"}, url
    assert admin.post("/api/v1/mail-intake/mailboxes/%00/check").status_code == 404
