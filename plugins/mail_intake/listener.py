"""The inbound SMTP/LMTP listener (``workdesk mail_intake serve``): a mail server delivers straight to
Workdesk, and each message goes through the same intake as one read from IMAP (``services.take_in``:
the same ledger, threading and safety checks).

The answer to DATA is given only after the task or comment is committed, so a "250" means the message
is filed; a failure answers 451 and the sending server tries again later, which the ledger (unique per
mailbox and Message-ID) makes harmless. Recipients are mailboxes whose ``source`` is "listener",
matched by their address; ``address+token@domain`` reaches the same mailbox and carries a reply token.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import logging
from email.utils import parseaddr
from typing import Any, Callable

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from workdesk import db, utcnow

from . import services
from .parsing import parse

log = logging.getLogger("workdesk.mail_intake")
MAX_RECIPIENTS = 50
# Outcomes of services.take_in that are final: the message is in the ledger, a repeat files nothing.
FINAL = ("accepted", "threaded", "ignored", "refused", "throttled", "duplicate")


def split_address(address: str) -> tuple[str, str]:
    """``local+tag@domain`` → (``local@domain``, ``tag``), lower-cased (mailbox addresses are compared
    without case, as mail servers do)."""
    address = parseaddr(address)[1].strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "", ""
    base, _, tag = local.partition("+")
    return f"{base}@{domain}", tag


def listener_mailbox(address: str, current: dict | None = None) -> tuple[dict | None, str]:
    """The enabled listener mailbox that ``address`` reaches, and the plus-address tag (a reply token)."""
    bare, tag = split_address(address)
    for mailbox in (current or services.settings())["mailboxes"]:
        if mailbox["enabled"] and mailbox["source"] == "listener" and mailbox["address"].lower() == bare:
            return mailbox, tag
    return None, ""


def fallback_message_id(mailbox: dict, raw: bytes) -> str:
    """The stand-in for a missing Message-ID: a digest of the message, so that the same message delivered
    again (a sending server that lost our 250) is recognised by the ledger."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@{mailbox['name']}.mail-intake.invalid>"


def receive(raw: bytes, recipients: list[str], now: dt.datetime) -> list[tuple[int, str]]:
    """Take ``raw`` in for each recipient (one answer per recipient, in order, as LMTP gives them):
    250 once it is in the ledger, 550 for an address no listener mailbox has, 552 when it is larger
    than the mailbox allows, 451 when it could not be handled now (the sender retries)."""
    current = services.settings()
    answers: list[tuple[int, str]] = []
    done: dict[str, tuple[int, str]] = {}
    for address in recipients:
        mailbox, token = listener_mailbox(address, current)
        if mailbox is None:
            answers.append((550, "5.1.1 No such mailbox here"))
            continue
        key = f"{mailbox['name']}\0{token}"
        if key not in done:
            done[key] = _receive_one(mailbox, token, raw, now)
        answers.append(done[key])
    return answers


def _receive_one(mailbox: dict, token: str, raw: bytes, now: dt.datetime) -> tuple[int, str]:
    limit = mailbox["max_message_kb"] * 1024
    if len(raw) > limit:
        log.info("mail_intake: mailbox %s refused a message of %d bytes (limit %d)", mailbox["name"], len(raw), limit)
        return 552, f"5.3.4 Message too big for this mailbox (at most {mailbox['max_message_kb']} KB)"
    try:
        message = parse(raw, {mailbox["address"].lower()}, fallback_message_id(mailbox, raw))
        status = services.take_in(mailbox, message, 0, 0, len(raw), now, token=token)
    except Exception:  # noqa: BLE001 - the sending server keeps the message and tries again
        log.exception("mail_intake: mailbox %s: a message delivered to the listener could not be taken in",
                      mailbox["name"])
        return 451, "4.3.0 Could not be filed now, try again later"
    if status not in FINAL:
        return 451, "4.3.0 Could not be filed now, try again later"
    return 250, f"2.0.0 {status}"


class IntakeHandler:
    """aiosmtpd handler: recipients checked at RCPT, the message filed at DATA. The database work runs on
    one worker thread (the event loop stays free to talk to other clients, and messages are filed one
    at a time, which SQLite needs), inside ``app``'s context when there is an app (the web process,
    tests); the command line runs with the runtime alone, as a worker does."""

    def __init__(self, app: Any = None, lmtp: bool = False, clock: Callable[[], dt.datetime] = utcnow):
        self.app = app
        self.lmtp = lmtp
        self.clock = clock
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-intake")

    def _in_app(self, fn: Callable, args: tuple) -> Any:
        with app_context(self.app):
            try:
                return fn(*args)
            finally:
                if not db.is_closed():
                    db.close()  # a connection the database dropped meanwhile is not kept

    async def _call(self, fn: Callable, *args) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._in_app, fn, args)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            mailbox, _ = await self._call(listener_mailbox, address)
        except Exception:  # noqa: BLE001 - the settings could not be read: the sender retries
            log.exception("mail_intake: the listener could not check a recipient")
            return "451 4.3.0 Try again later"
        if mailbox is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or b""
        try:
            answers = await self._call(receive, raw, list(envelope.rcpt_tos), self.clock())
        except Exception:  # noqa: BLE001 - the database is unreachable: nothing is filed, the sender retries
            log.exception("mail_intake: the listener could not file a message")
            answers = [(451, "4.3.0 Could not be filed now, try again later")] * len(envelope.rcpt_tos)
        if self.lmtp:  # LMTP answers DATA once per accepted recipient
            return "\r\n".join(f"{code} {text}" for code, text in answers)
        # SMTP has one answer: a temporary failure wins (the retry is harmless), then a refusal.
        for first_digit in (4, 5):
            for code, text in answers:
                if code // 100 == first_digit:
                    return f"{code} {text}"
        return "250 2.0.0 OK: filed"


class IntakeController(Controller):
    """aiosmtpd's threaded controller, speaking LMTP when asked."""

    def __init__(self, handler: IntakeHandler, hostname: str, port: int, data_size_limit: int):
        super().__init__(handler, hostname=hostname, port=port, data_size_limit=data_size_limit,
                         enable_SMTPUTF8=True, ident="Workdesk mail intake")

    def factory(self) -> SMTP:
        server_class = LMTP if self.handler.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def size_limit(current: dict) -> int:
    """The largest message any listener mailbox takes, plus room for the envelope: DATA beyond it is cut
    off by aiosmtpd before it fills memory (each mailbox's own limit is checked at the end of DATA)."""
    sizes = [m["max_message_kb"] * 1024 for m in current["mailboxes"] if m["source"] == "listener"]
    return max(sizes or [1024 * 1024]) + 64 * 1024


def app_context(app: Any):
    """``app``'s context, or nothing when running with the runtime alone (``workdesk`` commands)."""
    return app.app_context() if app is not None else contextlib.nullcontext()


def start(app: Any, host: str, port: int, lmtp: bool = False) -> IntakeController:
    """Start the listener on ``host``:``port`` in a background thread; stop it with ``.stop()``.
    ``app``: the Flask app whose context the database work runs in, or None (the command line)."""
    with app_context(app):
        limit = size_limit(services.settings())
    controller = IntakeController(IntakeHandler(app, lmtp=lmtp), host, port, limit)
    controller.start()
    return controller
