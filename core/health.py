"""Is background work happening? Worker heartbeat, queue depth, failed work and periodic job times.

Time-based features (SLAs, recurrence, reminders) silently stop when no worker runs; this module
is what the admin health panel and ``GET /api/v1/health`` show so that an admin notices.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, fields
from peewee import fn

from .db import utcnow, write_transaction
from .errors import Forbidden, NotFound
from .models import JobRun, OutboxDelivery, OutboxEvent, WorkerHeartbeat, as_utc

log = logging.getLogger("workdesk.health")

# A worker beats every ``outbox_poll_seconds`` (2 s by default); a minute of silence means it is gone.
HEARTBEAT_STALE_SECONDS = 60
FAILED_LIMIT = 100


def worker_status(now: dt.datetime) -> dict[str, Any]:
    """Every worker that ever beat, newest first, and whether any beat recently."""
    workers = []
    for beat in WorkerHeartbeat.select().order_by(WorkerHeartbeat.seen_at.desc()):
        age = (now - as_utc(beat.seen_at)).total_seconds()
        workers.append({"worker_id": beat.worker_id, "hostname": beat.hostname, "pid": beat.pid,
                        "started_at": as_utc(beat.started_at), "seen_at": as_utc(beat.seen_at),
                        "age_seconds": max(0, int(age)), "alive": age <= HEARTBEAT_STALE_SECONDS})
    return {"alive": any(w["alive"] for w in workers), "stale_after_seconds": HEARTBEAT_STALE_SECONDS,
            "last_seen": workers[0]["seen_at"] if workers else None, "workers": workers}


def queue_depth() -> dict[str, Any]:
    """Tasks waiting in Huey plus outbox events not yet handled."""
    from .outbox import pending_count
    from .queue import queue
    try:
        huey_pending = queue.pending_count()
    except Exception as exc:  # an unreachable queue is itself a health finding, not a crash
        log.warning("could not count the queue: %r", exc)
        huey_pending = None
    outbox_pending = pending_count()
    return {"queue_pending": huey_pending, "outbox_pending": outbox_pending,
            "total": (huey_pending or 0) + outbox_pending}


def failing_notification_deliveries() -> list[dict[str, Any]]:
    """Per delivery plugin (email, webhooks...): the rows of its ledger waiting for a retry and its dead letters.

    A delivery plugin handles its outbox event successfully once it has written the ledger row, so a
    mail server that refuses everything shows up here, not among the failed event deliveries.
    """
    from .notifications.delivery import DeliveryRecord
    from .registry import get_registry
    found = []
    for plugin, model in get_registry().collect("register_models", enabled_only=False):
        if not (isinstance(model, type) and issubclass(model, DeliveryRecord)) or not model.table_exists():
            continue
        failing = model.status.in_(("retry", "dead"))
        counts = dict(model.select(model.status, fn.COUNT(model.id)).where(failing).group_by(model.status).tuples())
        if not counts:
            continue
        latest = model.select().where(failing).order_by(model.last_attempt_at.desc(nulls="LAST"), model.id.desc()).get()
        found.append({"plugin": plugin, "retrying": counts.get("retry", 0), "dead": counts.get("dead", 0),
                      "last_error": latest.last_error or "", "last_attempt_at": as_utc(latest.last_attempt_at)})
    return found


def failed_work() -> dict[str, Any]:
    """Outbox deliveries that failed or wait for a retry, notification deliveries failing in a delivery
    plugin's ledger, and periodic jobs whose last run failed; ``total`` counts them all."""
    deliveries = []
    query = (OutboxDelivery.select(OutboxDelivery, OutboxEvent).join(OutboxEvent)
             .where(OutboxDelivery.status.in_(("failed", "retry")))
             .order_by(OutboxDelivery.at.desc()).limit(FAILED_LIMIT))
    for delivery in query:
        deliveries.append({"event_id": delivery.event_id, "kind": delivery.event.kind, "plugin": delivery.plugin,
                           "status": delivery.status, "attempts": delivery.attempts, "error": delivery.error or "",
                           "at": as_utc(delivery.at), "next_attempt_at": (
                               as_utc(delivery.event.available_at) if delivery.event.done_at is None else None)})
    jobs = [{"name": run.name, "error": run.last_error, "last_started_at": as_utc(run.last_started_at)}
            for run in JobRun.select().where(JobRun.last_error.is_null(False)).order_by(JobRun.name)]
    notifications = failing_notification_deliveries()
    total = len(deliveries) + len(jobs) + sum(n["retrying"] + n["dead"] for n in notifications)
    return {"deliveries": deliveries, "notifications": notifications, "jobs": jobs, "total": total}


def periodic_jobs(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every enabled job's times as of ``now``; ``warning`` explains a last run that lies in the future."""
    from .jobs import job_status
    future = _("This last run lies in the future: a server's clock is ahead or was set back. The job runs on "
               "the current clock all the same; check the time of every server that runs Workdesk.")
    return [{**job, "last_run": as_utc(job["last_run"]), "next_run": as_utc(job["next_run"]),
             "last_replay": as_utc(job["last_replay"]), "warning": future if job["last_run_in_future"] else None}
            for job in job_status(now)]


def health_report(now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the health panel shows, as of ``now`` (default: the real current time)."""
    now = as_utc(now) if now else utcnow()
    return {"now": now, "worker": worker_status(now), "queue": queue_depth(), "failed": failed_work(),
            "jobs": periodic_jobs(now)}


def retry_outbox_event(event_id: int) -> OutboxEvent:
    """Give an event's failed deliveries a fresh set of attempts and make the event due now."""
    from .queue import kick_outbox
    with write_transaction():
        event = OutboxEvent.get_or_none(OutboxEvent.id == event_id)
        if event is None:
            raise NotFound(_("No such outbox event."))
        reset = (OutboxDelivery.update(status="retry", attempts=0)
                 .where((OutboxDelivery.event == event) & OutboxDelivery.status.in_(("failed", "retry"))).execute())
        if not reset:
            raise NotFound(_("This event has no failed deliveries to retry."))
        OutboxEvent.update(done_at=None, available_at=utcnow(), claimed_by=None, claimed_until=None,
                           attempts=0).where(OutboxEvent.id == event.id).execute()
    log.info("outbox event %s queued for another delivery", event_id)
    kick_outbox()
    return OutboxEvent.get_by_id(event_id)


def clear_job_error(name: str) -> JobRun:
    """Forget a periodic job's last error; the job, still due, runs again on the next tick."""
    with write_transaction():
        run = JobRun.get_or_none(JobRun.name == name)
        if run is None or run.last_error is None:
            raise NotFound(_("This job has no error to clear."))
        JobRun.update(last_error=None).where(JobRun.name == name).execute()
    log.info("error of periodic job %s cleared", name)
    return JobRun.get_by_id(name)


# -- GET /api/v1/health -------------------------------------------------------------------------

class WorkerSchema(Schema):
    worker_id = fields.String()
    hostname = fields.String()
    pid = fields.Integer()
    started_at = fields.DateTime()
    seen_at = fields.DateTime()
    age_seconds = fields.Integer(metadata={"description": "Seconds since the last heartbeat."})
    alive = fields.Boolean()


class WorkerStatusSchema(Schema):
    alive = fields.Boolean(metadata={"description": "Some worker beat within stale_after_seconds."})
    stale_after_seconds = fields.Integer()
    last_seen = fields.DateTime(allow_none=True)
    workers = fields.List(fields.Nested(WorkerSchema))


class QueueDepthSchema(Schema):
    queue_pending = fields.Integer(allow_none=True, metadata={"description": "Tasks in the Huey queue; "
                                                                             "null when it cannot be reached."})
    outbox_pending = fields.Integer(metadata={"description": "Events not yet handled by a worker."})
    total = fields.Integer()


class FailedDeliverySchema(Schema):
    event_id = fields.Integer()
    kind = fields.String()
    plugin = fields.String()
    status = fields.String(metadata={"description": "failed (attempts used up) or retry (another attempt due)."})
    attempts = fields.Integer()
    error = fields.String()
    at = fields.DateTime()
    next_attempt_at = fields.DateTime(allow_none=True)


class FailingNotificationsSchema(Schema):
    plugin = fields.String(metadata={"description": "The delivery plugin (email, webhooks...)."})
    retrying = fields.Integer(metadata={"description": "Deliveries that failed and wait for another attempt."})
    dead = fields.Integer(metadata={"description": "Deliveries that gave up (dead letters) until an admin retries them."})
    last_error = fields.String()
    last_attempt_at = fields.DateTime(allow_none=True)


class FailedJobSchema(Schema):
    name = fields.String()
    error = fields.String()
    last_started_at = fields.DateTime(allow_none=True)


class FailedWorkSchema(Schema):
    deliveries = fields.List(fields.Nested(FailedDeliverySchema))
    notifications = fields.List(fields.Nested(FailingNotificationsSchema),
                                metadata={"description": "Failing notification deliveries per delivery plugin."})
    jobs = fields.List(fields.Nested(FailedJobSchema))
    total = fields.Integer(metadata={"description": "Failed event deliveries, failing notification deliveries "
                                                    "(retrying and dead) and failed jobs together."})


class JobStatusSchema(Schema):
    name = fields.String()
    every_seconds = fields.Integer()
    last_run = fields.DateTime(allow_none=True)
    next_run = fields.DateTime(allow_none=True, metadata={"description": "null: due at the next tick."})
    last_run_in_future = fields.Boolean(metadata={"description": "The last run was recorded by a clock ahead of "
                                                                 "this server's (or one set back since); the job "
                                                                 "is due at the next tick."})
    last_replay = fields.DateTime(allow_none=True, metadata={"description": "The instant of the last "
                                                                           "`workdesk tick --at` replay."})
    warning = fields.String(allow_none=True, metadata={"description": "Why the job's times need attention, "
                                                                      "in the user's language."})
    running = fields.Boolean()
    last_error = fields.String(allow_none=True)


class HealthSchema(Schema):
    now = fields.DateTime()
    worker = fields.Nested(WorkerStatusSchema)
    queue = fields.Nested(QueueDepthSchema)
    failed = fields.Nested(FailedWorkSchema)
    jobs = fields.List(fields.Nested(JobStatusSchema))


def _health_blueprint():
    from .api import api_blueprint, api_operation, require_api_user

    blueprint = api_blueprint("health_api", __name__, url_prefix="/api/v1")

    @blueprint.get("/health")
    @api_operation("Health of background work (admins)", tags=["health"], response=HealthSchema)
    def health():
        """Worker heartbeat, queue depth, failed work and periodic job times: the admin health panel's
        figures, for monitoring. Needs the ``admin.access`` permission."""
        user = require_api_user()
        if not user.has_permission("admin.access"):
            raise Forbidden(_("Only admins may read the health report."), permission="admin.access")
        return HealthSchema().dump(health_report())

    return blueprint


health_api = _health_blueprint()


__all__ = ["health_report", "worker_status", "queue_depth", "failed_work", "failing_notification_deliveries",
           "periodic_jobs", "retry_outbox_event",
           "clear_job_error", "health_api", "HEARTBEAT_STALE_SECONDS"]
