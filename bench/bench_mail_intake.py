"""Benchmark of the mail_intake plugin: N messages (1,000 by default) taken in from a real IMAP server.

A private Dovecot (Debian's dovecot-imapd, the tests' configuration) is started in a temporary folder,
N plain-text messages (every tenth with a small attachment) are appended over IMAP, and one run of the
plugin's job takes them all in on SQLite: messages per second and milliseconds per message. Beside it,
two references on the same machine: reading the same N messages with bare ``imaplib`` (UID SEARCH and
one UID FETCH each, nothing else) and filing N tasks with ``services.tasks.create_task`` one transaction
each (no mail at all). The intake's cost is roughly the sum of the two plus parsing and the ledger.

    .venv/bin/python bench/bench_mail_intake.py [--messages 1000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import imaplib
import secrets
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
UTC = dt.timezone.utc


def fresh_app(folder: Path):
    from workdesk.app import create_app
    from workdesk.schema import upgrade_all
    app = create_app({"instance_path": str(folder), "secret_key": secrets.token_urlsafe(24),
                      "database_url": f"sqlite:///{folder / 'bench.db'}", "queue_url": "memory://",
                      "plugin_refresh_seconds": 60, "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    return app


def message(n: int, sender: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "desk@bench.example", f"Request {n}: printer on floor {n % 9}"
    mail["Message-ID"] = f"<bench-{n}@client.example>"
    mail.set_content(f"Hello,\n\nthe printer on floor {n % 9} shows error E-{n}.\n\nThanks\n-- \nA colleague\n")
    if n % 10 == 0:
        mail.add_attachment(b"log line\n" * 50, maintype="text", subtype="plain", filename=f"log-{n}.txt")
    return bytes(mail)


def append_all(server, user: str, count: int, sender: str) -> None:
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(user, server.password)
    for n in range(count):
        client.append("INBOX", None, None, message(n, sender))
    client.logout()


def bare_imap_read(server, user: str) -> float:
    started = time.perf_counter()
    client = imaplib.IMAP4("127.0.0.1", server.port)
    client.login(user, server.password)
    client.select("INBOX", readonly=True)
    _, data = client.uid("SEARCH", "ALL")
    for uid in data[0].split():
        client.uid("FETCH", uid, "(RFC822.SIZE)")
        client.uid("FETCH", uid, "(BODY.PEEK[])")
    client.logout()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    count = parser.parse_args().messages
    from tests.plugins.mail_intake.dovecot import DOVECOT, Dovecot
    if DOVECOT is None:
        print("skipped: Dovecot is not installed (apt-get install -y dovecot-imapd)")
        return
    server = Dovecot().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = fresh_app(Path(tmp))
            with app.app_context():
                from workdesk import services
                from workdesk.registry import save_plugin_settings, set_plugin_enabled
                from workdesk.services.users import create_department, create_user
                department = create_department(None, name="Support")
                sender = create_user(None, email="colleague@bench.example", name="Colleague", password="password123",
                                     role="requester")
                append_all(server, "bench", count, sender.email)
                save_plugin_settings("mail_intake", {"mailboxes": [{
                    "name": "bench", "host": "127.0.0.1", "port": server.port, "security": "none",
                    "username": "bench", "password": server.password, "address": "desk@bench.example",
                    "department_id": department.id,
                    "max_per_sender_per_hour": count + 1}], "allow_private_destinations": True,
                    "batch_size": count})
                set_plugin_enabled("mail_intake", True)

                imap_seconds = bare_imap_read(server, "bench")
                from workdesk.plugins.mail_intake.services import take_in_all
                started = time.perf_counter()
                handled = take_in_all(dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
                intake_seconds = time.perf_counter() - started
                assert handled == {"bench": count}, handled

                started = time.perf_counter()
                for n in range(count):
                    services.tasks.create_task(sender, title=f"Direct {n}", department_id=department.id,
                                               description="the same text, no mail")
                direct_seconds = time.perf_counter() - started
    finally:
        server.stop()

    def line(label: str, seconds: float) -> str:
        return f"{label:<48} {seconds:8.2f} s  {count / seconds:8.0f} msg/s  {1000 * seconds / count:7.2f} ms each"
    print(f"mail_intake: {count} messages (every tenth with an attachment) from Dovecot on 127.0.0.1, SQLite")
    print(line("take in (fetch, parse, task, files, ledger)", intake_seconds))
    print(line("reference: bare imaplib read of the same mail", imap_seconds))
    print(line("reference: create_task alone, one each", direct_seconds))
    print(f"intake / (read + create): {intake_seconds / (imap_seconds + direct_seconds):.2f}")


if __name__ == "__main__":
    main()
