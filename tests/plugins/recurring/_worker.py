"""A separate OS process that materialises recurring rules, for the concurrency tests.

    python _worker.py DATABASE_URL INSTANT MODE BARRIER_FILE

MODE ``direct`` calls the service (no job lock, so the database constraint is what keeps tasks
unique), ``job`` goes through ``workdesk.jobs.run_due_jobs`` as ``workdesk tick`` does, and ``crash``
kills the process (``os._exit``) right after the tick's first tasks were written, before their commit.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    database_url, instant, mode, barrier = sys.argv[1:5]
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    settings = load_settings(Path(tempfile.mkdtemp()), overrides={
        "database_url": database_url, "queue_url": "memory://", "secret_key": "concurrency-test-secret",
        "plugin_refresh_seconds": 0, "log_level": "WARNING"})
    init_runtime(settings)
    from workdesk.plugins.recurring import services
    if mode == "crash":
        from workdesk.services import tasks as task_service  # what recurring files its tasks with
        real_create_tasks = task_service.create_tasks

        def create_then_die(*args, **kwargs):
            real_create_tasks(*args, **kwargs)
            os._exit(9)  # killed mid-transaction: nothing of this run may survive
        task_service.create_tasks = create_then_die
    while not Path(barrier).exists():
        time.sleep(0.002)
    now = dt.datetime.fromisoformat(instant)
    if mode == "job":
        from workdesk.jobs import run_due_jobs
        result = run_due_jobs(now, force=True)
    else:
        result = services.materialise_due(now)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
