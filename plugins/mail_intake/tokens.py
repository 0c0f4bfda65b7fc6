"""Reply tokens: a short code in a plus-address (``help+<token>@example.com``) that the ``email``
plugin puts in the ``Reply-To`` of every notification about a task. It names the task and whom it was
sent to, signed with the instance's key (HMAC-SHA256): a reply carrying it may act as that person
(comment, reopen) without trusting its ``From``.

Lower-case letters, digits and ``-`` only: mail servers may fold the case of an address's local part.
A token does not expire (a task's conversation can last months); it stops working when the person may
no longer see the task, when their account is deactivated, or for every token at once when the
instance's ``secret_key`` changes.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from workdesk import signing

PURPOSE = "mail_intake.reply"
KINDS = ("u", "c")  # u: a user; c: an external requester (a contact of this plugin)
_TOKEN = re.compile(r"(\d{1,10})-([uc])(\d{1,10})-([0-9a-f]{24})")


@dataclass(frozen=True)
class ReplyToken:
    task_id: int
    kind: str
    subject_id: int


def make(task_id: int, kind: str, subject_id: int) -> str:
    """The token for replies about task ``task_id`` by the user (``u``) or contact (``c``) ``subject_id``."""
    if kind not in KINDS:
        raise ValueError(f"unknown reply token kind {kind!r}")
    body = f"{int(task_id)}-{kind}{int(subject_id)}"
    return f"{body}-{signing.digest(PURPOSE, body)[:24]}"


def read(token: str) -> ReplyToken | None:
    """The task and person ``token`` names when this instance signed it, else None."""
    found = _TOKEN.fullmatch((token or "").strip().lower())
    if not found:
        return None
    task_id, kind, subject_id, signature = found.groups()
    expected = signing.digest(PURPOSE, f"{task_id}-{kind}{subject_id}")[:24]
    if not hmac.compare_digest(signature, expected):
        return None
    return ReplyToken(int(task_id), kind, int(subject_id))


def plus_address(address: str, token: str) -> str:
    """``local+token@domain`` for ``address`` (``local@domain``)."""
    local, _, domain = address.rpartition("@")
    return f"{local}+{token}@{domain}"
