"""The worker process: Huey's consumer plus a poller that drains the outbox and beats the heart."""
from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time

from .db import db, utcnow
from .models import WorkerHeartbeat
from .outbox import drain, this_worker

DRAIN_LIMIT = 500  # drain()'s default: events handled between heartbeats
from .queue import queue

log = logging.getLogger("workdesk.worker")


def freeze_loaded_objects() -> None:
    """Take every object alive now (the loaded app: modules, plugins, templates, translations) out of the
    cyclic collector's reach, for a process that keeps them until it exits.

    A full collection walks every tracked object: a recurring tick filing 10,000 tasks ran several, each
    over the application's ~175,000 objects. In processes forked after loading (gunicorn's web processes),
    a collection in the child would also write to the objects' headers and so copy the pages the child
    shares with its master.
    """
    gc.collect()
    gc.freeze()


def beat(worker_id: str | None = None) -> None:
    WorkerHeartbeat.insert(worker_id=worker_id or this_worker(), hostname=socket.gethostname(), pid=os.getpid(),
                           seen_at=utcnow()).on_conflict(
        conflict_target=[WorkerHeartbeat.worker_id], update={WorkerHeartbeat.seen_at: utcnow()}).execute()


def _poll_outbox(stop: threading.Event, interval: float) -> None:
    # A kick enqueued after commit can be lost (at-most-once queue, killed worker); polling makes
    # the outbox the source of truth and leases make a dead worker's events claimable again.
    while not stop.is_set():
        try:
            db.connect(reuse_if_open=True)
            beat()
            while drain(stop=stop) >= DRAIN_LIMIT and not stop.is_set():  # a backlog: keep going, beating between
                beat()
        except Exception:
            log.exception("outbox poll failed; retrying")
        finally:
            if not db.is_closed():
                db.close()
        stop.wait(interval)


def run_worker(settings: dict, workers: int = 2, periodic: bool = True, parent_fd: int | None = None) -> None:
    """Run until SIGINT/SIGTERM. Safe to run several at once, on one machine or many. With ``parent_fd``
    (``workdesk run``'s worker), also stop when that pipe from the parent reaches EOF."""
    if parent_fd is not None:
        from .supervisor import stop_when_parent_exits
        stop_when_parent_exits(parent_fd)
    freeze_loaded_objects()
    stop = threading.Event()
    poller = threading.Thread(target=_poll_outbox, args=(stop, settings["outbox_poll_seconds"]),
                              name="outbox-poller", daemon=True)
    poller.start()
    # SIGTERM (systemd, a supervisor, `docker stop`) is graceful: tasks in hand finish, and the outbox
    # poller finishes its event in hand and releases the rest of its batch for another worker.
    consumer = queue.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                     check_worker_health=True, initial_delay=0.1, max_delay=1.0,
                                     graceful_signal="TERM")
    log.info("worker %s started with %d threads on %s", this_worker(), workers, type(queue.storage).__name__)
    try:
        consumer.run()
    finally:
        stop.set()
        poller.join(timeout=settings["outbox_lease_seconds"])  # its event in hand finishes
        time.sleep(0)
