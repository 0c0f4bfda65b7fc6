"""Real SMTP servers on 127.0.0.1 (aiosmtpd) for the email plugin's tests."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RecordingHandler:
    """Accepts mail and keeps it, or behaves badly on purpose.

    ``mode``: ``accept``; ``refuse`` (550 for every recipient: permanent); ``busy`` (451: try
    later); ``slow`` (holds the DATA reply for ``delay`` seconds, longer than the client waits);
    ``gate`` (accepts ``gate_after`` messages, then holds the next one until ``release`` is set and
    answers it 451 without keeping it: the sender dies meanwhile); ``lost_reply`` (keeps each message
    but answers the first ``lost_replies`` of them 451, as when the server's reply never reaches the
    sender: the sender retries a message that did arrive).
    """
    mode: str = "accept"
    delay: float = 5.0
    gate_after: int = 0
    lost_replies: int = 1
    messages: list = field(default_factory=list)
    gate_reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "refuse":
            return "550 5.1.1 No such user here"
        if self.mode == "busy":
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "gate" and len(self.messages) >= self.gate_after:
            self.gate_reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not kept"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos[0], message))
        if self.mode == "lost_reply" and len(self.messages) <= self.lost_replies:
            return "451 4.3.0 Reply lost on the way"
        return "250 Message accepted"

    def by_notification(self) -> list[str]:
        return [message["X-Workdesk-Notification"] for _to, message in self.messages]


class SmtpServer:
    def __init__(self, handler: RecordingHandler, **options):
        self.handler = handler
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **options)

    @property
    def messages(self) -> list:
        return self.handler.messages

    def settings(self, **extra) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "from_address": "desk@example.com",
                "timeout_seconds": 2, **extra}


@pytest.fixture
def smtp_server():
    """``smtp_server(mode=..., **handler_options)`` starts a server; all stop after the test."""
    started: list[SmtpServer] = []

    def start(mode: str = "accept", authenticator=None, **handler_options) -> SmtpServer:
        options = {}
        if authenticator is not None:
            options = {"authenticator": authenticator, "auth_require_tls": False}
        server = SmtpServer(RecordingHandler(mode=mode, **handler_options), **options)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.handler.release.set()
        server.controller.stop()


def password_checker(username: str, password: str):
    """An aiosmtpd authenticator accepting exactly one login."""
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == username.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)
    return authenticate


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "base_url": "https://desk.example.com"}
