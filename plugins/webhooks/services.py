"""Building, signing and POSTing webhook payloads (through the core's outbound guard, ``workdesk.outbound``).

Signature (see docs/notifications.md): the receiver gets ``X-Workdesk-Timestamp`` (Unix seconds)
and ``X-Workdesk-Signature: sha256=<hex>``, the HMAC-SHA256 with the endpoint's secret over
``<timestamp>.<raw body>``. :func:`verify_signature` is what a receiver does.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import re
import time
from urllib.parse import urlsplit

from workdesk import Notification, Task, notifications, outbound, plugin_settings, utcnow

from .models import WebhookDelivery

CHANNEL = "webhooks"
SIGNATURE_HEADER = "X-Workdesk-Signature"
TIMESTAMP_HEADER = "X-Workdesk-Timestamp"
EVENT_HEADER = "X-Workdesk-Event"
DELIVERY_HEADER = "X-Workdesk-Delivery"
SIGNATURE_TOLERANCE_SECONDS = 300
RETRYABLE_STATUSES = {408, 425, 429}
delivery = notifications.delivery


class DeliveryFailed(Exception):
    """The receiver answered with an error worth retrying (5xx, 408, 429) or could not be reached."""


def settings() -> dict:
    return plugin_settings("webhooks")


def policy(current: dict) -> delivery.RetryPolicy:
    return delivery.RetryPolicy.from_settings(current)


# -- signing ----------------------------------------------------------------------------------

def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Workdesk-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: the signature matches (in constant time) and the timestamp is recent,
    so a captured request cannot be replayed later."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")


def post(url: str, body: bytes, headers: dict[str, str], current: dict) -> int:
    """POST ``body`` to ``url`` through the core's outbound guard (redirects are not followed); return the
    status or raise."""
    try:
        connection = outbound.guarded_connection(url, current["timeout_seconds"], current["allow_private_destinations"],
                                                 setting="allow_private_destinations in the webhooks settings")
    except outbound.DestinationRefused as exc:
        raise delivery.PermanentDeliveryError(str(exc)) from None
    except outbound.DestinationUnresolved as exc:
        raise DeliveryFailed(str(exc)) from None
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise DeliveryFailed(f"the receiver answered {status}")
    raise delivery.PermanentDeliveryError(f"the receiver answered {status}; not retried")


# -- payloads ----------------------------------------------------------------------------------

def _task_data(task_id: int | None) -> dict | None:
    task = Task.get_or_none(Task.id == task_id) if task_id is not None else None
    if task is None:
        return None
    return {"id": task.id, "number": task.number, "title": task.title, "status": task.status,
            "url": notifications.task_url(task.id)}


def _note_data(note: Notification) -> dict:
    return {"id": note.id, "kind": note.kind, "subject": note.subject, "body": note.body,
            "created_at": note.created_at.isoformat(), "task": _task_data(note.task_id)}


def _slack_escape(text: str) -> str:
    # "<!channel>", "<@U123>" and links need "<": escaping it leaves every mention as plain text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Mattermost pings for "@channel", "@all", "@here" and "@<user or group>" wherever "@" starts a
# word, in any case, escaped Markdown or not. A zero-width joiner after every such "@" (any "@"
# not right after a letter or digit, so "bob@example.com" stays as it is) splits the word for its
# mention parser while the text still reads the same: user text never pings anyone.
_MATTERMOST_MENTION = re.compile(r"(?<![^\W_])@(?=[\w@])")
ZERO_WIDTH_JOINER = "\u200d"


def _mattermost_escape(text: str) -> str:
    escaped = "".join("\\" + ch if ch in "\\`*_[]()#<>|~" else ch for ch in text)
    return _MATTERMOST_MENTION.sub("@" + ZERO_WIDTH_JOINER, escaped)


# How each chat format writes user text (task titles, comments, names) so it shows as written and
# neither formats, links nor pings anyone.
CHAT_ESCAPES = {"slack": _slack_escape, "mattermost": _mattermost_escape}


def _chat_lines(note: Notification, items: list[Notification], style: str) -> list[str]:
    escape = CHAT_ESCAPES[style]

    def link(text: str, url: str | None) -> str:
        if url is None:
            return escape(text)
        return f"<{url}|{escape(text)}>" if style == "slack" else f"[{escape(text)}]({url})"

    bold = "*" if style == "slack" else "**"
    lines = [f"{bold}{escape(note.subject)}{bold}"]
    if items:
        lines += [f"• {link(item.subject, notifications.task_url(item.task_id))}" for item in items]
    else:
        if note.body:
            lines.append(escape(note.body))
        if note.task_id is not None:
            lines.append(link("Open the task", notifications.task_url(note.task_id)))
    return lines


def payload(note: Notification, endpoint: dict) -> dict:
    """The JSON body for ``endpoint``'s format: the raw event, or a Slack/Mattermost message."""
    items = notifications.digest_items(note, CHANNEL) if note.kind == notifications.DIGEST_KIND else []
    if endpoint["format"] == "raw":
        recipient = note.recipient
        return {"event": "notification.created", "notification": _note_data(note),
                "recipient": {"id": recipient.id, "name": recipient.name, "email": recipient.email},
                "digest_items": [_note_data(item) for item in items]}
    return {"text": "\n".join(_chat_lines(note, items, endpoint["format"])), "username": "Workdesk"}


# -- delivering ---------------------------------------------------------------------------------

def endpoints_for(note: Notification, current: dict) -> list[dict]:
    """The configured endpoints that take ``note``'s kind (a digest: any of its items' kinds)."""
    kinds = {note.kind}
    if note.kind == notifications.DIGEST_KIND:
        kinds = {item.kind for item in notifications.digest_items(note, CHANNEL)}
    return [e for e in current["endpoints"] if not e["kinds"] or kinds & set(e["kinds"])]


def _send_row(row: WebhookDelivery, current: dict, note: Notification | None = None) -> None:
    endpoint = next((e for e in current["endpoints"] if e["name"] == row.destination), None)
    if endpoint is None:
        raise delivery.PermanentDeliveryError(f"the endpoint {row.destination!r} is no longer configured")
    note = note or Notification.get_or_none(Notification.id == row.notification_id)
    if note is None:
        raise delivery.PermanentDeliveryError("the notification was deleted")
    body = json.dumps(payload(note, endpoint), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "Workdesk-Webhooks/1.0",
               TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(endpoint["secret"], timestamp, body),
               EVENT_HEADER: "notification.created", DELIVERY_HEADER: f"{note.id}:{endpoint['name']}"}
    WebhookDelivery.update(url=endpoint["url"][:2000]).where(WebhookDelivery.id == row.id).execute()
    status = post(endpoint["url"], body, headers, current)
    WebhookDelivery.update(response_status=status).where(WebhookDelivery.id == row.id).execute()


def deliver(note: Notification) -> list[str]:
    """Called for each new notification: one ledger row per matching endpoint, each POSTed now."""
    if not notifications.should_deliver(note, CHANNEL):
        return []
    current = settings()
    wanted = endpoints_for(note, current)
    if not wanted:
        return []
    outcomes = []
    for row in delivery.record(WebhookDelivery, note.id, [e["name"] for e in wanted]):
        if row.status != "pending":
            outcomes.append(row.status)  # a redelivered event: this endpoint was already handled
            continue
        outcomes.append(delivery.attempt(row, lambda r: _send_row(r, current, note), policy(current), fresh=True))
    return outcomes


def deliver_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Retry the deliveries whose backoff has passed as of ``now``; returns how many succeeded."""
    current = settings()
    return delivery.retry_due(WebhookDelivery, lambda r: _send_row(r, current), policy(current), now)


def retry_dead_letters(ids) -> int:
    """An admin's retry: the dead deliveries go out with the next retry run."""
    return delivery.retry_dead(WebhookDelivery, ids, utcnow())
