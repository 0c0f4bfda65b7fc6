"""The inbound SMTP/LMTP listener (``workdesk mail_intake serve``) started on 127.0.0.1 in the test and
driven by the standard library's SMTP and LMTP clients: the same intake as IMAP (ledger, threading,
safety checks), and the answers a sending mail server acts on (550, 552, 250 only once committed)."""
from __future__ import annotations

import re
import smtplib

import pytest

from workdesk import Comment, Task, notify, services

from .conftest import ADDRESS, mail
from .test_content import encoded

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@BOTH_DATABASES
def test_a_message_over_smtp_becomes_one_task_committed_before_the_answer(inbound):
    message = mail(inbound.requester.email, "Projector in room 4 is dead", "No picture at all.", to=ADDRESS)
    message.add_attachment(b"%PDF-1.4\n%test\n", maintype="application", subtype="pdf", filename="photo.pdf")
    assert inbound.send(message) == {}  # no recipient refused
    # The 250 came after the commit: the task is there as soon as sendmail returned.
    (row,) = inbound.ledger()
    task = Task.get_by_id(row.task_id)
    assert (row.mailbox, row.status, row.verified, row.uid) == ("inbound", "accepted", 1, 0)
    assert task.title == "Projector in room 4 is dead" and task.reporter_id == inbound.requester.id
    assert task.department_id == inbound.dept.id and "No picture at all." in task.description
    names = [a.filename for a in services.attachments.visible_attachments(inbound.requester, task)]
    assert names == ["photo.pdf", "original-message.eml"]

    # The same message delivered again (a sending server that missed the 250) files nothing.
    inbound.send(message)
    assert Task.select().count() == 1 and len(inbound.ledger()) == 1


@BOTH_DATABASES
def test_a_reply_over_lmtp_threads_into_its_task_and_reopens_it(inbound):
    task = services.tasks.create_task(inbound.requester, title="Wi-Fi drops", department_id=inbound.dept.id)
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(inbound.agent, task.id, status)
    note = notify(inbound.requester, "core.task_commented", "Re: Wi-Fi drops", task=task)
    reply = mail(inbound.requester.email, "Re: Wi-Fi drops", "Again this morning.\n\n> quoted", to=ADDRESS,
                 In_Reply_To=f"<delivery-3.{note.id}@desk.example.com>")
    assert inbound.send(reply, lmtp=True) == {}
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.body == "Again this morning." and comment.author_id == inbound.requester.id
    assert Task.get_by_id(task.id).status == "open"
    assert [r.status for r in inbound.ledger()] == ["threaded"] and Task.select().count() == 1


@BOTH_DATABASES
def test_auto_replies_and_bounces_are_accepted_but_create_nothing(inbound):
    inbound.send(mail(inbound.requester.email, "Out of office", Auto_Submitted="auto-replied", to=ADDRESS))
    inbound.send(mail("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender", to=ADDRESS,
                      In_Reply_To="<delivery-12.34@desk.example.com>"))
    assert [r.status for r in inbound.ledger()] == ["ignored", "ignored"]
    assert Task.select().count() == 0


@BOTH_DATABASES
def test_unknown_recipients_are_refused_with_550(inbound):
    message = mail(inbound.requester.email, "Lost", to="nobody@desk.example.com")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        inbound.send(message, to="nobody@desk.example.com")
    assert refused.value.recipients["nobody@desk.example.com"][0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        inbound.send(message, to="nobody@desk.example.com", lmtp=True)
    inbound.configure(enabled=False)  # a disabled mailbox takes nothing either
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        inbound.send(mail(inbound.requester.email, "Off", to=ADDRESS))
    assert inbound.ledger() == [] and Task.select().count() == 0


def test_an_address_with_a_plus_tag_reaches_its_mailbox(inbound):
    inbound.send(mail(inbound.requester.email, "Tagged", to="Help+anything@Desk.example.com"),
                 to="Help+anything@Desk.example.com")
    assert [r.status for r in inbound.ledger()] == ["accepted"]


@BOTH_DATABASES
def test_a_message_over_the_mailbox_limit_is_refused_at_data_with_552(inbound):
    inbound.configure(max_message_kb=1)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        inbound.send(mail(inbound.requester.email, "Huge", ("x" * 70 + "\n") * 60, to=ADDRESS))
    assert refused.value.smtp_code == 552
    with pytest.raises(smtplib.SMTPDataError) as refused:
        inbound.send(mail(inbound.requester.email, "Huge", ("y" * 70 + "\n") * 60, to=ADDRESS), lmtp=True)
    assert refused.value.smtp_code == 552
    assert inbound.ledger() == [] and Task.select().count() == 0
    inbound.send(mail(inbound.requester.email, "Small", "fits", to=ADDRESS))
    assert Task.select().count() == 1


@BOTH_DATABASES
@pytest.mark.parametrize("charset,subject,parts,expected", [
    ("koi8-r", "Не работает принтер", [("plain", "Принтер на третьем этаже не печатает.", "koi8-r"),
                                       ("html", "<p>Принтер на третьем этаже <b>не печатает</b>.</p>", "koi8-r")],
     "Принтер на третьем этаже не печатает."),
    ("gb2312", "打印机坏了", [("plain", "三楼的打印机不能打印。", "gb2312"),
                           ("html", "<p>三楼的<b>打印机</b>不能打印。</p>", "gb2312")],
     "三楼的打印机不能打印。"),
], ids=["koi8-r", "gb2312"])
def test_cyrillic_and_chinese_multipart_mail_over_smtp(inbound, charset, subject, parts, expected):
    raw = encoded(inbound.requester.email, subject, parts).replace(b"desk@desk.example.com", ADDRESS.encode())
    inbound.send(raw)
    (row,) = inbound.ledger()
    task = Task.get_by_id(row.task_id)
    assert (task.title, task.description) == (subject, expected)


def test_unverified_senders_follow_the_mailbox_policy_over_smtp(inbound):
    inbound.send(mail("someone@elsewhere.example", "Hello?", to=ADDRESS))
    assert [(r.status, r.reason) for r in inbound.ledger()] == [
        ("refused", "sender is not an active user (sender policy: users only)")]
    assert Task.select().count() == 0


def test_the_serve_command_is_listed_under_the_plugin():
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env["PYTHONPATH"] = str(root)
    out = subprocess.run([sys.executable, "-m", "workdesk.cli", "mail_intake", "--help"], capture_output=True,
                         text=True, env=env, cwd=str(root), timeout=60)
    assert out.returncode == 0 and "serve" in out.stdout


def test_an_imap_mailbox_needs_its_server_and_a_listener_mailbox_does_not(inbound, api_client):
    admin = api_client(user=inbound.admin)
    base = {"name": "other", "address": "other@desk.example.com", "department_id": inbound.dept.id}
    refused = admin.patch("/api/v1/plugins/mail_intake", json={"settings": {"mailboxes": [base]}})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "validation_error"
    assert {"host", "username", "password"} <= {key.rsplit(".", 1)[-1] for key in refused.json["error"]["fields"]}
    taken = admin.patch("/api/v1/plugins/mail_intake",
                        json={"settings": {"mailboxes": [{**base, "source": "listener"}]}})
    assert taken.status_code == 200, taken.json


CONFIGURE = """
import sys
from workdesk.app import init_runtime
from workdesk.config import load_settings
from workdesk.registry import save_plugin_settings, set_plugin_enabled
from workdesk.services.users import create_department
init_runtime(load_settings())
department = create_department(None, name="Front desk")
save_plugin_settings("mail_intake", {"mailboxes": [{"name": "inbound", "source": "listener",
    "address": "help@desk.example.com", "department_id": department.id, "sender_policy": "anyone"}]})
set_plugin_enabled("mail_intake", True)
"""


def test_the_serve_command_takes_mail_in_and_stops_on_sigterm(tmp_path):
    """`workdesk mail_intake serve` as an operator runs it: a real instance folder, a real process."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time
    from pathlib import Path

    from .conftest import free_port
    root = Path(__file__).resolve().parents[3]
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update(WORKDESK_INSTANCE=str(instance), PYTHONPATH=str(root), WORKDESK_PLUGIN_REFRESH_SECONDS="0")
    workdesk = [sys.executable, "-m", "workdesk.cli"]
    subprocess.run([*workdesk, "init", "--admin-email", "boss@example.com", "--admin-password", "correct-horse-1"],
                   env=env, cwd=str(root), check=True, capture_output=True, timeout=120)
    subprocess.run([sys.executable, "-c", CONFIGURE], env=env, cwd=str(root), check=True, capture_output=True,
                   timeout=60)
    port = free_port()
    server = subprocess.Popen([*workdesk, "mail_intake", "serve", "--port", str(port)], env=env, cwd=str(root),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.communicate()[1]
                time.sleep(0.2)
        with client:
            client.sendmail("someone@customer.example", [ADDRESS],
                            bytes(mail("someone@customer.example", "Sent to the command", to=ADDRESS)))
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("someone@customer.example", ["stranger@desk.example.com"], b"Subject: x\r\n\r\nx\r\n")
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Listening for SMTP on 127.0.0.1" in err and "Stopped" in err
    with sqlite3.connect(instance / "workdesk.db") as database:
        titles = [row[0] for row in database.execute("SELECT title FROM core_task")]
    assert titles == ["Sent to the command"]
