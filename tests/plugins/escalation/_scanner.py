"""A separate OS process that runs the escalation scan, for the concurrency test.

    python _scanner.py DATABASE_URL NOW BARRIER_FILE NAME

It says it is ready (``BARRIER_FILE.ready.NAME``), waits for the barrier file, then scans as of NOW (as a
worker's periodic job would, but without the job lock, so that the database alone keeps the firings single);
prints what it did as JSON.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    database_url, now, barrier, name = sys.argv[1:5]
    from workdesk import create_app
    app = create_app({"instance_path": tempfile.mkdtemp(), "database_url": database_url, "queue_url": "memory://",
                      "secret_key": "concurrency-test-secret", "plugin_refresh_seconds": 0, "log_level": "WARNING"})
    with app.app_context():
        from workdesk.plugins.escalation.scan import scan
        Path(f"{barrier}.ready.{name}").touch()
        while not Path(barrier).exists():
            time.sleep(0.001)
        print(json.dumps(scan(dt.datetime.fromisoformat(now))))


if __name__ == "__main__":
    main()
