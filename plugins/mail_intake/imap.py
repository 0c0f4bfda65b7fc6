"""An IMAP connection through the core's outbound guard: the host is resolved and checked once
(private addresses only when the admin allows them), the socket goes to a checked address, and TLS
verifies the certificate against the configured host name."""
from __future__ import annotations

import imaplib
import re
import select
import ssl
import threading
import time

from workdesk import check_destination, outbound

SETTING = "allow_private_destinations in the mail_intake settings"


class GuardedIMAP(imaplib.IMAP4):
    """``imaplib.IMAP4`` whose socket is opened by ``workdesk.outbound.open_socket`` (no second lookup)."""

    def __init__(self, destination, timeout: float, tls: bool):
        self._destination = destination
        self._tls = tls
        super().__init__(destination.host, destination.port, timeout=timeout)

    def _create_socket(self, timeout=None):
        sock = outbound.open_socket(self._destination, timeout or 30.0)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._destination.host)
        return sock


def connect(mailbox: dict, settings: dict) -> GuardedIMAP:
    """A logged-in connection to ``mailbox`` with its folder selected (read-write: flags are set)."""
    security = mailbox["security"]
    destination = check_destination(f"imap://{mailbox['host']}:{mailbox['port']}",
                                    allow_private=settings["allow_private_destinations"], setting=SETTING)
    client = GuardedIMAP(destination, settings["timeout_seconds"], tls=security == "tls")
    try:
        if security == "starttls":
            client.starttls(ssl.create_default_context())
        client.login(mailbox["username"], mailbox["password"])
        status, _ = client.select(_quoted(mailbox["folder"]))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select folder {mailbox['folder']!r}")
    except BaseException:
        _close(client)
        raise
    return client


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _close(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def uidvalidity(client: imaplib.IMAP4) -> int:
    """The selected folder's UIDVALIDITY (a change means every UID was renumbered)."""
    data = client.untagged_responses.get("UIDVALIDITY") or [b"0"]
    return int(data[-1])


def new_uids(client: imaplib.IMAP4, after: int, limit: int) -> list[int]:
    """UIDs above ``after``, oldest first, at most ``limit`` of them."""
    status, data = client.uid("SEARCH", f"UID {after + 1}:*")
    if status != "OK":
        raise imaplib.IMAP4.error("UID SEARCH failed")
    uids = sorted(int(uid) for uid in b" ".join(d for d in data if d).split())
    # "n:*" always matches the highest UID, even when it is below n.
    return [uid for uid in uids if uid > after][:limit]


_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def message_size(client: imaplib.IMAP4, uid: int) -> int | None:
    """The message's size in bytes (None when it is gone), read before the message itself."""
    status, data = client.uid("FETCH", str(uid), "(RFC822.SIZE)")
    for item in data or ():
        found = _SIZE.search(item if isinstance(item, bytes) else item[0])
        if status == "OK" and found:
            return int(found.group(1))
    return None


def fetch(client: imaplib.IMAP4, uid: int, header_only: bool = False) -> bytes | None:
    """The raw message (or its header), without setting \\Seen: that waits until it is committed."""
    part = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
    status, data = client.uid("FETCH", str(uid), f"({part})")
    for item in data or ():
        if status == "OK" and isinstance(item, tuple):
            return item[1]
    return None


def mark_seen(client: imaplib.IMAP4, uid: int) -> None:
    client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")


def ensure_folder(client: imaplib.IMAP4, folder: str) -> None:
    """Create ``folder`` unless it exists (a server answers NO to CREATE for an existing one)."""
    status, data = client.list('""', _quoted(folder))
    if status == "OK" and any(item for item in data if item):
        return
    status, data = client.create(_quoted(folder))
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot create folder {folder!r}: {data!r}")


def move(client: imaplib.IMAP4, uid: int, folder: str) -> None:
    """Move a handled message (RFC 6851 MOVE, else COPY, flag \\Deleted and expunge)."""
    if "MOVE" in client.capabilities:
        status, data = client.uid("MOVE", str(uid), _quoted(folder))
    else:
        status, data = client.uid("COPY", str(uid), _quoted(folder))
        if status == "OK":
            client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
            client.expunge()
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot move UID {uid} to {folder!r}: {data!r}")


def supports_idle(client: imaplib.IMAP4) -> bool:
    return "IDLE" in client.capabilities


def idle(client: imaplib.IMAP4, timeout: float, stop: threading.Event | None = None) -> bool:
    """Wait with IMAP IDLE (RFC 2177) until the server reports new mail in the selected folder, at most
    ``timeout`` seconds or until ``stop`` is set; returns whether new mail was reported. The socket is
    watched with ``select`` in short slices (a blocking read that times out would spoil the connection's
    file object, and ``stop`` must be noticed promptly)."""
    tag = client._new_tag()
    client.send(tag + b" IDLE\r\n")
    answer = client.readline()
    if not answer.startswith(b"+"):
        raise imaplib.IMAP4.error(f"IDLE refused: {answer[:200]!r}")
    sock = client.socket()
    deadline = time.monotonic() + timeout
    arrived = False
    try:
        while not arrived and time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            buffered = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            ready = buffered or select.select([sock], [], [], min(0.5, max(0.0, deadline - time.monotonic())))[0]
            if not ready:
                continue
            line = client.readline()
            if not line:
                raise imaplib.IMAP4.abort("the server closed the connection during IDLE")
            arrived = line.startswith(b"* ") and line.rstrip().upper().endswith((b" EXISTS", b" RECENT"))
    finally:
        client.send(b"DONE\r\n")
        while True:  # the untagged responses that came meanwhile, then the end of IDLE
            line = client.readline()
            if not line:
                raise imaplib.IMAP4.abort("the server closed the connection after IDLE")
            if line.startswith(tag):
                break
    return arrived
