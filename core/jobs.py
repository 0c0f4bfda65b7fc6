"""Periodic jobs: due-time bookkeeping in the database, catch-up after downtime, one run at a time.

Huey's own periodic tasks fire only for the current minute and once per consumer; Workdesk uses a
single Huey periodic task each minute that calls :func:`run_due_jobs`, which decides from the
database what is due and takes a lease-based lock per job so that any number of workers run each
job once at a time. ``workdesk tick --at`` calls the same function with an explicit instant.

Due-ness follows the clock of the run: a recorded last run that lies after ``now`` (a clock stepped back,
a worker whose clock runs ahead) is treated as unknown, so the job is due at once instead of waiting for
that instant. A replay (``tick --at``) is recorded in ``last_replay_at``, apart from the live schedule.
Running a job twice for one ``now`` must change nothing: each job keeps its own idempotency (recurring's
unique occurrence index, a note's single digest, a delivery row's status, an absence's announced edges).
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
from .outbox import this_worker

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


def _since(state: JobRun | None, now: dt.datetime, replay: bool) -> dt.datetime | None:
    """The last run before ``now``: a live run's last completed instant, or for a replay the later of that and
    the last replay; a recorded instant after ``now`` is unknown (None)."""
    recorded = [state.last_completed_at, state.last_replay_at if replay else None] if state else []
    past = [at for at in recorded if at is not None and at <= now]
    return max(past, default=None)


def run_job(name: str, job: PeriodicJob, now: dt.datetime, force: bool = False,
            worker_id: str | None = None, replay: bool = False) -> str:
    """Run one job as of ``now`` unless it is not due (or ``force``); returns
    ``ran``, ``not_due``, ``locked`` (another worker runs it) or ``failed``.

    A ``replay`` (``workdesk tick --at``) records ``now`` as the last replay and leaves the live
    schedule as it was.
    """
    state = JobRun.get_or_none(JobRun.name == name)
    since = _since(state, now, replay)
    if not force and since is not None and now < since + job.every:
        return "not_due"
    if not _acquire(name, worker_id or this_worker()):
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
    completed = {"last_replay_at" if replay else "last_completed_at": now}
    with write_transaction():
        JobRun.update(**completed, locked_by=None, locked_until=None, last_error=None, last_finished_real_at=utcnow(),
                      last_duration_ms=int((time.monotonic() - started) * 1000)).where(JobRun.name == name).execute()
    return "ran"


def run_due_jobs(now: dt.datetime | None = None, force: bool = False, replay: bool = False) -> dict[str, str]:
    """Run the core's and every enabled plugin's due jobs as of ``now`` (default: the real current time);
    ``replay`` for ``workdesk tick --at`` (see :func:`run_job`)."""
    now = now or utcnow()
    return {name: run_job(name, job, now, force=force, replay=replay) for name, job in enabled_jobs().items()}


def job_status(now: dt.datetime | None = None) -> list[dict]:
    """Last and next run of every enabled job as of ``now`` (default: the real current time), for the health
    panel; ``last_run_in_future`` flags a last run recorded by a clock ahead of this one (the job is due)."""
    now = now or utcnow()
    out = []
    for name, job in enabled_jobs().items():
        state = JobRun.get_or_none(JobRun.name == name)
        last = state.last_completed_at if state else None
        in_future = last is not None and last > now
        out.append({"name": name, "every_seconds": int(job.every.total_seconds()), "last_run": last,
                    "next_run": (last + job.every) if last and not in_future else None,
                    "last_run_in_future": in_future, "last_replay": state.last_replay_at if state else None,
                    "running": bool(state and state.locked_by and state.locked_until  # leases use the real clock
                                    and state.locked_until > utcnow()),
                    "last_error": state.last_error if state else None})
    return out
