"""The one Huey instance, its storage chosen by the queue URL, and task helpers for plugins."""
from __future__ import annotations

import logging
import time
from typing import Callable
from urllib.parse import urlparse

from huey import Huey, crontab
from huey.exceptions import CancelExecution
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage

from .files import prepare_sqlite_file

log = logging.getLogger("workdesk.queue")

# Tasks register on this instance at import time; configure_queue() swaps in the real storage.
queue = Huey("workdesk", storage_class=MemoryStorage, utc=True, results=False)


def configure_queue(url: str, immediate: bool = False, name: str = "workdesk") -> Huey:
    """Point the queue at SQLite (default), Redis or PostgreSQL storage according to ``url``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        prepare_sqlite_file(url, strip_leading_slash=False)  # created 0600 before SQLite opens it
        storage = SqliteStorage(name, filename=parsed.path or ":memory:", timeout=10)
    elif parsed.scheme == "redis":
        storage = RedisStorage(name, url=url)
    elif parsed.scheme in ("postgresql", "postgres"):
        storage = PostgresStorage(name, dsn=url.replace("postgres://", "postgresql://", 1),
                                  table_prefix="huey")
    elif parsed.scheme == "memory":
        storage = MemoryStorage(name)
    else:
        raise ValueError(f"unsupported queue URL scheme {parsed.scheme!r}")
    queue.immediate_use_memory = False
    queue.storage = storage
    queue._immediate = immediate
    return queue


def plugin_task(plugin: str, **options) -> Callable:
    """Declare a Huey task owned by ``plugin``; it is named ``<plugin>.<function>`` and refused while
    the plugin is disabled. Options are Huey's (``retries``, ``retry_delay``, ``retry_backoff``...)."""
    def decorator(func):
        return queue.task(name=f"{plugin}.{func.__name__}", **options)(func)
    return decorator


@queue.pre_execute()
def _refuse_tasks_of_disabled_plugins(task) -> None:
    from .registry import get_registry
    owner = (task.name or "").split(".", 1)[0]
    registry = get_registry()
    if owner in registry.plugins and not registry.is_enabled(owner):
        log.info("skipping task %s: plugin %s is disabled", task.name, owner)
        raise CancelExecution(retry=False)


# At most one kick waits in the queue. Under a burst of writes, kicks would otherwise pile up ahead of
# the periodic jobs in the (first in, first out) queue, and one drain takes every pending event anyway.
# The mark expires, so a kick lost with a killed worker or a restarted Redis never blocks the next.
KICK_PENDING_KEY = "core.outbox-kick-pending"
KICK_PENDING_TTL_SECONDS = 30


@queue.task(name="core.drain_outbox")
def drain_outbox_task() -> int:
    from .outbox import drain
    queue.storage.pop_data(KICK_PENDING_KEY)  # events committed from now on may queue the next kick
    return drain()


@queue.periodic_task(crontab(minute="*"), name="core.run_periodic_jobs")
def run_periodic_jobs_task() -> dict:
    from .jobs import run_due_jobs
    return run_due_jobs()


KICK_INTERVAL_SECONDS = 0.25
_last_kick = 0.0


def kick_outbox() -> None:
    """Ask a worker to drain the outbox now (the worker also polls, so a lost kick costs only latency).

    A burst of changes sends one kick per ``KICK_INTERVAL_SECONDS``: the drain it triggers takes every
    event committed by then, and the worker's poll picks up the rest.
    """
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < KICK_INTERVAL_SECONDS:
        return
    _last_kick = now
    try:
        if not queue.storage.put_if_empty(KICK_PENDING_KEY, b"1", ttl=KICK_PENDING_TTL_SECONDS):
            return  # a kick is waiting already: its drain will take these events too
        drain_outbox_task()
    except Exception:
        log.warning("could not enqueue outbox drain; the worker's poll will pick the events up", exc_info=True)


__all__ = ["queue", "configure_queue", "plugin_task", "kick_outbox", "crontab"]
