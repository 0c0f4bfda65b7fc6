"""The delivery ledger shared by delivery plugins: one row per notification and destination.

A plugin subclasses :class:`DeliveryRecord` for its own table (``email_delivery``...). The unique
``(notification_id, destination)`` pair makes delivery idempotent per notification and channel:
the row is written before the first attempt and checked before every attempt, so a redelivered
``notification.created`` event never sends a second time what was sent.

Who may attempt a row is decided by its status, so no two workers send the same row:

- ``pending`` (never tried) belongs to the ``deliver_notification`` call, which holds the outbox
  event's lease; a worker killed mid-send leaves the row pending and the event is handed to another
  worker when the lease expires, which sends it then.
- ``retry`` (failed, waiting for its backoff) belongs to the plugin's periodic retry job, which the
  job lock runs once at a time.
- ``sent`` and ``dead`` are final; an admin's retry puts a dead row back to ``retry``.
- ``bounced``: sent, then reported undeliverable by the receiving side (a delivery status
  notification that a plugin reading mail matched to the row, see :func:`mark_bounced`); final.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable, Iterable

import marshmallow as ma

from peewee import CharField, IntegerField, TextField

from ..db import BaseModel, UTCDateTimeField, insert_rows, utcnow, write_transaction
from ..schemas import parse_id

log = logging.getLogger("workdesk.notifications.delivery")
STATUSES = ("pending", "retry", "sent", "dead", "bounced")


class PermanentDeliveryError(Exception):
    """A failure that retrying cannot fix (address refused, destination forbidden): the row goes dead at once."""


class DeliveryRecord(BaseModel):
    """Base of a delivery plugin's ledger table (subclass it and set ``Meta.table_name``)."""
    notification_id = IntegerField(index=True)
    destination = CharField(max_length=300)  # an email address, a webhook endpoint's name
    status = CharField(max_length=16, default="pending", index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True, index=True)
    last_error = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_attempt_at = UTCDateTimeField(null=True)
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("notification_id", "destination"), True),)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: the n-th failure waits ``base_seconds * 2**(n-1)`` (capped); ``max_attempts`` ends it."""
    max_attempts: int = 6
    base_seconds: float = 30.0
    max_delay_seconds: float = 6 * 3600.0

    def delay(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.max_delay_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))

    @classmethod
    def from_settings(cls, settings: dict) -> "RetryPolicy":
        """The policy a channel plugin's settings ask for (see :class:`RetrySettings`)."""
        return cls(max_attempts=settings["max_attempts"], base_seconds=settings["retry_base_seconds"])


class RetrySettings(ma.Schema):
    """The retry settings every channel plugin offers; its settings schema derives from this."""
    AT_LEAST_ONCE_HELP = ("Attempts before a delivery becomes a dead letter. Delivery is at least once: a message "
                          "whose receipt was not confirmed is sent again with the same delivery id (Message-ID, "
                          "X-Workdesk-Delivery), for receivers to deduplicate on")
    max_attempts = ma.fields.Integer(load_default=6, validate=ma.validate.Range(1, 20),
                                     metadata={"description": AT_LEAST_ONCE_HELP})
    retry_base_seconds = ma.fields.Float(load_default=30.0, validate=ma.validate.Range(1, 86400),
                                         metadata={"description": "First retry delay; doubled after each failure"})


def record(model: type[DeliveryRecord], notification_id: int, destinations: Iterable[str]) -> list[DeliveryRecord]:
    """Write the ledger rows for ``notification_id`` (existing rows are kept as they are) and return them all."""
    destinations = list(dict.fromkeys(destination[:300] for destination in destinations))
    if not destinations:
        return []
    # One statement, atomic by itself: a transaction around it would only add two round trips per
    # notification and channel.
    insert_rows(model, [{"notification_id": notification_id, "destination": d} for d in destinations],
                conflict=((model.notification_id, model.destination), ()))
    return list(model.select().where((model.notification_id == notification_id)
                                     & model.destination.in_(destinations)).order_by(model.id))


def attempt(row: DeliveryRecord, send: Callable[[DeliveryRecord], None], policy: RetryPolicy,
            now: dt.datetime | None = None, fresh: bool = False) -> str:
    """Send one row unless it is final; record the outcome. Returns the row's new status.

    ``send`` raises to fail: :class:`PermanentDeliveryError` ends the row at once, anything else
    schedules a retry with backoff until ``policy.max_attempts``. Nothing is raised to the caller.
    ``fresh`` says the row was just read from the ledger (as :func:`record` returns them), so it is
    not read again.
    """
    model = type(row)
    fresh = row if fresh else model.get_by_id(row.id)  # the ledger, not a caller's old copy, says if it was sent
    if fresh.status in ("sent", "dead", "bounced"):
        return fresh.status
    now = now or utcnow()
    attempts = fresh.attempts + 1
    try:
        send(fresh)
    except Exception as exc:  # every failure is recorded on the row; the admin panel shows it
        permanent = isinstance(exc, PermanentDeliveryError)
        status = "dead" if permanent or attempts >= policy.max_attempts else "retry"
        error = str(exc) if permanent else f"{type(exc).__name__}: {exc}"
        log.warning("%s #%s to %s failed (attempt %d, now %s): %s", model._meta.table_name, fresh.id,
                    fresh.destination, attempts, status, error)
        with write_transaction():
            model.update(status=status, attempts=attempts, last_error=error[:4000], last_attempt_at=now,
                         next_attempt_at=now + policy.delay(attempts) if status == "retry" else None
                         ).where(model.id == fresh.id).execute()
        return status
    # one statement: atomic without a transaction around it
    model.update(status="sent", attempts=attempts, last_error=None, last_attempt_at=now, sent_at=utcnow(),
                 next_attempt_at=None).where(model.id == fresh.id).execute()
    return "sent"


def due(model: type[DeliveryRecord], now: dt.datetime, limit: int = 100) -> list[DeliveryRecord]:
    """Rows waiting for a retry whose backoff has passed as of ``now``, oldest first."""
    return list(model.select().where((model.status == "retry") & (model.next_attempt_at <= now))
                .order_by(model.next_attempt_at, model.id).limit(limit))


def retry_due(model: type[DeliveryRecord], send: Callable[[DeliveryRecord], None], policy: RetryPolicy,
              now: dt.datetime) -> int:
    """Attempt every row whose backoff has passed as of ``now``; returns how many went out."""
    return sum(attempt(row, send, policy, now=now) == "sent" for row in due(model, now))


def retry_dead(model: type[DeliveryRecord], ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Give dead rows another round (an admin's decision): they are sent by the next retry run."""
    ids = [i for i in map(parse_id, ids) if i is not None]
    if not ids:
        return 0
    with write_transaction():
        return (model.update(status="retry", attempts=0, next_attempt_at=now or utcnow())
                .where(model.id.in_(ids) & (model.status == "dead")).execute())


def mark_bounced(model: type[DeliveryRecord], row_id: int, notification_id: int, reason: str) -> bool:
    """Record that the message of row ``row_id`` (of notification ``notification_id``: both must match,
    so a made-up id marks nothing) bounced, and why. Returns whether such a row exists; marking it
    again only updates the reason."""
    with write_transaction():
        changed = (model.update(status="bounced", last_error=(reason or "bounced")[:4000], next_attempt_at=None)
                   .where((model.id == row_id) & (model.notification_id == notification_id)).execute())
    return bool(changed)
