"""The transactional outbox: events are written with the change and handled by workers after commit.

Delivery is at least once. A worker claims an event for a lease; if it dies, another worker claims
the event again when the lease expires. Each handler's success is recorded per event
(``OutboxDelivery``), so a redelivered event skips the handlers that already finished.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .db import after_commit, db, insert_rows, utcnow, write_transaction
from .models import OutboxDelivery, OutboxEvent

log = logging.getLogger("workdesk.outbox")
MAX_ATTEMPTS = 5
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


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


def claim(now: dt.datetime | None = None, limit: int = 50, worker_id: str = WORKER_ID) -> list[OutboxEvent]:
    """Claim up to ``limit`` pending events whose lease is free; a compare-and-set keeps claims exclusive."""
    now = now or utcnow()
    free = (OutboxEvent.claimed_until.is_null()) | (OutboxEvent.claimed_until < now)
    candidates = list(OutboxEvent.select(OutboxEvent.id)
                      .where(OutboxEvent.done_at.is_null() & (OutboxEvent.available_at <= now) & free)
                      .order_by(OutboxEvent.id).limit(limit))
    claimed = []
    until = now + dt.timedelta(seconds=_lease_seconds)
    for candidate in candidates:
        with write_transaction():
            won = (OutboxEvent.update(claimed_by=worker_id, claimed_until=until,
                                      attempts=OutboxEvent.attempts + 1)
                   .where((OutboxEvent.id == candidate.id) & OutboxEvent.done_at.is_null() & free)
                   .execute())
        if won:
            claimed.append(OutboxEvent.get_by_id(candidate.id))
    return claimed


def _handlers(event: OutboxEvent, kind: EventKind) -> Iterator[tuple[str, str, Callable[[dict], Any]]]:
    """``(handler name, owner for errors, call)`` for every enabled plugin implementing the event's hook
    (each called through pluggy), then the core's subscribers."""
    from .registry import CORE, get_registry
    registry = get_registry()
    for plugin in registry.implementers(kind.hook):
        yield plugin, plugin, lambda kwargs, plugin=plugin: registry.call_plugin(plugin, kind.hook, **kwargs)
    for name, handler in SUBSCRIBERS.get(event.kind, []):
        yield name, CORE, lambda kwargs, handler=handler: handler(**kwargs)


def process(event: OutboxEvent, now: dt.datetime | None = None) -> bool:
    """Deliver one claimed event to every handler not yet done with it. True when the event is finished."""
    from .registry import record_error
    kind = EVENT_KINDS.get(event.kind)
    kwargs = kind.build_kwargs(event) if kind else None
    pending = False
    if kwargs is not None:
        kwargs["event"] = {"id": event.id, "kind": event.kind, "payload": event.payload}
        finished = {d.plugin: d for d in OutboxDelivery.select().where(OutboxDelivery.event == event)}
        for name, owner, call in _handlers(event, kind):
            previous = finished.get(name)
            if previous is not None and previous.status in ("done", "failed"):
                continue
            attempts = (previous.attempts if previous else 0) + 1
            try:
                call(kwargs)
                status, error = "done", None
            except Exception as exc:
                error = f"{event.kind} #{event.id}: {exc!r}\n{traceback.format_exc(limit=4)}"
                status = "failed" if attempts >= MAX_ATTEMPTS else "retry"
                pending = pending or status == "retry"
                record_error(owner, f"{name}: {error}" if owner != name else error)
            with write_transaction():
                (OutboxDelivery.insert(event=event, plugin=name, status=status, attempts=attempts, error=error,
                                       at=utcnow())
                 .on_conflict(conflict_target=[OutboxDelivery.event, OutboxDelivery.plugin],
                              update={OutboxDelivery.status: status, OutboxDelivery.attempts: attempts,
                                      OutboxDelivery.error: error, OutboxDelivery.at: utcnow()})
                 .execute())
    with write_transaction():
        if pending:
            delay = dt.timedelta(seconds=min(3600, 2 ** event.attempts))
            OutboxEvent.update(claimed_until=None, claimed_by=None, available_at=(now or utcnow()) + delay,
                               last_error="some handlers failed; retrying").where(OutboxEvent.id == event.id).execute()
        else:
            OutboxEvent.update(done_at=utcnow(), claimed_until=None).where(OutboxEvent.id == event.id).execute()
    return not pending


def drain(limit: int = 500, worker_id: str = WORKER_ID, now: dt.datetime | None = None) -> int:
    """Claim and process pending events until none is left (or ``limit`` were handled)."""
    handled = 0
    while handled < limit:
        batch = claim(now=now, limit=min(50, limit - handled), worker_id=worker_id)
        if not batch:
            break
        for event in batch:
            try:
                process(event, now=now)
            except Exception:
                # The lease expires and another attempt follows; never crash the worker loop.
                log.exception("processing outbox event %s failed", event.id)
            handled += 1
    return handled


def pending_count() -> int:
    return OutboxEvent.select().where(OutboxEvent.done_at.is_null()).count()


__all__ = ["emit", "emit_many", "claim", "process", "drain", "register_event_kind", "subscribe", "pending_count"]
