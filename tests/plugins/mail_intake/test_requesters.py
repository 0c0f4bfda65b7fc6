"""External requesters: a sender who is not a user is kept on the task, acknowledged by e-mail (in the
mailbox's language, with a reply token), told of later public comments, and their reply threads into
the task and reopens it. Mail comes in through the listener (smtplib) and goes out to a real SMTP
server started in the test (aiosmtpd)."""
from __future__ import annotations

import pytest

from workdesk import Comment, Task, services

from .conftest import ADDRESS, mail

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
CUSTOMER = "olga@customer.example"


def to_customer(sink) -> list:
    return [message for rcpt, message in sink.messages if rcpt == [CUSTOMER]]


@BOTH_DATABASES
def test_an_external_requester_is_acknowledged_told_of_comments_and_reopens_by_reply(inbound, sink, enable_plugin,
                                                                                    drain_events):
    from workdesk.plugins.mail_intake.models import OutgoingMail, Requester
    inbound.configure(sender_policy="anyone", language="de")
    enable_plugin("email", **sink.settings())
    inbound.send(mail(CUSTOMER, "Rechnung fehlt", "Bitte senden Sie die Rechnung.", to=ADDRESS,
                      message_id="<req-1@customer.example>"))
    (row,) = inbound.ledger()
    task = Task.get_by_id(row.task_id)
    requester = Requester.get(Requester.task_id == task.id)
    assert (requester.email, requester.mailbox) == (CUSTOMER, "inbound")
    drain_events()
    drain_events()  # a redelivered event sends nothing twice

    (ack,) = to_customer(sink)
    assert ack["Subject"] == f"[#{task.number}] Rechnung fehlt"
    assert "Wir haben Ihre Anfrage erhalten" in ack.get_content()
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == "<req-1@customer.example>"
    reply_to = ack["Reply-To"]
    assert reply_to.startswith(f"help+{task.id}-c{requester.id}-") and reply_to.endswith("@desk.example.com")

    services.tasks.add_comment(inbound.agent, task.id, "Die Rechnung ist unterwegs.")
    services.tasks.add_comment(inbound.agent, task.id, "Nur intern", internal=True)
    drain_events()
    acked, told = to_customer(sink)
    assert told["Subject"] == f"Re: [#{task.number}] Rechnung fehlt"
    assert "Die Rechnung ist unterwegs." in told.get_content() and "Nur intern" not in told.get_content()
    assert OutgoingMail.select().where(OutgoingMail.status == "sent").count() == 2

    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(inbound.agent, task.id, status)
    answer = mail(CUSTOMER, f"Re: [#{task.number}] Rechnung fehlt", "Nicht angekommen.\n\n> alt", to=reply_to,
                  In_Reply_To=told["Message-ID"])
    assert inbound.send(answer, to=reply_to) == {}
    comment = Comment.select().where(Comment.task == task).order_by(Comment.id.desc()).get()
    assert comment.body.endswith("Nicht angekommen.") and CUSTOMER in comment.body
    assert Task.get_by_id(task.id).status == "open"  # reopened by the requester's reply
    assert inbound.ledger()[-1].status == "threaded" and Task.select().count() == 1
    drain_events()
    assert len(to_customer(sink)) == 2  # their own reply is not mailed back to them


def test_our_own_answers_and_auto_replies_get_no_acknowledgement(inbound, sink, enable_plugin, drain_events):
    inbound.configure(sender_policy="anyone")
    enable_plugin("email", **sink.settings())
    inbound.send(mail(CUSTOMER, "Abwesend", Auto_Submitted="auto-replied", to=ADDRESS))
    inbound.send(mail(CUSTOMER, "Looping", to=ADDRESS, message_id="<mail-intake-7@desk.example.com>"))
    drain_events()
    assert [r.status for r in inbound.ledger()] == ["ignored", "ignored"]
    assert Task.select().count() == 0 and sink.messages == []


def test_a_user_sender_is_no_external_requester(inbound, sink, enable_plugin, drain_events):
    from workdesk.plugins.mail_intake.models import Requester
    enable_plugin("email", **sink.settings())
    inbound.send(mail(inbound.requester.email, "From a user", to=ADDRESS))
    drain_events()
    assert Requester.select().count() == 0 and to_customer(sink) == []


def test_an_external_requester_known_to_the_crm_is_linked_to_their_contact(inbound, enable_plugin, drain_events):
    # crm_sync on: the sender's address (named in the new task) links the task to the pulled contact
    from tests.plugins.crm_sync.fake_crm import TOKEN, start_generic
    from workdesk.plugins.crm_sync import sync
    from workdesk.plugins.crm_sync.models import Customer, TaskCustomer
    from workdesk import utcnow
    crm = start_generic()
    try:
        crm.put("companies", "k1", name="Customer Ltd")
        crm.put("contacts", "c1", name="Olga", emails=[CUSTOMER], company_id="k1")
        enable_plugin("crm_sync", connector="generic", generic_base_url=crm.url, generic_token=TOKEN,
                      allow_private_destinations=True, timeout_seconds=2)
        sync.pull(utcnow())
        inbound.configure(sender_policy="anyone")
        inbound.send(mail(CUSTOMER, "Где счёт?", "Пришлите, пожалуйста.", to=ADDRESS))
        (row,) = inbound.ledger()
        drain_events()
        link = TaskCustomer.get(TaskCustomer.task_id == row.task_id)
        contact = Customer.get_by_id(link.contact_id)
        assert contact.name == "Olga" and link.linked_by == "auto"
    finally:
        crm.stop()
