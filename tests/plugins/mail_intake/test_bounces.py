"""Bounces (RFC 3464 delivery status notifications) create nothing and are recorded against the
delivery that bounced: the email plugin's delivery row (through the delivery_bounced hook) or this
plugin's own mail to an external requester. Mail goes out to a real aiosmtpd server and the bounce
comes back through the listener."""
from __future__ import annotations

import pytest

from workdesk import Task, notify, services

from .conftest import ADDRESS, mail

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def dsn(bounced_id: str, recipient: str, returned: str = "text/rfc822-headers") -> bytes:
    """A delivery status notification as Postfix writes it, returning the headers (or the message)."""
    original = (f"From: desk@desk.example.com\r\nTo: {recipient}\r\nSubject: Something\r\n"
                f"Message-ID: {bounced_id}\r\n")
    returned_part = (f"Content-Type: {returned}\r\n\r\n{original}" if returned == "text/rfc822-headers" else
                     f"Content-Type: message/rfc822\r\n\r\n{original}\r\nThe body.\r\n")
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        f"To: {ADDRESS}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\n{returned_part}\r\n--B--\r\n").encode()


@BOTH_DATABASES
def test_a_bounce_of_a_notification_marks_its_email_delivery_bounced(inbound, sink, enable_plugin, drain_events):
    from workdesk.plugins.email.models import EmailDelivery
    enable_plugin("email", **sink.settings())
    task = services.tasks.create_task(inbound.requester, title="Mailbox full", department_id=inbound.dept.id)
    notify(inbound.requester, "core.task_commented", "Re: Mailbox full", task=task)
    drain_events()
    (_, sent), = [item for item in sink.messages if item[0] == [inbound.requester.email]]
    assert EmailDelivery.get().status == "sent"

    inbound.send(dsn(sent["Message-ID"], inbound.requester.email))
    row = EmailDelivery.get()
    assert row.status == "bounced" and "5.1.1" in row.last_error and "User unknown" in row.last_error
    (logged,) = inbound.ledger()
    assert logged.status == "ignored" and logged.reason.startswith("bounce of notification")
    assert "recorded on its delivery" in logged.reason
    assert Task.select().count() == 1  # the bounce filed nothing


def test_a_made_up_delivery_id_marks_nothing(inbound, sink, enable_plugin, drain_events):
    from workdesk.plugins.email.models import EmailDelivery
    enable_plugin("email", **sink.settings())
    task = services.tasks.create_task(inbound.requester, title="X", department_id=inbound.dept.id)
    note = notify(inbound.requester, "core.task_commented", "Re: X", task=task)
    drain_events()
    row = EmailDelivery.get()
    inbound.send(dsn(f"<delivery-{row.id}.{note.id + 1}@desk.example.com>", inbound.requester.email))
    assert EmailDelivery.get().status == "sent"
    assert inbound.ledger()[0].status == "ignored"


def test_a_bounce_of_an_acknowledgement_is_recorded_on_the_outgoing_mail(inbound, sink, enable_plugin, drain_events):
    from workdesk.plugins.mail_intake.models import OutgoingMail
    inbound.configure(sender_policy="anyone")
    enable_plugin("email", **sink.settings())
    inbound.send(mail("gone@nowhere.example", "Hello", to=ADDRESS))
    drain_events()
    (_, ack), = sink.messages
    inbound.send(dsn(ack["Message-ID"], "gone@nowhere.example", returned="message/rfc822"))
    outgoing = OutgoingMail.get()
    assert outgoing.status == "bounced" and "5.1.1" in outgoing.reason
    assert inbound.ledger()[-1].reason.startswith("bounce of mail to an external requester")
    assert Task.select().count() == 1
