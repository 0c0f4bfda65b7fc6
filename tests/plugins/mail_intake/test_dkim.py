"""DKIM trust (issue 24, "Spoofing"): mail whose From names a user acts as them only with a valid DKIM
signature of a domain the mailbox trusts, aligned with the From. Keys are published by a real DNS
server that the test starts on 127.0.0.1 and looked up with dnspython; messages are signed with dkimpy
and taken in from a real Dovecot (IMAP) and through the listener with smtplib, on SQLite and PostgreSQL."""
from __future__ import annotations

import dkim
import pytest

from workdesk import Comment, Task, notify, plugin_settings, services

from .conftest import ADDRESS, USER_DOMAIN, free_port, mail, requires_dovecot
from .dnsserver import SigningKey

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def resolved_task(place, title: str) -> Task:
    task = services.tasks.create_task(place.requester, title=title, department_id=place.dept.id)
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(place.agent, task.id, status)
    return task


def reply_to(place, task: Task, body: str = "It is broken again.", sender: str | None = None, to: str = ADDRESS):
    """A reply to a notification about ``task`` (threads by In-Reply-To), from the requester by default."""
    note = notify(place.requester, "core.task_commented", f"Re: {task.title}", task=task)
    return mail(sender or place.requester.email, f"Re: {task.title}", body, to=to,
                In_Reply_To=f"<delivery-3.{note.id}@desk.example.com>")


def assert_not_verified(place, task: Task, reason: str) -> None:
    """The reply became a new task filed by the system, flagged "sender not verified", and the intake
    log says why DKIM did not vouch for it."""
    (row,) = place.ledger()
    assert row.status == "accepted" and row.verified == 0, (row.status, row.reason)
    filed = Task.get_by_id(row.task_id)
    assert filed.id != task.id and filed.reporter_id != place.requester.id
    assert "(sender not verified)" in filed.description
    assert Comment.select().where(Comment.task == task).count() == 0
    assert Task.get_by_id(task.id).status == "resolved"
    assert row.reason.startswith("DKIM: not trusted (") and reason in row.reason, row.reason


# -- IMAP (Dovecot) --------------------------------------------------------------------------------

@requires_dovecot
@BOTH_DATABASES
def test_a_signed_reply_from_a_trusted_domain_comments_and_reopens(desk, dns_server):
    task = resolved_task(desk, "Printer jams")
    desk.deliver(reply_to(desk, task, to=desk.address))  # signed by example.com, which the mailbox trusts
    desk.run()
    (row,) = desk.ledger()
    assert (row.status, row.verified, row.task_id) == ("threaded", 1, task.id)
    assert row.reason == f"DKIM: verified by {USER_DOMAIN}"
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.author_id == desk.requester.id and comment.body == "It is broken again."
    assert Task.get_by_id(task.id).status == "open"
    # The key came from the test's DNS server, asked over the network.
    assert f"wd2026._domainkey.{USER_DOMAIN}" in dns_server.queries


@requires_dovecot
@BOTH_DATABASES
def test_a_body_altered_after_signing_is_not_trusted(desk, dkim_key):
    task = resolved_task(desk, "Printer jams")
    raw = dkim_key.sign(bytes(reply_to(desk, task, "Please reopen.", to=desk.address)), USER_DOMAIN)
    desk.deliver(raw.replace(b"Please reopen.", b"Please delete everything."), sign=False)
    desk.run()
    assert_not_verified(desk, task, f"{USER_DOMAIN}: body hash mismatch (the body was changed after signing)")


@requires_dovecot
@BOTH_DATABASES
def test_a_signature_of_another_domain_than_the_from_is_not_trusted(desk, dns_server):
    other = SigningKey()
    dns_server.publish("mailer.example.net", other)  # valid and published, but not the From's domain
    task = resolved_task(desk, "Printer jams")
    desk.configure(trust_dkim_domains=[USER_DOMAIN, "mailer.example.net"])
    desk.deliver(other.sign(bytes(reply_to(desk, task, to=desk.address)), "mailer.example.net"), sign=False)
    desk.run()
    assert_not_verified(desk, task, f"signed by mailer.example.net, not aligned with {USER_DOMAIN}")


@requires_dovecot
def test_a_valid_signature_of_a_domain_the_mailbox_does_not_trust_is_not_trusted(desk):
    desk.configure(trust_dkim_domains=["partner.example.org"])
    task = resolved_task(desk, "Printer jams")
    desk.deliver(reply_to(desk, task, to=desk.address))  # validly signed by example.com
    desk.run()
    assert_not_verified(desk, task, f"{USER_DOMAIN} is not a trusted domain")


@requires_dovecot
def test_no_signature_is_not_trusted(desk):
    task = resolved_task(desk, "Printer jams")
    desk.deliver(reply_to(desk, task, to=desk.address), sign=False)
    desk.run()
    assert_not_verified(desk, task, "no signature")


@requires_dovecot
@BOTH_DATABASES
def test_a_key_missing_from_dns_is_not_trusted_and_nothing_fails(desk, dkim_key):
    task = resolved_task(desk, "Printer jams")
    # Signed with a selector that has no record: the test's DNS server answers NXDOMAIN.
    desk.deliver(dkim_key.sign(bytes(reply_to(desk, task, to=desk.address)), USER_DOMAIN, selector="gone"),
                 sign=False)
    assert desk.run() == {"support": 1}
    assert_not_verified(desk, task, f"{USER_DOMAIN}:")


@requires_dovecot
def test_a_dns_server_that_does_not_answer_leaves_the_sender_unverified(desk):
    desk.configure(dns_servers=[f"127.0.0.1:{free_port()}"])  # nothing listens there
    task = resolved_task(desk, "Printer jams")
    desk.deliver(reply_to(desk, task, to=desk.address))
    assert desk.run() == {"support": 1}  # taken in, not left for a retry nor dead-lettered
    assert_not_verified(desk, task, "DNS did not answer")


@requires_dovecot
def test_relaxed_alignment_a_parent_domain_vouches_for_a_subdomain(desk, make_user, dkim_key):
    colleague = make_user("requester", email=f"ana@eu.{USER_DOMAIN}")
    desk.deliver(dkim_key.sign(bytes(mail(colleague.email, "Badge reader broken", to=desk.address)), USER_DOMAIN),
                 sign=False)
    desk.run()
    (row,) = desk.ledger()
    assert (row.status, row.verified, row.reason) == ("accepted", 1, f"DKIM: verified by {USER_DOMAIN}")
    assert Task.get_by_id(row.task_id).reporter_id == colleague.id


# -- the listener, with smtplib ------------------------------------------------------------------------

@BOTH_DATABASES
def test_over_smtp_a_signed_reply_reopens_and_an_altered_one_does_not(inbound, dkim_key):
    task = resolved_task(inbound, "VPN drops")
    assert inbound.send(reply_to(inbound, task, "Dropped twice today.")) == {}
    (row,) = inbound.ledger()
    assert (row.status, row.verified, row.reason) == ("threaded", 1, f"DKIM: verified by {USER_DOMAIN}")
    (comment,) = Comment.select().where(Comment.task == task)
    assert comment.author_id == inbound.requester.id and Task.get_by_id(task.id).status == "open"

    for status in ("in_progress", "resolved"):
        services.tasks.transition(inbound.agent, task.id, status)
    raw = dkim_key.sign(bytes(reply_to(inbound, task, "Fine now.")).replace(b"\n", b"\r\n"), USER_DOMAIN)
    assert inbound.send(raw.replace(b"Fine now.", b"Close all my tasks."), sign=False) == {}
    row = inbound.ledger()[-1]
    assert (row.status, row.verified) == ("accepted", 0)
    assert "(sender not verified)" in Task.get_by_id(row.task_id).description
    assert Comment.select().where(Comment.task == task).count() == 1
    assert Task.get_by_id(task.id).status == "resolved"


def test_over_smtp_a_second_from_header_is_not_trusted(inbound, dkim_key):
    task = resolved_task(inbound, "VPN drops")
    # A message validly signed for another user of the domain, with the requester's From put above.
    signed = dkim_key.sign(bytes(reply_to(inbound, task, sender=inbound.agent.email)).replace(b"\n", b"\r\n"),
                           USER_DOMAIN)
    forged = f"From: {inbound.requester.email}\r\n".encode() + signed
    assert inbound.send(forged, sign=False) == {}
    assert Comment.select().where(Comment.task == task).count() == 0
    (row,) = inbound.ledger()
    assert row.sender == inbound.requester.email and row.verified == 0
    assert row.reason.startswith("DKIM: not trusted (not exactly one From header")


# -- settings --------------------------------------------------------------------------------------

def test_settings_check_dns_servers_and_drop_the_retired_trust_sender_address(inbound):
    from marshmallow import ValidationError

    from workdesk.plugins.mail_intake.schemas import MailIntakeSettings
    mailbox = {"name": "old", "source": "listener", "address": "old@desk.example.com", "department_id": 1,
               "trust_sender_address": True}
    loaded = MailIntakeSettings().load({"mailboxes": [mailbox], "dns_servers": ["10.0.0.53", "127.0.0.1:5353",
                                                                             "[::1]:53"]})
    assert "trust_sender_address" not in loaded["mailboxes"][0]
    assert loaded["mailboxes"][0]["trust_dkim_domains"] == []
    for bad in (["dns.google"], ["1.2.3.4:0"], ["1.2.3.4:99999"]):
        with pytest.raises(ValidationError) as error:
            MailIntakeSettings().load({"dns_servers": bad})
        assert "dns_servers" in error.value.messages
    with pytest.raises(ValidationError):
        MailIntakeSettings().load({"mailboxes": [{**mailbox, "trust_dkim_domains": ["not a domain"]}]})
    assert plugin_settings("mail_intake")["mailboxes"][0]["trust_dkim_domains"] == [USER_DOMAIN]


def test_garbled_or_unsigned_headers_are_a_no_never_an_error(dns_server, dkim_key):
    from workdesk.plugins.mail_intake.dkim_check import check
    servers, plain = [dns_server.address], bytes(mail("ana@example.com", "Hi"))
    garbled = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=wd2026; this is not a tag list\r\n" + plain
    assert check(garbled, "ana@example.com", [USER_DOMAIN], servers, 1.0).verified is False
    assert check(b"\x00\xff not a message", "ana@example.com", [USER_DOMAIN], servers, 1.0).verified is False
    # A signature with a body length limit: anything could follow the signed part.
    good = dkim_key.sign(plain, USER_DOMAIN)
    result = check(good, "ana@example.com", [USER_DOMAIN], servers, 1.0)
    assert (result.verified, result.domain) == (True, USER_DOMAIN)
    limited = dkim.sign(plain, b"wd2026", USER_DOMAIN.encode(), dkim_key.pem, length=True) + plain
    result = check(limited, "ana@example.com", [USER_DOMAIN], servers, 1.0)
    assert not result.verified and "a body length limit (l=)" in result.reason
    assert not check(good, "ana@example.com", [], servers, 1.0).verified
