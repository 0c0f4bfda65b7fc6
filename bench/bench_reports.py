"""The reports dashboard over a large audit trail, on SQLite and PostgreSQL.

Builds a year of history — tasks in twelve departments (three levels, half of them with a working-hours
calendar), each with its trail: creation, first response, status moves, reassignments, transfers,
reopens, comments — written with multi-row inserts, then computes every metric of the dashboard as the
page does (the same ``ReportScope`` and SQL) for:

- one department (with its sub-departments), one month, as its manager: target under 2 s;
- every department over the whole year, as an admin: target under 5 s.

After writing the trail the bench derives the plugin's per-task facts from it (``facts.rebuild``, as
an upgrade does) and prints how long that took. The first run of each also lays out the calendars' working intervals; the figure printed is the best of
``--repeat`` runs after one warm-up, beside the target. The default size is small enough for a laptop
(100,000 audit events and 10,000 tasks); ``--full`` is the issue's size (1,000,000 and 100,000).

    .venv/bin/python bench/bench_reports.py [--full] [--events N --tasks N] [--postgres URL] [--repeat 3] [--skip-sqlite]

PostgreSQL runs need ``--postgres`` (or ``TEST_POSTGRES_URL``): the bench works in a schema of its own
that it drops at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.timezone.utc
YEAR_START = dt.datetime(2025, 1, 1, tzinfo=UTC)
TARGETS = {"one department, one month": 2.0, "all departments, one year": 5.0}


def build(tasks: int, events: int, seed: int = 7) -> dict:
    """Write the history; returns the people and departments the measurements use."""
    from workdesk import Calendar, Membership, Role, Task, TaskEvent, User, insert_rows
    from workdesk.services.users import create_department, create_user
    rng = random.Random(seed)
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = Calendar.create(name="Office", timezone="Europe/Sofia", weekly_hours=hours)
    tops = [create_department(None, name=f"Division {i}", calendar_id=calendar.id if i % 2 == 0 else None)
            for i in range(3)]
    departments = list(tops)
    for top in tops:
        for j in range(3):
            departments.append(create_department(None, name=f"{top.name}.{j}", parent_id=top.id))
    admin = create_user(None, email="admin@bench.example", name="Admin", password="bench-password", role="admin")
    manager = create_user(None, email="manager@bench.example", name="Manager", password="bench-password",
                          role="manager", department_ids=[tops[0].id], timezone="Europe/Sofia")
    # The rest without a password: hashing one costs a fifth of a second, and nobody logs in here.
    agent_role, requester_role = Role.get(Role.name == "agent"), Role.get(Role.name == "requester")
    people = [User.create(email=f"agent{i}@bench.example", name=f"Agent {i}", role=agent_role) for i in range(60)]
    for i, person in enumerate(people):
        Membership.create(user=person, department=departments[i % len(departments)])
    reporters = [User.create(email=f"rep{i}@bench.example", name=f"Reporter {i}", role=requester_role)
                 for i in range(40)]
    per_task = max(2, events // tasks)
    task_rows, trails = [], []
    for n in range(tasks):
        created = YEAR_START + dt.timedelta(seconds=rng.randrange(365 * 86400))
        department = rng.choice(departments)
        reporter, agent, other = rng.choice(reporters), rng.choice(people), rng.choice(people)
        trail = [("created", reporter.id, created, {"status": [None, "new"], "department_id": [None, department.id],
                                                     "assignee_id": [None, agent.id]})]
        at, status, dept = created, "new", department.id
        steps = [("open", None), ("in_progress", None), ("comment", None), ("assign", other.id),
                 ("waiting", None), ("in_progress", None), ("resolved", None), ("reopen", None),
                 ("in_progress", None), ("transfer", None), ("resolved", None), ("closed", None)]
        for kind, value in steps[:per_task - 1]:
            at += dt.timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
            if kind == "comment":
                trail.append(("commented", agent.id, at, {"comment_id": [None, n]}))
            elif kind == "assign":
                trail.append(("updated", agent.id, at, {"assignee_id": [agent.id, value]}))
            elif kind == "transfer":
                new_dept = rng.choice(departments).id
                trail.append(("updated", agent.id, at, {"department_id": [dept, new_dept]}))
                dept = new_dept
            else:
                new = "open" if kind == "reopen" else kind
                trail.append(("updated", reporter.id if kind == "reopen" else agent.id, at, {"status": [status, new]}))
                status = new
        if at > YEAR_START + dt.timedelta(days=365):
            trail = [t for t in trail if t[2] <= YEAR_START + dt.timedelta(days=365)]
            status = next((t[3]["status"][1] for t in reversed(trail) if "status" in t[3]), "new")
        # As the task service keeps them: the instant of the last resolution while resolved or closed.
        done_at = next((t[2] for t in reversed(trail) if t[3].get("status", [None, None])[1] in ("resolved", "closed")),
                       None) if status in ("resolved", "closed") else None
        task_rows.append({"resolved_at": done_at, "closed_at": done_at if status == "closed" else None,
                          "number": n + 1, "title": f"Bench task {n + 1}", "department": dept, "reporter": reporter.id,
                          "assignee": agent.id, "status": status, "priority": rng.choice(("low", "normal", "high", "urgent")),
                          "created_at": created, "updated_at": trail[-1][2],
                          "due_at": created + dt.timedelta(days=rng.randrange(1, 20))})
        trails.append(trail)
    ids = []
    for offset in range(0, len(task_rows), 5000):
        ids += [row[0] for row in insert_rows(Task, task_rows[offset:offset + 5000], returning=(Task.id,))]
    number_of = {task_id: row["number"] for task_id, row in zip(ids, task_rows)}
    event_rows = [{"task_id": task_id, "task_number": number_of[task_id], "actor": actor, "at": at, "kind": kind,
                   "changes": changes} for task_id, trail in zip(ids, trails) for kind, actor, at, changes in trail]
    event_rows.sort(key=lambda row: row["at"])
    for offset in range(0, len(event_rows), 5000):
        insert_rows(TaskEvent, event_rows[offset:offset + 5000])
    from workdesk import db
    db.execute_sql("ANALYZE")  # what autovacuum does after a bulk load: the planner needs the tables' sizes
    return {"admin": admin, "manager": manager, "department": tops[0], "events": len(event_rows), "tasks": len(ids)}


def dashboard(viewer, first: dt.date, last: dt.date, department_id=None) -> float:
    """Every metric of the dashboard for this scope, as the page computes them; seconds taken."""
    from workdesk.plugins.reports import metrics
    from workdesk.plugins.reports.scope import Period, build_scope
    from workdesk.plugins.reports.service import compute
    start = time.perf_counter()
    scope = build_scope(viewer, Period(first, last, viewer.zone), department_id)
    for metric in metrics.catalogue():
        began = time.perf_counter()
        compute(metric, scope)
        if os.environ.get("BENCH_REPORTS_DETAIL"):
            print(f"      {metric.key:32} {time.perf_counter() - began:6.2f} s")
    return time.perf_counter() - start


def run(database_url: str, label: str, tasks: int, events: int, repeat: int) -> None:
    from workdesk.app import create_app
    from workdesk.registry import set_plugin_enabled
    from workdesk.schema import upgrade_all
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"instance_path": instance, "secret_key": secrets.token_urlsafe(24),
                          "database_url": database_url, "queue_url": "memory://", "log_level": "WARNING",
                          "plugin_refresh_seconds": 0})
        upgrade_all(app.extensions["workdesk_registry"])
        with app.test_request_context():
            set_plugin_enabled("reports", True)
            t0 = time.perf_counter()
            built = build(tasks, events)
            print(f"{label}: wrote {built['tasks']:,} tasks and {built['events']:,} audit events "
                  f"in {time.perf_counter() - t0:.1f} s")
            # The trail was written directly, as an existing install's is: derive the facts the metrics
            # read, as the plugin's migration and `workdesk reports rebuild` do.
            from workdesk.plugins.reports.facts import rebuild
            t0 = time.perf_counter()
            rebuild()
            print(f"{label}: rebuilt the report facts from the audit trail in {time.perf_counter() - t0:.1f} s")
            cases = {"one department, one month": (built["manager"], dt.date(2025, 6, 1), dt.date(2025, 6, 30),
                                                   built["department"].id),
                     "all departments, one year": (built["admin"], dt.date(2025, 1, 1), dt.date(2025, 12, 31), None)}
            for name, (viewer, first, last, department_id) in cases.items():
                dashboard(viewer, first, last, department_id)  # warm-up: caches, calendars laid out
                best = min(dashboard(viewer, first, last, department_id) for _ in range(repeat))
                verdict = "ok" if best < TARGETS[name] else "OVER TARGET"
                print(f"  {label:10} {name:28} {best:7.2f} s   (target < {TARGETS[name]:.0f} s: {verdict})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="1,000,000 audit events and 100,000 tasks")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"),
                        help="a PostgreSQL URL (default: TEST_POSTGRES_URL); without it only SQLite runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    tasks, events = (100_000, 1_000_000) if args.full else (args.tasks, args.events)
    sys.path.insert(0, str(ROOT))
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.db", "SQLite", tasks, events, args.repeat)
    if args.postgres:
        import psycopg
        schema = f"reports_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in args.postgres else "?"
            run(f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}", "PostgreSQL", tasks, events,
                args.repeat)
        finally:
            from workdesk import db
            if db.obj is not None and not db.is_closed():
                db.close()
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    else:
        print("PostgreSQL: skipped (give --postgres URL or set TEST_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
