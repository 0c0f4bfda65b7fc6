"""Exactly once: concurrent workers in separate OS processes, a stale worker, a worker killed mid-run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workdesk import Task
from workdesk.plugins.recurring.models import Occurrence, Rule

from .conftest import at

WORKER = Path(__file__).with_name("_worker.py")
ROOT = Path(__file__).resolve().parents[3]


def spawn(database_url: str, instant: str, mode: str, barrier: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen([sys.executable, str(WORKER), database_url, instant, mode, str(barrier)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


def run_together(database_url: str, instant: str, mode: str, barrier: Path, workers: int = 2) -> list[dict]:
    processes = [spawn(database_url, instant, mode, barrier) for _ in range(workers)]
    barrier.touch()  # both are importing meanwhile; they start materialising at the same moment
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def make_rules(make_rule, count: int, **data) -> list[Rule]:
    return [make_rule(title=f"Check {n}", timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", **data)
            for n in range(count)]


def assert_one_task_per_occurrence(expected: int) -> None:
    keys = [(o.rule_id, o.occurrence_at, o.member_id) for o in Occurrence.select()]
    assert len(keys) == len(set(keys)) == expected
    assert Task.select().count() == expected  # no orphan task from a rolled-back attempt


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_two_processes_ticking_at_once_create_each_occurrence_once(make_rule, workdesk_database, tmp_path):
    make_rules(make_rule, 30)
    make_rules(make_rule, 2, assign_mode="each_member")  # 4 members each: one task per (rule, occurrence, member)
    direct = run_together(workdesk_database, "2026-01-01T09:00:00+00:00", "direct", tmp_path / "go1")
    assert sum(r["tasks"] for r in direct) == 30 + 2 * 4
    assert_one_task_per_occurrence(38)
    through_jobs = run_together(workdesk_database, "2026-01-02T09:00:00+00:00", "job", tmp_path / "go2")
    assert sorted(r["recurring.materialise"] for r in through_jobs) in (["locked", "ran"], ["ran", "ran"])
    assert_one_task_per_occurrence(76)


def test_a_worker_that_read_the_rule_before_the_other_committed_creates_nothing(make_rule, recurring, rule_tasks):
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", assign_mode="each_member")
    stale = {f: getattr(rule, f) for f in ("cursor_at", "next_run_at", "next_occurrence_at", "last_effective_at",
                                           "last_occurrence_at", "occurrences_created")}
    assert recurring.materialise_rule(rule.id, at("2026-01-01T09:00Z"))["tasks"] == 4
    # The second worker acts on what it read before the first one committed.
    Rule.update(**stale).where(Rule.id == rule.id).execute()
    outcome = recurring.materialise_rule(rule.id, at("2026-01-01T09:00Z"))
    assert outcome == {"tasks": 0, "failed": 0, "already_done": 4}
    assert_one_task_per_occurrence(4)
    assert Rule.get_by_id(rule.id).next_run_at == at("2026-01-02T09:00Z")  # it moved on, it is not stuck


def test_a_stale_batch_falls_back_rule_by_rule_and_creates_nothing_twice(make_rule, recurring):
    rules = make_rules(make_rule, 3) + make_rules(make_rule, 1, assign_mode="each_member")
    fields = ("cursor_at", "next_run_at", "next_occurrence_at", "last_effective_at", "last_occurrence_at",
              "occurrences_created")
    stale = {rule.id: {f: getattr(rule, f) for f in fields} for rule in rules}
    ids = [rule.id for rule in rules]
    assert recurring.materialise_rules(ids[:2], at("2026-01-01T09:00Z"))["tasks"] == 2  # a first worker
    for rule_id in ids[:2]:
        Rule.update(**stale[rule_id]).where(Rule.id == rule_id).execute()  # what the second one read
    outcome = recurring.materialise_rules(ids, at("2026-01-01T09:00Z"))
    assert outcome == {"tasks": 1 + 4, "failed": 0, "already_done": 2}
    assert_one_task_per_occurrence(2 + 1 + 4)
    assert all(Rule.get_by_id(i).next_run_at == at("2026-01-02T09:00Z") for i in ids)


def test_a_worker_killed_mid_run_leaves_nothing_half_done(make_rule, workdesk_database, tmp_path, recurring):
    make_rules(make_rule, 5)
    (tmp_path / "go").touch()
    crashed = spawn(workdesk_database, "2026-01-01T09:00:00+00:00", "crash", tmp_path / "go")
    crashed.communicate(timeout=120)
    assert crashed.returncode == 9
    assert_one_task_per_occurrence(0)  # the tick's rules are settled in one transaction: none committed
    recurring.materialise_due(at("2026-01-01T09:00Z"))  # another worker takes over
    assert_one_task_per_occurrence(5)
