"""The long-running reader (``workdesk mail_intake watch``): one thread per enabled IMAP mailbox keeps a
connection open, takes in what is new, then waits with IMAP IDLE where the server offers it (new mail
is taken in within a second or two) or sleeps ``poll_seconds`` where it does not, and reads again.
IDLE is renewed every ``idle_seconds`` (servers end it after 30 minutes; NAT boxes forget quiet
connections sooner). A failed connection is recorded on the mailbox's cursor and retried after
``poll_seconds``. The periodic job may keep running beside it: the ledger files each message once.
"""
from __future__ import annotations

import datetime as dt
import imaplib
import logging
import threading
from typing import Any, Callable

from workdesk import db, outbound, utcnow

from . import imap, services
from .listener import app_context

log = logging.getLogger("workdesk.mail_intake")


def watch_mailbox(app: Any, name: str, stop: threading.Event, poll_seconds: float = 60.0,
                  idle_seconds: float = 600.0, clock: Callable[[], dt.datetime] = utcnow,
                  on_run: Callable[[int], None] | None = None) -> None:
    """Read mailbox ``name`` until ``stop`` is set (the settings are read again after each failure, so
    a changed password or host is picked up). ``on_run`` is told how many messages each run took in."""
    with app_context(app):
        while not stop.is_set():
            current = services.settings()
            mailbox = services.mailbox_named(name)
            if mailbox is None or not mailbox["enabled"] or mailbox["source"] != "imap":
                return
            client = None
            try:
                client = imap.connect(mailbox, current)
                while not stop.is_set():
                    now = clock()
                    count = services.take_in_mailbox(mailbox, current, now, client=client)
                    services._cursor_note(name, now, None)
                    if on_run is not None:
                        on_run(count)
                    if count >= current["batch_size"]:
                        continue  # more is waiting: read on before waiting
                    if imap.supports_idle(client):
                        imap.idle(client, idle_seconds, stop)
                    elif stop.wait(poll_seconds):
                        break
            except (OSError, imaplib.IMAP4.error, outbound.OutboundError) as exc:
                problem = services._problem(mailbox, exc)
                log.warning("mail_intake: watching mailbox %s: %s", name, problem)
                services._cursor_note(name, clock(), problem)
                stop.wait(poll_seconds)
            finally:
                if client is not None:
                    imap._close(client)
                if not db.is_closed():
                    db.close()


def start(app: Any, stop: threading.Event, **options) -> list[threading.Thread]:
    """A watching thread for each enabled IMAP mailbox; they end when ``stop`` is set."""
    with app_context(app):
        names = [m["name"] for m in services.settings()["mailboxes"] if m["enabled"] and m["source"] == "imap"]
    threads = [threading.Thread(target=watch_mailbox, args=(app, name, stop), kwargs=options,
                                name=f"mail-intake-watch-{name}", daemon=True) for name in names]
    for thread in threads:
        thread.start()
    return threads
