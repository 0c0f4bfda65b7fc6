"""A separate OS process that decides a review stage, for the concurrency tests.

    python _decider.py DATABASE_URL TASK_ID USER_ID DECISION BARRIER_FILE

It says it is ready (``BARRIER_FILE.ready.USER_ID``), waits for the barrier file, then decides through the service as the user; prints the outcome as JSON.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    database_url, task_id, user_id, decision, barrier = sys.argv[1:6]
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    init_runtime(load_settings(Path(tempfile.mkdtemp()), overrides={
        "database_url": database_url, "queue_url": "memory://", "secret_key": "concurrency-test-secret",
        "plugin_refresh_seconds": 0, "log_level": "WARNING"}))
    from workdesk import User, WorkdeskError
    from workdesk.plugins.compliance_review import services
    user = User.get_by_id(int(user_id))
    services.review_to_dict(services.review_of(services.Task.get_by_id(int(task_id))))  # warm up: queries compiled
    Path(f"{barrier}.ready.{user_id}").touch()
    while not Path(barrier).exists():
        time.sleep(0.001)
    try:
        services.decide(user, int(task_id), decision, "Checked." if decision == "approve" else "No.")
        print(json.dumps({"ok": True}))
    except WorkdeskError as exc:
        print(json.dumps({"ok": False, "code": exc.code, "message": exc.message}))


if __name__ == "__main__":
    main()
