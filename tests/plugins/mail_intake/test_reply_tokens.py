"""Reply tokens: the email plugin's notifications carry a Reply-To with a signed plus-address token
(asked through the reply_address hook) and thread headers; a reply to it acts as the person it names,
whatever its From says, through the listener (smtplib) and through IMAP (Dovecot)."""
from __future__ import annotations

import pytest

from workdesk import Comment, Task, notify, services

from .conftest import ADDRESS, mail, requires_dovecot

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def notification_mail(inbound, sink, drain_events, user, task):
    notify(user, "core.task_commented", f"New comment on #{task.number}", task=task)
    drain_events()
    (to, message), = [item for item in sink.messages if item[0] == [user.email]][-1:]
    return message


@BOTH_DATABASES
def test_notifications_carry_a_reply_token_and_a_reply_to_it_comments_as_that_person(inbound, sink, enable_plugin,
                                                                                     drain_events):
    inbound.configure(trust_dkim_domains=[])  # the From is not trusted: only the token identifies
    enable_plugin("email", **sink.settings())
    task = services.tasks.create_task(inbound.requester, title="Laptop fan noise", department_id=inbound.dept.id)
    first = notification_mail(inbound, sink, drain_events, inbound.requester, task)
    second = notification_mail(inbound, sink, drain_events, inbound.requester, task)

    reply_to = first["Reply-To"]
    local, domain = reply_to.split("@")
    assert domain == "desk.example.com" and local.startswith("help+") and reply_to == reply_to.lower()
    root = f"<workdesk-task-{task.id}@desk.example.com>"
    for message in (first, second):  # one conversation in mail clients: the same root for every message
        assert message["In-Reply-To"] == root and message["References"] == root
    assert first["Message-ID"] != second["Message-ID"]

    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(inbound.agent, task.id, status)
    # Sent from another address (a phone's), to the Reply-To: the token names the requester.
    reply = mail("mobile-1234@carrier.example", "Re: New comment", "It is back.\n\n> earlier", to=reply_to,
                 In_Reply_To=first["Message-ID"])
    assert inbound.send(reply, to=reply_to) == {}
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.author_id == inbound.requester.id and comment.body == "It is back."
    assert Task.get_by_id(task.id).status == "open"  # reopened by its reporter's reply
    (row,) = inbound.ledger()
    assert (row.status, row.verified, row.reason) == ("threaded", 1, "reply token")


@BOTH_DATABASES
def test_a_forged_token_or_one_for_a_task_no_longer_visible_does_not_comment(inbound, make_user):
    from workdesk.plugins.mail_intake import tokens
    inbound.configure(trust_dkim_domains=[], sender_policy="anyone")
    own = services.tasks.create_task(inbound.requester, title="Mine", department_id=inbound.dept.id)
    hidden = services.tasks.create_task(inbound.agent, title="Internal", department_id=inbound.dept.id)
    good = tokens.make(own.id, "u", inbound.requester.id)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    other_user = tokens.make(own.id, "u", inbound.agent.id)[:-24] + good[-24:]  # a signature moved to another user
    not_visible = tokens.make(hidden.id, "u", inbound.requester.id)  # genuine, but the requester cannot see it
    for n, token in enumerate((forged, other_user, not_visible)):
        address = f"help+{token}@desk.example.com"
        inbound.send(mail(inbound.requester.email, f"Attempt {n}", "Close it", to=address), to=address)
    assert Comment.select().count() == 0
    rows = inbound.ledger()
    assert [r.status for r in rows] == ["accepted"] * 3 and {r.verified for r in rows} == {0}
    assert all("(sender not verified)" in Task.get_by_id(r.task_id).description for r in rows)
    assert {r.task_id for r in rows}.isdisjoint({own.id, hidden.id})


@BOTH_DATABASES
def test_the_from_alone_never_comments_even_in_reply_to_a_notification(inbound):
    inbound.configure(trust_dkim_domains=[])
    task = services.tasks.create_task(inbound.requester, title="Payroll", department_id=inbound.dept.id)
    note = notify(inbound.requester, "core.task_commented", "Re: Payroll", task=task)
    inbound.send(mail(inbound.requester.email, "Re: Payroll", "Close it", to=ADDRESS,
                      In_Reply_To=f"<delivery-1.{note.id}@desk.example.com>",
                      References=f"<workdesk-task-{task.id}@desk.example.com>"))
    assert Comment.select().count() == 0
    (row,) = inbound.ledger()
    filed = Task.get_by_id(row.task_id)
    assert row.verified == 0 and filed.id != task.id and filed.reporter_id != inbound.requester.id
    assert "(sender not verified)" in filed.description


def test_a_reply_threads_by_the_task_root_of_the_references(inbound):
    task = services.tasks.create_task(inbound.requester, title="Monitor", department_id=inbound.dept.id)
    inbound.send(mail(inbound.requester.email, "Re: Monitor", "Flickers", to=ADDRESS,
                      References=f"<workdesk-task-{task.id}@desk.example.com>"))
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.body == "Flickers"


@requires_dovecot
def test_a_token_in_the_to_header_threads_mail_read_from_imap(desk):
    from workdesk.plugins.mail_intake import tokens
    desk.configure(trust_dkim_domains=[])
    task = services.tasks.create_task(desk.requester, title="Badge", department_id=desk.dept.id)
    local, domain = desk.address.split("@")
    to = f"{local}+{tokens.make(task.id, 'u', desk.requester.id)}@{domain}"
    desk.deliver(mail("someone@elsewhere.example", "Re: Badge", "Found it, thanks.", to=to))
    desk.run()
    (row,) = desk.ledger()
    assert (row.status, row.verified, row.task_id) == ("threaded", 1, task.id)
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.author_id == desk.requester.id
