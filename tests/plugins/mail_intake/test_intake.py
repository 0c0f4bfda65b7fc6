"""Mail intake against a real Dovecot IMAP server on 127.0.0.1: messages are delivered with IMAP
APPEND and taken in by the plugin over the IMAP protocol, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import imaplib

import pytest

from workdesk import Comment, Task, notify, services

from .conftest import NOW, mail, requires_dovecot

pytestmark = requires_dovecot
BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def seen_flags(desk) -> list[bool]:
    client = imaplib.IMAP4("127.0.0.1", desk.server.port)
    try:
        client.login(desk.user, desk.server.password)
        client.select("INBOX", readonly=True)
        _, data = client.uid("FETCH", "1:*", "(FLAGS)")
        return [b"\\Seen" in item for item in data if item]
    finally:
        client.logout()


@BOTH_DATABASES
def test_a_new_message_becomes_one_task_with_its_files_and_is_taken_in_once(desk):
    message = mail(desk.requester.email, "Printer on floor 3 is jammed", "It shows error E-42.\n\nThanks")
    message.add_attachment(b"%PDF-1.4\n%test\n", maintype="application", subtype="pdf", filename="report.pdf")
    desk.deliver(message)

    assert desk.run() == {"support": 1}
    (row,) = desk.ledger()
    task = Task.get_by_id(row.task_id)
    assert (row.status, row.verified, row.uid) == ("accepted", 1, 1)
    assert task.title == "Printer on floor 3 is jammed"
    assert "It shows error E-42." in task.description
    assert task.reporter_id == desk.requester.id and task.department_id == desk.dept.id
    attachment, original = services.attachments.visible_attachments(desk.requester, task)
    assert (attachment.filename, attachment.content_type) == ("report.pdf", "application/pdf")
    assert original.filename == "original-message.eml" and original.id == row.original_id
    assert seen_flags(desk) == [True]  # marked only after the task was committed

    # The next run finds nothing new; a lost cursor (a crash after the commit) files nothing twice.
    assert desk.run() == {"support": 0}
    from workdesk.plugins.mail_intake.models import MailboxCursor
    MailboxCursor.update(last_uid=0).execute()
    assert desk.run() == {"support": 1}
    assert Task.select().count() == 1 and len(desk.ledger()) == 1


def test_a_new_uidvalidity_rereads_the_folder_without_duplicates(desk):
    desk.deliver(mail(desk.requester.email, "First"))
    desk.run()
    from workdesk.plugins.mail_intake.models import MailboxCursor
    MailboxCursor.update(uidvalidity=1).execute()  # as if the server had renumbered the folder
    desk.deliver(mail(desk.requester.email, "Second"))
    assert desk.run() == {"support": 2}
    assert sorted(t.title for t in Task.select()) == ["First", "Second"]
    assert MailboxCursor.get().uidvalidity == desk.server.uidvalidity(desk.user)


@BOTH_DATABASES
def test_replies_thread_by_message_id_and_by_task_number_and_reopen_a_resolved_task(desk):
    task = services.tasks.create_task(desk.requester, title="VPN down", department_id=desk.dept.id)
    note = notify(desk.requester, "core.task_commented", "Re: VPN down", task=task)
    reply = mail(desk.requester.email, "Re: VPN down", "Still broken.\n\nOn Monday, Agent wrote:\n> Try again",
                 In_Reply_To=f"<delivery-7.{note.id}@desk.example.com>")
    desk.deliver(reply)
    desk.deliver(mail(desk.requester.email, f"About [#{task.number}]", "One more detail."))
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(desk.agent, task.id, status)
    assert desk.run() == {"support": 2}

    comments = list(Comment.select().where(Comment.task == task).order_by(Comment.id))
    assert [c.body for c in comments] == ["Still broken.", "One more detail."]
    assert {c.author_id for c in comments} == {desk.requester.id}
    assert [row.status for row in desk.ledger()] == ["threaded", "threaded"]
    assert Task.get_by_id(task.id).status == "open"  # the requester's reply reopened it
    assert Task.select().count() == 1


def test_a_task_number_from_someone_outside_the_task_files_a_new_task(desk, make_user):
    task = services.tasks.create_task(desk.requester, title="Private matter", department_id=desk.dept.id)
    stranger = make_user("requester")
    desk.deliver(mail(stranger.email, f"Re: [#{task.number}] Private matter", "Let me in"))
    desk.run()
    (row,) = desk.ledger()
    assert row.status == "accepted" and row.task_id != task.id
    assert Comment.select().where(Comment.task == task).count() == 0


@BOTH_DATABASES
def test_a_spoofed_from_never_acts_as_the_user(desk):
    # The mailbox trusts the users' domain's DKIM, but this message carries no signature: only its From.
    task = services.tasks.create_task(desk.requester, title="Payroll", department_id=desk.dept.id)
    desk.deliver(mail(desk.requester.email, f"Re: [#{task.number}] Payroll", "Close it please"), sign=False)
    desk.run()
    (row,) = desk.ledger()
    filed = Task.get_by_id(row.task_id)
    assert row.status == "accepted" and row.verified == 0 and filed.id != task.id
    assert filed.reporter_id != desk.requester.id
    assert "(sender not verified)" in filed.description
    assert Comment.select().count() == 0


def test_unknown_senders_follow_the_mailbox_policy(desk):
    desk.deliver(mail("someone@elsewhere.example", "Hello?"))
    desk.run()
    assert [(r.status, r.reason) for r in desk.ledger()] == [
        ("refused", "sender is not an active user (sender policy: users only)")]
    desk.configure(sender_policy="anyone")
    desk.deliver(mail("other@elsewhere.example", "Broken link on the website"))
    desk.run(NOW + dt.timedelta(minutes=1))
    row = desk.ledger()[-1]
    task = Task.get_by_id(row.task_id)
    assert row.status == "accepted" and "other@elsewhere.example (sender not verified)" in task.description


@BOTH_DATABASES
def test_auto_replies_bounces_and_our_own_mail_create_nothing(desk):
    sender = desk.requester.email
    desk.deliver(mail(sender, "Out of office", Auto_Submitted="auto-replied"))
    desk.deliver(mail(sender, "Newsletter", Precedence="bulk"))
    desk.deliver(mail(sender, "Away", X_Autoreply="yes"))
    desk.deliver(mail(desk.address, "Our own"))
    bounce = mail("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender",
                  In_Reply_To="<delivery-12.34@desk.example.com>")
    desk.deliver(bounce)
    desk.deliver(mail(sender, "Auto-Submitted: no is a person", Auto_Submitted="no"))
    desk.run()
    rows = desk.ledger()
    assert [r.status for r in rows] == ["ignored"] * 5 + ["accepted"]
    assert rows[0].reason == "Auto-Submitted: auto-replied" and rows[1].reason == "Precedence: bulk"
    assert rows[4].reason == "bounce of notification 34 (email delivery 12)"
    assert Task.select().count() == 1


@BOTH_DATABASES
def test_a_flooding_sender_is_throttled_and_admins_are_told(desk):
    from workdesk import Notification
    desk.configure(max_per_sender_per_hour=3)
    for n in range(5):
        desk.deliver(mail(desk.requester.email, f"Storm {n}"))
    desk.run()
    assert [r.status for r in desk.ledger()] == ["accepted"] * 3 + ["throttled"] * 2
    assert Task.select().count() == 3
    told = Notification.select().where(Notification.kind == "mail_intake.throttled")
    assert [n.recipient_id for n in told] == [desk.admin.id]  # once, whatever the number of refusals
    desk.deliver(mail(desk.requester.email, "An hour later"))
    desk.run(NOW + dt.timedelta(hours=1, minutes=1))
    assert desk.ledger()[-1].status == "accepted"


def test_an_oversized_message_is_refused_without_being_downloaded(desk):
    desk.configure(max_message_kb=1)
    desk.deliver(mail(desk.requester.email, "Huge", "x" * 4000))
    desk.run()
    (row,) = desk.ledger()
    assert row.status == "refused" and row.reason.startswith("larger than 1 KB")
    assert Task.select().count() == 0


@BOTH_DATABASES
def test_disabling_and_enabling_keeps_the_ledger(desk, enable_plugin):
    from workdesk.registry import set_plugin_enabled
    desk.deliver(mail(desk.requester.email, "Before"))
    desk.run()
    set_plugin_enabled("mail_intake", False)
    set_plugin_enabled("mail_intake", True)
    from workdesk.plugins.mail_intake.models import MailboxCursor
    MailboxCursor.update(last_uid=0).execute()
    desk.run()
    assert len(desk.ledger()) == 1 and Task.select().count() == 1


def test_a_wrong_password_is_recorded_without_the_password(desk):
    desk.configure(password="not-the-password")
    assert desk.run() == {"support": 0}
    from workdesk.plugins.mail_intake.models import MailboxCursor
    cursor = MailboxCursor.get()
    assert cursor.last_error and "not-the-password" not in cursor.last_error


def test_handled_messages_can_be_moved_to_another_folder(desk):
    desk.configure(processed_folder="Handled")
    desk.deliver(mail(desk.requester.email, "Move me"))
    desk.deliver(mail(desk.requester.email, "Out of office", Auto_Submitted="auto-replied"))
    assert desk.run() == {"support": 2}
    client = imaplib.IMAP4("127.0.0.1", desk.server.port)
    try:
        client.login(desk.user, desk.server.password)
        assert client.select("INBOX", readonly=True)[1] == [b"0"]
        assert client.select('"Handled"', readonly=True)[1] == [b"2"]
    finally:
        client.logout()
    assert desk.run() == {"support": 0} and Task.select().count() == 1
