"""Benchmark of the recurring plugin on SQLite.

1. One tick with 10,000 rules due: how many tasks per second it materialises, side by side rule by rule
   (one transaction and one ``create_task`` per rule, as before bulk creation) and in batches (one
   ``create_tasks`` per page of 500 rules, what the job does).
2. One tick with nothing due, with 10 and with 100,000 rules: the job reads only the indexed
   ``next_run_at`` column, so the cost does not grow with the number of rules.

    .venv/bin/python bench/bench_recurring.py [--due 10000] [--idle 100000] [--skip-rule-by-rule] [--skip-idle]
                                              [--age-days 365]

Rules beyond the first are copies of one rule made through the service (a bulk insert of its row), so
setting up 100,000 rules takes seconds; materialising goes through the real service and job path.
Copies share one parsed recurrence, the best case; the batched tick is also measured with rules whose
DTSTARTs are a second apart (as real rules' are), each with a recurrence of its own. ``--age-days`` makes
the due rules' DTSTART that many days before the tick (their cursor settled up to the tick), as rules that
have run for a while are: dateutil walks a rule's occurrences from its DTSTART.
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


def fresh_app(folder: Path):
    from workdesk.app import create_app
    from workdesk.registry import set_plugin_enabled
    from workdesk.schema import upgrade_all
    app = create_app({"instance_path": str(folder), "secret_key": secrets.token_urlsafe(24),
                      "database_url": f"sqlite:///{folder / 'bench.db'}", "queue_url": "memory://",
                      "plugin_refresh_seconds": 60, "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    set_plugin_enabled("recurring", True)
    return app


def make_rules(count: int, dtstart: str, rrule: str, distinct: bool = False) -> None:
    """``count`` rules: copies of one rule, or (``distinct``) each with its own DTSTART, a second before the
    previous one's, so that no two share a parsed recurrence."""
    from workdesk.db import db
    from workdesk.services.users import create_department, create_user
    from workdesk.plugins.recurring import services
    from workdesk.plugins.recurring.models import Rule
    admin = create_user(None, email=f"bench{secrets.token_hex(4)}@example.com", name="Bench", password="bench-password",
                        role="admin")
    department = create_department(None, name=f"Bench {secrets.token_hex(4)}", head_id=admin.id)
    template = services.create_rule(admin, {"title": "Bench check", "department_id": department.id, "timezone": "UTC",
                                            "dtstart": dtstart, "rrule": rrule}, now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    row = {field.name: getattr(template, field.name) for field in Rule._meta.sorted_fields if field.name != "id"}
    row = {Rule._meta.fields[name]: value for name, value in row.items()}
    rows = ([row] * (count - 1) if not distinct else
            [_moved(row, dt.timedelta(seconds=-i)) for i in range(1, count)])
    with db.atomic():
        for start in range(0, count - 1, 500):
            Rule.insert_many(rows[start:start + 500]).execute()


def _moved(row: dict, delta: dt.timedelta) -> dict:
    """A copy of a rule's row whose DTSTART and next occurrence are ``delta`` later."""
    from workdesk.plugins.recurring.models import Rule
    fields = Rule._meta.fields
    start = dt.datetime.fromisoformat(row[fields["dtstart"]]) + delta
    return {**row, fields["dtstart"]: start.strftime("%Y-%m-%dT%H:%M:%S"),
            fields["next_run_at"]: row[fields["next_run_at"]] + delta,
            fields["next_occurrence_at"]: row[fields["next_occurrence_at"]] + delta}


def bench_due(count: int, rule_by_rule: bool, distinct: bool = False, age_days: int = 0) -> float:
    from workdesk.jobs import run_due_jobs
    from workdesk import Task
    from workdesk.plugins.recurring.models import Rule
    from workdesk.plugins.recurring.services import materialise_rule
    from workdesk.worker import freeze_loaded_objects
    now = dt.datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        app = fresh_app(Path(folder))
        with app.app_context():
            start = dt.date(2026, 1, 1) - dt.timedelta(days=age_days)  # created at midnight: nothing owed before
            make_rules(count, f"{start.isoformat()}T09:00", "FREQ=DAILY", distinct)
            freeze_loaded_objects()  # as the worker does once it has loaded the app
            started, cpu_started = time.perf_counter(), time.process_time()
            if rule_by_rule:
                for rule_id in [r.id for r in Rule.select(Rule.id).where(Rule.next_run_at <= now)]:
                    materialise_rule(rule_id, now)
            else:
                result = run_due_jobs(now, force=True)
                assert result["recurring.materialise"] == "ran", result
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            tasks = Task.select().count()
            assert tasks == count, tasks
            how = (("rule by rule" if rule_by_rule else "in batches") + (", distinct DTSTARTs" if distinct else "")
                   + (f", {age_days} days old" if age_days else ""))
            print(f"due tick {how + ':':46} {count} rules due -> {tasks} tasks in {elapsed:.2f} s = "
                  f"{tasks / elapsed:.0f} tasks/s ({cpu:.2f} s of CPU)")
            return elapsed


def bench_idle(count: int, repeat: int = 300) -> float:
    from workdesk.db import db
    from workdesk.plugins.recurring.services import materialise_due
    with tempfile.TemporaryDirectory() as folder:
        app = fresh_app(Path(folder))
        with app.app_context():
            make_rules(count, "2027-06-01T09:00", "FREQ=YEARLY")
            now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
            materialise_due(now)  # warm the page cache
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                assert materialise_due(now)["rules"] == 0
                samples.append(time.perf_counter() - started)
            plan = db.execute_sql("EXPLAIN QUERY PLAN SELECT id FROM recurring_rule WHERE next_run_at <= ? "
                                  "ORDER BY next_run_at, id LIMIT 500", (now.replace(tzinfo=None),)).fetchall()
            median = statistics.median(samples)
            print(f"idle tick: {count:>6} rules, nothing due -> median {median * 1e6:.0f} us "
                  f"(p95 {sorted(samples)[int(repeat * 0.95)] * 1e6:.0f} us); plan: {plan[0][-1]}")
            return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=10_000, help="rules due in the materialising tick")
    parser.add_argument("--idle", type=int, default=100_000, help="rules in the large idle tick")
    parser.add_argument("--skip-rule-by-rule", action="store_true",
                        help="only the batched ticks (the rule-by-rule tick takes about 25 s)")
    parser.add_argument("--skip-idle", action="store_true", help="no idle ticks")
    parser.add_argument("--age-days", type=int, default=0,
                        help="the due rules' DTSTART this many days before the tick (cursor settled up to it)")
    args = parser.parse_args()
    age = args.age_days
    before = None if args.skip_rule_by_rule else bench_due(args.due, rule_by_rule=True, age_days=age)
    after = bench_due(args.due, rule_by_rule=False, age_days=age)
    if before is not None:
        print(f"due tick: batches take {after / before:.0%} of the rule-by-rule time (target: under 2 s)")
    bench_due(args.due, rule_by_rule=False, distinct=True, age_days=age)
    if args.skip_idle:
        return
    small = bench_idle(10)
    large = bench_idle(args.idle)
    print(f"idle tick cost ratio {args.idle} vs 10 rules: {large / small:.2f}x")


if __name__ == "__main__":
    main()
