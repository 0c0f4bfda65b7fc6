"""Benchmark of the escalation scan, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

1. A scan over 100,000 open tasks with running clocks, 1,000 of them newly breached (each fires its breach
   and a level that notifies the department head, who gets one digest): its time and SQL statements.
   Target: under 2 s on SQLite.
2. An idle scan (nothing due) with 1,000 and with 100,000 open tasks: it reads only the indexed
   ``next_check_at`` column, so it costs the same.

    .venv/bin/python bench/bench_escalation.py [--open 100000] [--breached 1000]

Tasks and their cycles are bulk-inserted rows shaped as the plugin writes them (setting up 100,000 through
the task service would take minutes); the scan is the real periodic job's code.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class StatementCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        self.count += 1


def fresh_app(folder: Path, database_url: str):
    from workdesk.app import create_app
    from workdesk.registry import set_plugin_enabled
    from workdesk.schema import upgrade_all
    app = create_app({"instance_path": str(folder), "secret_key": secrets.token_urlsafe(24),
                      "database_url": database_url, "queue_url": "memory://", "plugin_refresh_seconds": 60,
                      "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    set_plugin_enabled("escalation", True)
    return app


def populate(open_tasks: int, breached: int) -> None:
    from workdesk import Task, db
    from workdesk.services.users import create_department, create_user
    from workdesk.plugins.escalation import policies
    from workdesk.plugins.escalation.models import Cycle, Recompute, TaskClock
    admin = create_user(None, email=f"bench{secrets.token_hex(4)}@example.com", name="Bench", password="bench-password",
                        role="admin")
    department = create_department(None, name=f"Bench {secrets.token_hex(4)}", head_id=admin.id)
    policy = policies.create_policy(None, {"name": "Bench", "time_mode": "calendar", "warn_percent": 0,
                                           "targets": [{"kind": "resolution", "hours": 8}],
                                           "levels": [{"actions": [{"type": "notify", "to": ["head"]}]}]})
    Recompute.delete().execute()  # the bench's rows are written as the plugin would: nothing to recompute
    created = NOW - dt.timedelta(hours=8, minutes=1)
    with db.atomic():
        for start in range(0, open_tasks, 1000):
            size = min(1000, open_tasks - start)
            Task.insert_many([{"number": start + n + 1, "title": f"Bench {start + n}", "department": department.id,
                               "reporter": admin.id, "status": "open", "created_at": created, "updated_at": created}
                              for n in range(size)]).execute()
    ids = [row[0] for row in Task.select(Task.id).order_by(Task.id).tuples()]
    with db.atomic():
        for start in range(0, len(ids), 1000):
            rows, clocks = [], []
            for index, task_id in enumerate(ids[start:start + 1000], start=start):
                late = index < breached
                due = NOW - dt.timedelta(minutes=1) if late else NOW + dt.timedelta(days=1 + index % 30)
                rows.append({"task_id": task_id, "policy_id": policy.id, "kind": "resolution", "status": "",
                             "number": 1, "budget_seconds": 8 * 3600, "state": "running", "started_at": created,
                             "segment_start": created, "consumed_seconds": 0, "due_at": due, "pauses": [],
                             "department_id": department.id, "next_step": 1, "next_check_at": due,
                             "updated_at": created})
                clocks.append({"task_id": task_id, "policy_id": policy.id, "next_due_at": due})
            Cycle.insert_many(rows).execute()
            TaskClock.insert_many(clocks).execute()
    # A database that grew to 100,000 tasks has planner statistics (PostgreSQL's autovacuum gathers them); a
    # bulk-loaded one has none, and PostgreSQL would then plan as if the tables were empty.
    db.execute_sql("ANALYZE")


def timed_scan() -> tuple[float, int, dict]:
    from workdesk.plugins.escalation.scan import scan
    from workdesk.registry import get_registry
    get_registry().refresh(force=True)  # plugin states are re-read now, not during the measured scan
    counter = StatementCounter()
    logger = logging.getLogger("peewee")
    logger.addHandler(counter)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # counted, not printed
    try:
        started = time.perf_counter()
        result = scan(NOW)
        elapsed = time.perf_counter() - started
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate
    return elapsed, counter.count, result


def run(database: str, open_tasks: int, breached: int) -> None:
    for size, due in ((open_tasks, breached), (1000, 0), (open_tasks, 0)):
        with tempfile.TemporaryDirectory() as folder:
            url, cleanup = database_url(database, Path(folder))
            app = fresh_app(Path(folder), url)
            try:
                with app.app_context():
                    populate(size, due)
                    elapsed, statements, result = timed_scan()
                    what = f"{due} newly breached" if due else "idle (nothing due)"
                    print(f"{database:10} scan over {size:>7,} open tasks, {what:20}: {elapsed * 1000:8.1f} ms, "
                          f"{statements:5} SQL statements; {result}")
                    if due:
                        assert result["fired"] == 2 * due and result["messages"] == 1, result
            finally:
                from workdesk import db
                if not db.is_closed():
                    db.close()
                cleanup()


def database_url(kind: str, folder: Path):
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    import psycopg
    base = os.environ["TEST_POSTGRES_URL"]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop():
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--breached", type=int, default=1000)
    args = parser.parse_args()
    print("reference: target under 2 s on SQLite for 1,000 newly breached among 100,000; an idle scan the same "
          "at 1,000 and 100,000")
    run("sqlite", args.open, args.breached)
    if os.environ.get("TEST_POSTGRES_URL"):
        run("postgresql", args.open, args.breached)
    else:
        print("postgresql: skipped (set TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
