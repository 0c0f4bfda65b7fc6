"""A separate OS process draining the outbox, for the parallel-drain test.

    python _outbox_worker.py DATABASE_URL BARRIER_FILE

Waits for the barrier file, drains until nothing is pending, prints how many events it handled.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    database_url, barrier = sys.argv[1:3]
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    init_runtime(load_settings(Path(tempfile.mkdtemp()), overrides={
        "database_url": database_url, "queue_url": "memory://", "secret_key": "outbox-test-secret",
        "plugin_refresh_seconds": 0, "log_level": "WARNING",
        "extra_plugins": ["tests.core.outbox_plugins:TallyPlugin"]}))
    from workdesk import outbox
    while not Path(barrier).exists():
        time.sleep(0.002)
    handled = 0
    while True:
        drained = outbox.drain(limit=10**9, worker_id=f"test:{sys.argv[0]}:{id(handled)}:{time.time()}")
        handled += drained
        if not drained and outbox.pending_count() == 0:
            break
        if not drained:
            time.sleep(0.05)  # the rest is claimed by the other worker
    print(handled)


if __name__ == "__main__":
    main()
