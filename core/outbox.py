"""The transactional outbox: events are written with the change and handled by workers after commit.

Delivery is at least once. A worker claims a batch of events (one UPDATE; ``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several workers drain in parallel without waiting on each other) for a lease; if
it dies, another worker claims them again when the lease expires. Each handler's outcome is recorded
per event and plugin (``OutboxDelivery``), written with the finished events once per batch and at
least every ``FLUSH_SECONDS`` (renewing the rest of the batch's leases), so a redelivered event skips
the handlers that already finished and a crash repeats at most that much work.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .db import after_commit, db, insert_rows, utcnow, write_transaction
from .models import OutboxDelivery, OutboxEvent

log = logging.getLogger("workdesk.outbox")
MAX_ATTEMPTS = 5
# Events one claim takes; a batch's outcomes are written at its end and at least every FLUSH_SECONDS.
BATCH_SIZE = 100
FLUSH_SECONDS = 1.0
def this_worker() -> str:
    """This process's name in leases and heartbeats (host and pid): read at each call, since ``workdesk run``
    forks its worker from the loaded master."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class EventKind:
    """How to turn an event's payload into the keyword arguments of a plugin hook."""
    hook: str
    build_kwargs: Callable[[OutboxEvent], dict[str, Any] | None]  # None: nothing to deliver (e.g. task deleted)


EVENT_KINDS: dict[str, EventKind] = {}
# Core subscribers (not plugins) of an event kind: name -> function(event_dict, **kwargs).
SUBSCRIBERS: dict[str, list[tuple[str, Callable]]] = {}
_lease_seconds = 60
_kick: Callable[[], None] | None = None


def configure(lease_seconds: int, kick: Callable[[], None] | None) -> None:
    global _lease_seconds, _kick
    _lease_seconds, _kick = lease_seconds, kick


def register_event_kind(kind: str, hook: str, build_kwargs: Callable[[OutboxEvent], dict | None]) -> None:
    """Declare that events of ``kind`` are delivered to the plugin hook ``hook``."""
    EVENT_KINDS[kind] = EventKind(hook, build_kwargs)


def subscribe(kind: str, name: str, handler: Callable) -> None:
    """Have a core module handle events of ``kind`` like a plugin would (at least once, after commit)."""
    subs = SUBSCRIBERS.setdefault(kind, [])
    if all(existing != name for existing, _ in subs):
        subs.append((name, handler))


def emit(kind: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event inside the current transaction; a worker handles it once the transaction commits."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = OutboxEvent.create(kind=kind, payload=payload)
    if _kick is not None:
        after_commit(_kick)
    return event


def emit_many(kind: str, payloads: list[dict[str, Any]]) -> None:
    """Record many events of one kind with multi-row inserts inside the current transaction (bulk work)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if not payloads:
        return
    now = utcnow()
    insert_rows(OutboxEvent, [{"kind": kind, "payload": payload, "created_at": now, "available_at": now}
                              for payload in payloads])
    if _kick is not None:
        after_commit(_kick)


def claim(now: dt.datetime | None = None, limit: int = BATCH_SIZE, worker_id: str | None = None) -> list[OutboxEvent]:
    """Claim up to ``limit`` pending events whose lease is free, oldest first, with one UPDATE.

    On PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``, so workers claiming at the same
    time take disjoint batches without waiting on each other; on SQLite the IMMEDIATE write
    transaction makes the claim exclusive.
    """
    now, worker_id = now or utcnow(), worker_id or this_worker()
    free = (OutboxEvent.claimed_until.is_null()) | (OutboxEvent.claimed_until < now)
    candidates = (OutboxEvent.select(OutboxEvent.id)
                  .where(OutboxEvent.done_at.is_null() & (OutboxEvent.available_at <= now) & free)
                  .order_by(OutboxEvent.id).limit(limit))
    if db.for_update:
        candidates = candidates.for_update(skip_locked=True)
    until = now + dt.timedelta(seconds=_lease_seconds)
    with write_transaction():
        claimed = list(OutboxEvent.update(claimed_by=worker_id, claimed_until=until, attempts=OutboxEvent.attempts + 1)
                       .where(OutboxEvent.id.in_(candidates)).returning(OutboxEvent).execute())
    return sorted(claimed, key=lambda event: event.id)


def _handlers(event: OutboxEvent, kind: EventKind) -> Iterator[tuple[str, str, Callable[[dict], Any]]]:
    """``(handler name, owner for errors, call)`` for every enabled plugin implementing the event's hook
    (each called through pluggy), then the core's subscribers."""
    from .registry import CORE, get_registry
    registry = get_registry()
    for plugin in registry.implementers(kind.hook):
        yield plugin, plugin, lambda kwargs, plugin=plugin: registry.call_plugin(plugin, kind.hook, **kwargs)
    for name, handler in SUBSCRIBERS.get(event.kind, []):
        yield name, CORE, lambda kwargs, handler=handler: handler(**kwargs)


@dataclass
class _Outcomes:
    """What a batch has done since its last flush: ledger rows and finished or retrying events."""
    ledger: list[dict[str, Any]] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    retry: list[OutboxEvent] = field(default_factory=list)


def process(event: OutboxEvent, now: dt.datetime | None = None) -> bool:
    """Deliver one claimed event to every handler not yet done with it. True when the event is finished."""
    return process_batch([event], now=now)[0]


def process_batch(events: list[OutboxEvent], now: dt.datetime | None = None,
                  worker_id: str | None = None, stop: threading.Event | None = None) -> list[bool | None]:
    """Deliver claimed events, one after another, each to every handler not yet done with it.

    Handlers run outside any transaction. Their outcomes (the per-plugin ledger) and the finished
    events are written together at the end of the batch, and every ``FLUSH_SECONDS`` on the way (when
    the rest of the batch's leases are renewed too), so a worker that dies repeats at most that much
    work: delivery stays at least once, and a redelivered event skips the plugins the ledger shows as
    finished. Returns, per event, True when finished, False when a handler will be retried, None when
    the event could not be processed (its lease expires and it is claimed again).

    When ``stop`` is set (the worker is shutting down), the event in hand is finished and the rest of
    the batch is released at once, unprocessed and without counting an attempt, for another worker
    to claim instead of waiting out the lease; their results are None.
    """
    from .registry import record_error
    worker_id = worker_id or this_worker()
    finished = {(d.event_id, d.plugin): d for d in
                OutboxDelivery.select().where(OutboxDelivery.event.in_([e.id for e in events]))} if events else {}
    outcomes, results = _Outcomes(), []
    last_flush = time.monotonic()
    for position, event in enumerate(events):
        if stop is not None and stop.is_set():
            rest = events[position:]
            _flush(outcomes, now, worker_id, [], released=[e.id for e in rest])
            return results + [None] * len(rest)
        try:
            pending = _deliver(event, finished, outcomes.ledger, record_error)
        except Exception:
            # The lease expires and another attempt follows; never crash the worker loop.
            log.exception("processing outbox event %s failed", event.id)
            results.append(None)
            continue
        if pending:
            outcomes.retry.append(event)
        else:
            outcomes.done.append(event.id)
        results.append(not pending)
        if time.monotonic() - last_flush >= FLUSH_SECONDS and position + 1 < len(events):
            _flush(outcomes, now, worker_id, [e.id for e in events[position + 1:]])
            outcomes, last_flush = _Outcomes(), time.monotonic()
    _flush(outcomes, now, worker_id, [])
    return results


def _deliver(event: OutboxEvent, finished: dict[tuple[int, str], OutboxDelivery], ledger: list[dict[str, Any]],
             record_error: Callable[[str, str], None]) -> bool:
    """Call the event's handlers that have not finished it; append their outcomes to ``ledger``.
    True when some handler failed and will be retried."""
    kind = EVENT_KINDS.get(event.kind)
    if kind is None:
        return False
    handlers = [(name, owner, call) for name, owner, call in _handlers(event, kind)
                if getattr(finished.get((event.id, name)), "status", None) not in ("done", "failed")]
    kwargs = kind.build_kwargs(event) if handlers else None  # no one left to tell: load nothing
    if kwargs is None:
        return False
    kwargs["event"] = {"id": event.id, "kind": event.kind, "payload": event.payload}
    pending = False
    for name, owner, call in handlers:
        previous = finished.get((event.id, name))
        attempts = (previous.attempts if previous else 0) + 1
        try:
            call(kwargs)
            status, error = "done", None
        except Exception as exc:
            error = f"{event.kind} #{event.id}: {exc!r}\n{traceback.format_exc(limit=4)}"
            status = "failed" if attempts >= MAX_ATTEMPTS else "retry"
            pending = pending or status == "retry"
            record_error(owner, f"{name}: {error}" if owner != name else error)
        ledger.append({"event": event.id, "plugin": name, "status": status, "attempts": attempts, "error": error,
                       "at": utcnow()})
    return pending


def _flush(outcomes: _Outcomes, now: dt.datetime | None, worker_id: str, still_claimed: list[int],
           released: list[int] = ()) -> None:
    """Write the ledger rows, finish or reschedule the events, renew the leases of the rest and give up
    the ``released`` ones, together."""
    with write_transaction():
        insert_rows(OutboxDelivery, outcomes.ledger, conflict=(
            (OutboxDelivery.event, OutboxDelivery.plugin),
            (OutboxDelivery.status, OutboxDelivery.attempts, OutboxDelivery.error, OutboxDelivery.at)))
        if outcomes.done:
            (OutboxEvent.update(done_at=utcnow(), claimed_until=None)
             .where(OutboxEvent.id.in_(outcomes.done)).execute())
        for event in outcomes.retry:
            delay = dt.timedelta(seconds=min(3600, 2 ** event.attempts))
            OutboxEvent.update(claimed_until=None, claimed_by=None, available_at=(now or utcnow()) + delay,
                               last_error="some handlers failed; retrying").where(OutboxEvent.id == event.id).execute()
        if still_claimed:
            (OutboxEvent.update(claimed_until=utcnow() + dt.timedelta(seconds=_lease_seconds))
             .where(OutboxEvent.id.in_(still_claimed) & (OutboxEvent.claimed_by == worker_id)).execute())
        if released:
            (OutboxEvent.update(claimed_until=None, claimed_by=None, attempts=OutboxEvent.attempts - 1)
             .where(OutboxEvent.id.in_(list(released)) & (OutboxEvent.claimed_by == worker_id)).execute())


def drain(limit: int = 500, worker_id: str | None = None, now: dt.datetime | None = None,
          batch_size: int = BATCH_SIZE, stop: threading.Event | None = None) -> int:
    """Claim and process pending events in batches until none is left (or ``limit`` were handled, or
    ``stop`` is set: see :func:`process_batch`)."""
    handled, worker_id = 0, worker_id or this_worker()
    while handled < limit and not (stop is not None and stop.is_set()):
        batch = claim(now=now, limit=min(batch_size, limit - handled), worker_id=worker_id)
        if not batch:
            break
        process_batch(batch, now=now, worker_id=worker_id, stop=stop)
        handled += len(batch)
    return handled


def pending_count() -> int:
    return OutboxEvent.select().where(OutboxEvent.done_at.is_null()).count()


__all__ = ["emit", "emit_many", "claim", "process", "process_batch", "drain", "register_event_kind", "subscribe", "pending_count", "this_worker"]
