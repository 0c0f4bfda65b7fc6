"""Subscriptions, VAPID keys and delivering notifications as Web Push messages.

Each message is encrypted for the subscription per RFC 8291 (``aes128gcm``, by pywebpush and http-ece),
signed per RFC 8292 (a VAPID JWT by py-vapid, ``Authorization: vapid t=..., k=...``) and POSTed through
the core's outbound guard to the subscription's push service, never anywhere else. Delivery uses the core
ledger (``workdesk.notifications.delivery``): retries with backoff (a 429's ``Retry-After`` is honoured),
dead letters, and a subscription the push service reports gone (404, 410) is removed.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from flask_babel import gettext as _
from py_vapid import Vapid
from pywebpush import WebPusher

from workdesk import (NotFound, Notification, User, ValidationFailed, notifications, outbound, parse_id,
                      plugin_settings, save_plugin_settings, utcnow, write_transaction)

from .models import PushDelivery, Subscription

CHANNEL = "webpush"
GONE = {404, 410}
RETRYABLE = {408, 425, 429}
JWT_LIFETIME = dt.timedelta(hours=12)  # RFC 8292: at most 24 hours
delivery = notifications.delivery


class DeliveryFailed(Exception):
    """The push service could not be reached or answered with an error worth retrying."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def settings() -> dict:
    return plugin_settings("webpush")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- VAPID keys ---------------------------------------------------------------------------------

def ensure_vapid_keys() -> str:
    """Generate the VAPID key pair once (on enable) and keep the private key as a secret setting."""
    current = settings()
    if current.get("vapid_private_key") and current.get("vapid_public_key"):
        return current["vapid_public_key"]
    vapid = Vapid()
    vapid.generate_keys()
    public = b64url(vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint))
    save_plugin_settings("webpush", {**current, "vapid_private_key": vapid.private_pem().decode(),
                                     "vapid_public_key": public})
    return public


def public_key() -> str:
    return settings().get("vapid_public_key") or ensure_vapid_keys()


# -- subscriptions ------------------------------------------------------------------------------

def _host_allowed(host: str, hosts: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == h.lower() or host.endswith("." + h.lower()) for h in hosts)


def check_endpoint(endpoint: str, current: dict) -> None:
    """Refuse an endpoint that is not a push service host, not https (unless private destinations are
    allowed), or that resolves to a loopback, link-local or private address without the admin's consent."""
    parts = urlsplit(endpoint)
    allow_private = current["allow_private_destinations"]
    message = None
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        message = _("A push subscription endpoint must be an https URL.")
    elif not parts.hostname or not _host_allowed(parts.hostname, current["push_hosts"]):
        message = _("%(host)s is not a push service this Workdesk sends to.", host=parts.hostname or "?")
    else:
        try:
            outbound.check_destination(endpoint, allow_private, setting="allow_private_destinations in the "
                                                                        "webpush settings")
        except (outbound.DestinationRefused, outbound.DestinationUnresolved) as exc:
            message = _("The push service address is refused: %(reason)s", reason=str(exc))
    if message:
        raise ValidationFailed(message, {"endpoint": [message]})


def _key_bytes(value: str, field: str, length: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != length:
        message = _("Not a valid subscription key.")
        raise ValidationFailed(message, {f"keys.{field}": [message]})
    return raw


def subscribe(user: User, data: dict[str, Any]) -> Subscription:
    """Store (or refresh) this browser's subscription for ``user``."""
    current = settings()
    endpoint = data["endpoint"].strip()
    check_endpoint(endpoint, current)
    _key_bytes(data["keys"]["p256dh"], "p256dh", 65)
    _key_bytes(data["keys"]["auth"], "auth", 16)
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    with write_transaction():
        Subscription.delete().where(Subscription.endpoint_hash == digest).execute()  # a browser moves to its new user
        return Subscription.create(user=user, endpoint=endpoint, endpoint_hash=digest, p256dh=data["keys"]["p256dh"],
                                   auth=data["keys"]["auth"], device=(data.get("device") or "")[:100])


def my_subscriptions(user: User) -> list[Subscription]:
    return list(Subscription.select().where(Subscription.user == user).order_by(Subscription.id))


def unsubscribe(user: User, subscription_id: Any) -> None:
    """Revoke one of one's own devices; someone else's is a 404."""
    number = parse_id(subscription_id)
    deleted = Subscription.delete().where(Subscription.id == (number or 0), Subscription.user == user).execute()
    if not deleted:
        raise NotFound(_("No such device."))


def subscription_to_dict(row: Subscription) -> dict[str, Any]:
    return {"id": row.id, "device": row.device, "endpoint_host": urlsplit(row.endpoint).hostname or "",
            "created_at": row.created_at.isoformat()}


# -- messages -----------------------------------------------------------------------------------

def message(note: Notification) -> dict[str, Any]:
    """What the service worker shows: a title, a short body and the page to open when tapped."""
    items = notifications.digest_items(note, CHANNEL) if note.kind == notifications.DIGEST_KIND else []
    body = "\n".join(item.subject for item in items) if items else note.body
    url = notifications.task_url(note.task_id) if note.task_id is not None else notifications.inbox_url()
    return {"title": note.subject, "body": body[:1000], "url": url, "tag": f"workdesk-{note.id}"}


def vapid_headers(endpoint: str, current: dict, now: float | None = None) -> dict[str, str]:
    """``Authorization: vapid t=<JWT>, k=<public key>`` for the endpoint's origin (RFC 8292)."""
    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": current["subject"],
              "exp": int((now or time.time()) + JWT_LIFETIME.total_seconds())}
    return Vapid.from_pem(current["vapid_private_key"].encode()).sign(claims)


def push(endpoint: str, body: bytes, headers: dict[str, str], current: dict) -> int:
    """POST an encrypted message through the core's outbound guard; the status, or raise."""
    try:
        connection = outbound.guarded_connection(endpoint, current["timeout_seconds"],
                                                 current["allow_private_destinations"],
                                                 setting="allow_private_destinations in the webpush settings")
    except outbound.DestinationRefused as exc:
        raise delivery.PermanentDeliveryError(str(exc)) from None
    except outbound.DestinationUnresolved as exc:
        raise DeliveryFailed(str(exc)) from None
    parts = urlsplit(endpoint)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        response.read(65536)
        status, retry_after = response.status, response.getheader("Retry-After")
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    if status >= 500 or status in RETRYABLE:
        seconds = int(retry_after) if retry_after and retry_after.strip().isdigit() else None
        raise DeliveryFailed(f"the push service answered {status}", retry_after=seconds)
    raise delivery.PermanentDeliveryError(f"the push service answered {status}; not retried")


def _send_row(row: PushDelivery, current: dict) -> None:
    subscription = Subscription.get_or_none(Subscription.id == int(row.destination))
    if subscription is None:
        raise delivery.PermanentDeliveryError("the device unsubscribed")
    note = Notification.get_or_none(Notification.id == row.notification_id)
    if note is None:
        raise delivery.PermanentDeliveryError("the notification was deleted")
    data = json.dumps(message(note), ensure_ascii=False).encode()
    encoded = WebPusher({"endpoint": subscription.endpoint,
                         "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}).encode(data, "aes128gcm")
    headers = {"Content-Type": "application/octet-stream", "Content-Encoding": "aes128gcm",
               "TTL": str(current["ttl_seconds"]), "Urgency": "normal", "Topic": f"n{note.id}",
               **vapid_headers(subscription.endpoint, current)}
    try:
        status = push(subscription.endpoint, encoded["body"], headers, current)
    except delivery.PermanentDeliveryError as exc:
        if any(f"answered {code};" in str(exc) for code in GONE):
            with write_transaction():  # the push service says this subscription no longer exists
                Subscription.delete().where(Subscription.id == subscription.id).execute()
        raise
    PushDelivery.update(response_status=status).where(PushDelivery.id == row.id).execute()


def _attempt(row: PushDelivery, current: dict, now: dt.datetime | None = None) -> str:
    """One try through the core ledger; a 429's Retry-After pushes the next try later than the backoff."""
    waits: list[int] = []

    def send(fresh: PushDelivery) -> None:
        try:
            _send_row(fresh, current)
        except DeliveryFailed as exc:
            if exc.retry_after:
                waits.append(exc.retry_after)
            raise
    status = delivery.attempt(row, send, delivery.RetryPolicy.from_settings(current), now)
    if status == "retry" and waits:
        later = (now or utcnow()) + dt.timedelta(seconds=waits[0])
        with write_transaction():
            PushDelivery.update(next_attempt_at=later).where(PushDelivery.id == row.id,
                                                            PushDelivery.next_attempt_at < later).execute()
    return status


def deliver(note: Notification) -> list[str]:
    """Called for each new notification: one ledger row per subscribed device of the recipient."""
    if not notifications.should_deliver(note, CHANNEL):
        return []
    current = settings()
    if not current.get("vapid_private_key"):
        return []
    devices = [str(s.id) for s in Subscription.select(Subscription.id).where(Subscription.user == note.recipient_id)]
    outcomes = []
    for row in delivery.record(PushDelivery, note.id, devices):
        if row.status != "pending":
            outcomes.append(row.status)  # a redelivered event: this device was already handled
            continue
        outcomes.append(_attempt(row, current))
    return outcomes


def deliver_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Retry the pushes whose backoff has passed as of ``now``; returns how many succeeded."""
    current = settings()
    return sum(_attempt(row, current, now) == "sent" for row in delivery.due(PushDelivery, now))


def retry_dead_letters(ids) -> int:
    """An admin's retry: the dead deliveries go out with the next retry run."""
    return delivery.retry_dead(PushDelivery, ids, utcnow())
