"""Recomputing running clocks after a policy or calendar change: queued as a run with progress (shown in
the admin panel), worked through in batches by the periodic job on a worker. Stopped cycles are never
touched."""
from __future__ import annotations

import hashlib
import json

from workdesk import OPEN_STATUSES, Calendar, Holiday, Task, utcnow, write_transaction

from .models import Cycle, Recompute, State

BATCH = 200


def request_recompute(reason: str, scope: str = "running") -> Recompute:
    """Queue a recompute of every task with a running clock, or (``scope="open"``, after the plugin was
    off) of every open task (inside the caller's transaction)."""
    return Recompute.create(reason=reason[:500], scope=scope)


def _task_ids(scope: str):
    if scope == "open":
        return Task.select(Task.id).where(Task.status.in_(OPEN_STATUSES))
    return Cycle.select(Cycle.task_id).where(Cycle.stopped_at.is_null()).distinct()


def task_ids(scope: str, after: int, limit: int) -> list[int]:
    if scope == "open":
        query = Task.select(Task.id).where(Task.status.in_(OPEN_STATUSES) & (Task.id > after)).order_by(Task.id)
    else:
        query = (Cycle.select(Cycle.task_id).where(Cycle.stopped_at.is_null() & (Cycle.task_id > after))
                 .group_by(Cycle.task_id).order_by(Cycle.task_id))
    return [row[0] for row in query.limit(limit).tuples()]


def work(limit: int = BATCH) -> int:
    """Advance the oldest unfinished recompute by up to ``limit`` tasks; returns how many were recomputed."""
    from .services import sync_task
    run = Recompute.select().where(Recompute.finished_at.is_null()).order_by(Recompute.id).first()
    if run is None:
        return 0
    if run.done == 0 and run.total == 0:
        with write_transaction():
            run.total = _task_ids(run.scope).count()
            run.save()
    ids = task_ids(run.scope, run.cursor, limit)
    for task_id in ids:
        sync_task(task_id)
    with write_transaction():
        if not ids or len(ids) < limit:
            Recompute.update(finished_at=utcnow(), done=Recompute.total).where(Recompute.id == run.id).execute()
        else:
            Recompute.update(done=Recompute.done + len(ids), cursor=ids[-1]).where(Recompute.id == run.id).execute()
    return len(ids)


def calendars_fingerprint() -> str:
    """A digest of every calendar and holiday (few rows): a change means running clocks move."""
    calendars = [(c.id, c.timezone, json.dumps(c.weekly_hours, sort_keys=True)) for c in
                 Calendar.select().order_by(Calendar.id)]
    holidays = [(h.calendar_id, h.date.isoformat()) for h in Holiday.select().order_by(Holiday.id)]
    return hashlib.sha256(json.dumps([calendars, holidays]).encode()).hexdigest()


def notice_calendar_changes() -> bool:
    """Queue a recompute when a calendar or holiday changed since the last look."""
    current = calendars_fingerprint()
    with write_transaction():
        state = State.get_or_none(State.key == "calendars")
        if state is None:
            State.create(key="calendars", value=current)
            return False
        if state.value == current:
            return False
        state.value = current
        state.save()
        request_recompute("calendars changed")
    return True


__all__ = ["request_recompute", "work", "notice_calendar_changes"]
