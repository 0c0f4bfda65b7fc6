"""Periodic jobs: due-time bookkeeping in the database, catch-up after downtime, one run at a time.

Huey's own periodic tasks fire only for the current minute and once per consumer; Workdesk uses a
single Huey periodic task each minute that calls :func:`run_due_jobs`, which decides from the
database what is due and takes a lease-based lock per job so that any number of workers run each
job once at a time. ``workdesk tick --at`` calls the same function with an explicit instant.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from .db import utcnow, write_transaction
from .models import JobRun
from .outbox import WORKER_ID

log = logging.getLogger("workdesk.jobs")
_lease_seconds = 600


def configure(lease_seconds: int) -> None:
    global _lease_seconds
    _lease_seconds = lease_seconds


@dataclass
class PeriodicJob:
    """A plugin's periodic work: ``func(now, since)`` runs when ``every`` has passed since the last run.

    :param name: unique within the plugin; the full name is ``<plugin>.<name>``.
    :param func: called with ``now`` (aware UTC) and ``since`` (last completed ``now`` or None).
    :param every: how often the job is due.
    :param description: shown in the health panel.
    """
    name: str
    func: Callable[[dt.datetime, dt.datetime | None], object]
    every: dt.timedelta = dt.timedelta(minutes=1)
    description: str = ""
    owner: str = "core"  # the plugin whose job it is (set by the registry), or the core


# Jobs of core components (not plugins): always enabled, full name "<component>.<name>".
CORE_JOBS: dict[str, PeriodicJob] = {}


def register_core_job(component: str, job: PeriodicJob) -> None:
    """Run a core component's periodic work on workers and ``workdesk tick`` like a plugin's job."""
    CORE_JOBS[f"{component}.{job.name}"] = job


def enabled_jobs() -> dict[str, PeriodicJob]:
    from .registry import get_registry
    plugin_jobs = {}
    for plugin, job in get_registry().collect("register_jobs"):
        job.owner = plugin
        plugin_jobs[f"{plugin}.{job.name}"] = job
    return {**CORE_JOBS, **plugin_jobs}


def _acquire(name: str, worker_id: str) -> bool:
    real_now = utcnow()
    with write_transaction():
        JobRun.insert(name=name).on_conflict_ignore().execute()
        won = (JobRun.update(locked_by=worker_id, locked_until=real_now + dt.timedelta(seconds=_lease_seconds),
                             last_started_at=real_now)
               .where((JobRun.name == name) & (JobRun.locked_until.is_null() | (JobRun.locked_until < real_now)))
               .execute())
    return bool(won)


def run_job(name: str, job: PeriodicJob, now: dt.datetime, force: bool = False,
            worker_id: str = WORKER_ID) -> str:
    """Run one job as of ``now`` unless it is not due (or ``force``); returns
    ``ran``, ``not_due``, ``locked`` (another worker runs it) or ``failed``."""
    state = JobRun.get_or_none(JobRun.name == name)
    since = state.last_completed_at if state else None
    if not force and since is not None and now < since + job.every:
        return "not_due"
    if not _acquire(name, worker_id):
        return "locked"
    started = time.monotonic()
    try:
        job.func(now, since)
    except Exception as exc:
        log.exception("periodic job %s failed", name)
        with write_transaction():
            JobRun.update(locked_by=None, locked_until=None, last_error=f"{exc!r}\n{traceback.format_exc(limit=5)}",
                          last_duration_ms=int((time.monotonic() - started) * 1000)).where(JobRun.name == name).execute()
        from .registry import record_error
        record_error(job.owner, f"job {name} failed: {exc!r}")
        return "failed"
    with write_transaction():
        JobRun.update(locked_by=None, locked_until=None, last_error=None, last_completed_at=now,
                      last_finished_real_at=utcnow(),
                      last_duration_ms=int((time.monotonic() - started) * 1000)).where(JobRun.name == name).execute()
    return "ran"


def run_due_jobs(now: dt.datetime | None = None, force: bool = False) -> dict[str, str]:
    """Run the core's and every enabled plugin's due jobs as of ``now`` (default: the real current time)."""
    now = now or utcnow()
    return {name: run_job(name, job, now, force=force) for name, job in enabled_jobs().items()}


def job_status() -> list[dict]:
    """Last and next run of every enabled job, for the health panel."""
    out = []
    for name, job in enabled_jobs().items():
        state = JobRun.get_or_none(JobRun.name == name)
        last = state.last_completed_at if state else None
        out.append({"name": name, "every_seconds": int(job.every.total_seconds()), "last_run": last,
                    "next_run": (last + job.every) if last else None, "running": bool(state and state.locked_by
                                                                                      and state.locked_until
                                                                                      and state.locked_until > utcnow()),
                    "last_error": state.last_error if state else None})
    return out
