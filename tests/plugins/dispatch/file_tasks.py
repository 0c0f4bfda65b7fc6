"""One OS process filing tasks through the real services, for the concurrency test.

``python file_tasks.py <database_url> <instance folder> <department id> <reporter id> <count> <go file>``: waits
until the go file exists (so the processes start together), files ``count`` tasks one by one, prints their
assignees' ids."""
from __future__ import annotations

import os
import sys
import time


def main(database_url: str, instance: str, department_id: int, reporter_id: int, count: int, go: str) -> None:
    from workdesk import User, create_app, services
    app = create_app({"database_url": database_url, "instance_path": instance, "secret_key": "x" * 32,
                      "queue_url": "memory://", "plugin_refresh_seconds": 0})
    with app.app_context():
        reporter = User.get_by_id(reporter_id)
        while not os.path.exists(go):
            time.sleep(0.01)
        for n in range(count):
            task = services.tasks.create_task(reporter, title=f"Concurrent {os.getpid()} {n}",
                                              department_id=department_id)
            print(task.assignee_id)


if __name__ == "__main__":
    url, folder, department, reporter, how_many, go_file = sys.argv[1:]
    main(url, folder, int(department), int(reporter), int(how_many), go_file)
