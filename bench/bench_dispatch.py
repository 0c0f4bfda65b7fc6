"""Benchmark of the dispatch plugin on SQLite (and PostgreSQL with ``--postgres URL``).

1. One decision with 1,000 candidates and 100,000 open tasks: the time to file a task a least-loaded
   rule with a cap assigns (the whole ``create_task``, decision and audit row included), beside the same
   create with no rule (the core's own cost), and the decision alone. Target: a decision under 20 ms.
2. A batch of 1,000 tasks: one per member of a 1,000-person team from a template, through the one
   set-based core path (``services.tasks.create_tasks``). Target: under 1 s on SQLite.

    .venv/bin/python bench/bench_dispatch.py [--people 1000] [--tasks 100000] [--postgres URL]

People and the open tasks are bulk-inserted rows (hashing 1,000 passwords would dominate the set-up);
the measured paths go through the real services.
"""
from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path

UTC = dt.timezone.utc


def fresh_app(folder: Path, database_url: str | None):
    from workdesk.app import create_app
    from workdesk.registry import set_plugin_enabled
    from workdesk.schema import upgrade_all
    app = create_app({"instance_path": str(folder), "secret_key": secrets.token_urlsafe(24),
                      "database_url": database_url or f"sqlite:///{folder / 'bench.db'}", "queue_url": "memory://",
                      "plugin_refresh_seconds": 60, "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    set_plugin_enabled("dispatch", True)
    return app


def make_team(people: int):
    """A head (through the service) and ``people`` agents (bulk rows) in one department."""
    from workdesk import Department, Membership, Role, User
    from workdesk.db import db
    from workdesk.services.users import create_department, create_user
    tag = secrets.token_hex(4)
    head = create_user(None, email=f"head{tag}@example.com", name="Head", password="bench-password", role="manager")
    department = create_department(None, name=f"Bench {tag}", head_id=head.id)
    agent = Role.get(Role.name == "agent")
    with db.atomic():
        for start in range(0, people, 500):
            User.insert_many([{"email": f"a{n}.{tag}@example.com", "name": f"Agent {n:05d}", "role": agent.id,
                               "password_hash": "", "skills": []} for n in range(start, min(people, start + 500))]
                             ).execute()
        ids = [u.id for u in User.select(User.id).where(User.email.endswith(f".{tag}@example.com"))]
        for start in range(0, len(ids), 500):
            Membership.insert_many([{"user": i, "department": department.id} for i in ids[start:start + 500]]).execute()
        Membership.create(user=head.id, department=department.id)
    return Department.get_by_id(department.id), head, ids


def open_tasks(department, head, assignees: list[int], count: int) -> None:
    from workdesk import Task
    from workdesk.db import db
    from workdesk.models import Sequence
    now = dt.datetime.now(UTC)
    priorities = ("low", "normal", "high", "urgent")
    with db.atomic():
        for start in range(0, count, 1000):
            Task.insert_many([{"number": n + 1, "title": f"Open {n}", "status": ("new", "open", "in_progress")[n % 3],
                               "priority": priorities[n % 4], "department": department.id, "reporter": head.id,
                               "assignee": assignees[(n * 7) % len(assignees)], "fields": {}, "created_at": now,
                               "updated_at": now} for n in range(start, min(count, start + 1000))]).execute()
        Sequence.insert(name="task", value=count).on_conflict(conflict_target=[Sequence.name],
                                                            update={Sequence.value: count}).execute()


def timed(func, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return samples


def report(label: str, samples: list[float], target: float | None = None) -> None:
    median, p95 = statistics.median(samples), sorted(samples)[int(len(samples) * 0.95)]
    line = f"{label}: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms over {len(samples)} runs"
    if target is not None:
        line += f" (target: under {target * 1000:.0f} ms: {'met' if median < target else 'MISSED'})"
    print(line, flush=True)


def bench_decision(people: int, tasks: int, database_url: str | None, repeat: int) -> None:
    from workdesk import Task, access, services, utcnow
    from workdesk.plugins.dispatch import services as dispatch
    from workdesk.plugins.dispatch.models import Rule
    with tempfile.TemporaryDirectory() as folder:
        app = fresh_app(Path(folder), database_url)
        with app.app_context():
            department, head, agents = make_team(people)
            open_tasks(department, head, agents, tasks)
            print(f"{len(agents)} candidates, {Task.select().count()} open tasks", flush=True)

            def file():
                services.tasks.create_task(head, title="Bench", department_id=department.id)
            report("create_task, no rule (the core's cost)", timed(file, repeat))
            rule = dispatch.create_rule(None, {"name": "Bench", "department_id": department.id, "pool": "department",
                                               "strategy": "least_loaded", "cap": 10_000})
            report("create_task, least-loaded rule with a cap", timed(file, repeat))
            candidates = list(access.eligible_assignees(department.id))
            probe = Task(title="probe", department=department, priority="normal", type="task", impact="", fields={})
            for strategy in ("least_loaded", "round_robin", "best_skill", "longest_idle"):
                Rule.update(strategy=strategy).where(Rule.id == rule.id).execute()
                fresh = Rule.get_by_id(rule.id)
                report(f"decision alone, {strategy:<12}",
                       timed(lambda: dispatch.decide(fresh, probe, candidates, utcnow(), choose=False), repeat),
                       target=0.020)


def bench_batch(people: int, database_url: str | None) -> None:
    from workdesk import Task
    from workdesk.plugins.dispatch import batch
    with tempfile.TemporaryDirectory() as folder:
        app = fresh_app(Path(folder), database_url)
        with app.app_context():
            department, head, agents = make_team(people)
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                result = batch.run(head if head.has_permission("dispatch.manage") else None,
                                   {"template": {"title": "Daily equipment inspection"},
                                    "department_ids": [department.id], "per": "member"})
                samples.append(time.perf_counter() - started)
                assert len(result["created"]) == people + 1
            report(f"batch of {people + 1} tasks (one per member)", samples, target=1.0)
            print(f"  tasks now: {Task.select().count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (an empty database) instead of SQLite")
    args = parser.parse_args()
    bench_decision(args.people, args.tasks, args.postgres, args.repeat)
    bench_batch(args.people, args.postgres)


if __name__ == "__main__":
    main()
