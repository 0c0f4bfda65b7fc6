"""Benchmark of the outbox on SQLite: how long one worker takes to drain 10,000 events.

    .venv/bin/python bench/bench_outbox.py [--events 10000] [--per-event 2000]

Half the events are ``task.created`` (no enabled plugin handles them: they are claimed and finished),
half ``task.assigned``, which the core's notification subscriber handles (it writes the assignee's
inbox notification and records its delivery in the ledger). The events come from real tasks filed
with ``create_tasks``. The drain runs in batches (one claim of 100 events, outcomes written once per
batch), then, on a smaller backlog in the same run, one event per claim (``batch_size=1``), which is
how the worker claimed and recorded events before batching.
"""
from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path


def drain_backlog(events: int, batch_size: int) -> tuple[int, float, float]:
    from workdesk.app import create_app
    from workdesk.schema import upgrade_all
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"instance_path": folder, "secret_key": secrets.token_urlsafe(24),
                          "database_url": f"sqlite:///{Path(folder) / 'bench.db'}", "queue_url": "memory://",
                          "log_level": "WARNING"})
        upgrade_all(app.extensions["workdesk_registry"])
        with app.app_context():
            from workdesk import outbox
            from workdesk.models import OutboxEvent
            from workdesk.services.tasks import create_tasks
            from workdesk.services.users import create_department, create_user
            admin = create_user(None, email="bench@example.com", name="Bench", password="bench-password",
                                role="admin")
            department = create_department(None, name="Bench", head_id=admin.id)
            # An assignee works the task's department (workdesk.access.may_be_assignee).
            agent = create_user(None, email="agent@example.com", name="Agent", password="bench-password",
                                role="agent", department_ids=[department.id])
            create_tasks(admin, [{"title": f"Check {n}", "department_id": department.id, "assignee_id": agent.id}
                                 for n in range(events // 2)])
            assert OutboxEvent.select().count() == events
            started, cpu_started = time.perf_counter(), time.process_time()
            handled = outbox.drain(limit=events * 2, batch_size=batch_size)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            assert handled >= events and outbox.pending_count() == 0, (handled, outbox.pending_count())
            return handled, elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events drained in batches")
    parser.add_argument("--per-event", type=int, default=2_000, help="events drained one per claim (0: skip)")
    args = parser.parse_args()
    results = [("in batches of 100", *drain_backlog(args.events, 100))]
    if args.per_event:
        results.append(("one event per claim", *drain_backlog(args.per_event, 1)))
    for how, handled, elapsed, cpu in results:
        print(f"outbox drain {how:>20}: {handled} events in {elapsed:.2f} s = {handled / elapsed:.0f} events/s "
              f"({cpu:.2f} s of CPU)")
    if len(results) == 2:
        speedup = (results[0][1] / results[0][2]) / (results[1][1] / results[1][2])
        print(f"batches drain {speedup:.1f}x as many events per second (target: {args.events} events under 10 s)")


if __name__ == "__main__":
    main()
