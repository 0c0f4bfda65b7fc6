"""Fixtures for the mail_intake tests: one private Dovecot per test module, a fresh IMAP account per
test (the static passdb takes any user name), the plugin configured for it, and message builders."""
from __future__ import annotations

import datetime as dt
import itertools
import re
import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from .dnsserver import DnsServer, SigningKey
from .dovecot import DOVECOT, Dovecot

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_accounts = itertools.count(1)

requires_dovecot = pytest.mark.skipif(
    DOVECOT is None, reason="Dovecot is not installed (apt-get install -y dovecot-imapd): the IMAP tests need a real server")


@pytest.fixture(scope="module")
def imap_server():
    if DOVECOT is None:
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    server = Dovecot().start()
    yield server
    server.stop()


# The test users' domain (core.testing's make_user): the mailboxes trust its DKIM signatures, and
# deliver()/send() sign mail from it, so a user's mail acts as them as it would from a real provider.
USER_DOMAIN = "example.com"


@pytest.fixture(scope="session")
def dkim_key() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="module")
def dns_server(dkim_key):
    """A real DNS server on 127.0.0.1 publishing the DKIM key of the users' domain."""
    server = DnsServer().start()
    server.publish(USER_DOMAIN, dkim_key)
    yield server
    server.stop()


def signed(message, key: SigningKey) -> bytes:
    """``message`` as bytes, DKIM-signed by the users' domain when its From is there (else unchanged)."""
    from email.utils import parseaddr
    raw = message if isinstance(message, bytes) else bytes(message)
    match = re.search(rb"^From:(.*)$", raw, re.MULTILINE | re.IGNORECASE)
    sender = parseaddr(match.group(1).decode("utf-8", "replace"))[1].lower() if match else ""
    return key.sign(raw, USER_DOMAIN) if sender.endswith("@" + USER_DOMAIN) else raw


def dns_settings(server: DnsServer, servers: list[str] | None = None) -> dict:
    """The resolver settings: the test's DNS server unless ``servers`` says otherwise."""
    return {"dns_servers": [server.address] if servers is None else servers, "dns_timeout_seconds": 1.0}


@pytest.fixture
def desk(workdesk_app, imap_server, enable_plugin, make_department, make_user, dns_server, dkim_key):
    """The plugin enabled with one mailbox on a fresh account; returns a small namespace of helpers."""
    department = make_department()
    account = f"desk{next(_accounts)}"

    class Desk:
        server = imap_server
        dept = department
        user = account
        address = f"{account}@desk.example.com"
        admin = make_user("admin", departments=[department])
        agent = make_user("agent", departments=[department])
        requester = make_user("requester")

        @staticmethod
        def configure(dns_servers: list[str] | None = None, **overrides):
            mailbox = {"name": "support", "host": "127.0.0.1", "port": imap_server.port, "security": "none",
                       "username": account, "password": imap_server.password, "address": Desk.address,
                       "department_id": department.id, "trust_dkim_domains": [USER_DOMAIN], **overrides}
            enable_plugin("mail_intake", mailboxes=[mailbox], allow_private_destinations=True,
                          **dns_settings(dns_server, dns_servers))

        @staticmethod
        def deliver(message, sign: bool = True) -> None:
            """Put ``message`` in the mailbox, DKIM-signed when from the users' domain (``sign=False``: as is)."""
            raw = bytes(message) if not isinstance(message, bytes) else message
            imap_server.append(account, signed(raw, dkim_key) if sign else raw)

        @staticmethod
        def run(now: dt.datetime = NOW) -> dict:
            from workdesk.plugins.mail_intake.services import take_in_all
            return take_in_all(now)

        @staticmethod
        def ledger():
            from workdesk.plugins.mail_intake.models import IntakeMessage
            return list(IntakeMessage.select().order_by(IntakeMessage.id))

    Desk.configure()
    return Desk


def mail(sender: str, subject: str, body: str = "Hello", to: str = "desk@desk.example.com", **headers) -> EmailMessage:
    """A plain-text message with a fresh Message-ID (``message_id=None`` leaves it out)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message_id = headers.pop("message_id", make_msgid(domain="client.example.org"))
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture(scope="module")
def imaps_server():
    """Dovecot with TLS: IMAPS and STARTTLS, its certificate signed by a CA made for the test."""
    if DOVECOT is None:
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    server = Dovecot(tls=True).start()
    yield server
    server.stop()


ADDRESS = "help@desk.example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbound(workdesk_app, enable_plugin, make_department, make_user, dns_server, dkim_key):
    """The plugin with one listener mailbox, and the listener running on a free port (SMTP and LMTP)."""
    from workdesk.plugins.mail_intake import listener
    department = make_department()

    class Inbound:
        dept = department
        address = ADDRESS
        admin = make_user("admin", departments=[department])
        agent = make_user("agent", departments=[department])
        requester = make_user("requester")

        @staticmethod
        def configure(dns_servers: list[str] | None = None, **overrides):
            mailbox = {"name": "inbound", "source": "listener", "address": ADDRESS, "department_id": department.id,
                       "trust_dkim_domains": [USER_DOMAIN], **overrides}
            enable_plugin("mail_intake", mailboxes=[mailbox], **dns_settings(dns_server, dns_servers))

        @staticmethod
        def send(message, to: str = ADDRESS, lmtp: bool = False, sign: bool = True) -> dict:
            """Send ``message`` with smtplib, DKIM-signed when from the users' domain (``sign=False``: as is)."""
            raw = message if isinstance(message, bytes) else bytes(message)
            raw = re.sub(rb"\r?\n", b"\r\n", raw)  # on the wire as mail servers send it (smtplib leaves bytes as they are)
            raw = signed(raw, dkim_key) if sign else raw
            client = smtplib.LMTP("127.0.0.1", Inbound.lmtp_port) if lmtp else smtplib.SMTP("127.0.0.1", Inbound.port)
            try:
                return client.sendmail("sender@client.example.org", [to], raw)
            finally:
                client.quit()

        @staticmethod
        def ledger():
            from workdesk.plugins.mail_intake.models import IntakeMessage
            return list(IntakeMessage.select().order_by(IntakeMessage.id))

    Inbound.configure()
    Inbound.port, Inbound.lmtp_port = free_port(), free_port()
    smtp = listener.start(workdesk_app, "127.0.0.1", Inbound.port)
    lmtp = listener.start(workdesk_app, "127.0.0.1", Inbound.lmtp_port, lmtp=True)
    yield Inbound
    for controller in (smtp, lmtp):
        controller.stop()
        controller.handler.executor.shutdown(wait=True)


class Sink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it is sent: the email plugin's outgoing mail."""

    def __init__(self):
        import email
        import email.policy

        from aiosmtpd.controller import Controller
        self.messages: list = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                sink.messages.append((list(envelope.rcpt_tos), message))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "from_address": "desk@desk.example.com", "timeout_seconds": 5}


@pytest.fixture
def sink():
    server = Sink()
    server.controller.start()
    yield server
    server.controller.stop()
