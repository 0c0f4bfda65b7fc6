"""100 tasks filed at once by four OS processes are spread by the strategy and no cap is exceeded: every
decision locks (PostgreSQL: a row lock; SQLite: the write transaction), so each sees the others' work."""
from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workdesk import Task

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("file_tasks.py")


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("strategy, cap", [("least_loaded", 30), ("round_robin", 30), ("least_loaded", 20)])
def test_four_processes_filing_100_tasks_share_them_out(team, make_rule, workdesk_database, tmp_path, strategy, cap):
    """With room under the cap the strategy alone spreads them evenly (25 each); with a cap of 20 four people
    take 20 each and the other 20 tasks wait unassigned: no decision missed another process's assignment."""
    agents = team["agents"]
    make_rule(strategy=strategy, cap=cap)
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    processes = [subprocess.Popen([sys.executable, str(SCRIPT), workdesk_database, str(tmp_path / f"instance{n}"),
                                   str(team["department"].id), str(team["head"].id), "25", str(go)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
                 for n in range(4)]
    go.touch()
    answers = [process.communicate(timeout=300) for process in processes]
    for process, (out, err) in zip(processes, answers):
        assert process.returncode == 0, err[-3000:]
    counts = collections.Counter(Task.select(Task.assignee).where(Task.title.startswith("Concurrent")).tuples())
    assert sum(counts.values()) == 100
    each = min(cap, 25)
    expected = {a.id: each for a in agents} | ({None: 100 - 4 * each} if each < 25 else {})
    assert {assignee: count for (assignee,), count in counts.items()} == expected
