"""The chaos soak's short form (bench/soak.py --seconds 60: one fault of each kind) inside `make test`:
its own PostgreSQL cluster and Redis, two web processes, three workers, load at concurrency 16, then
nothing lost, nothing twice, every fault survived."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


@pytest.mark.skipif(not (os.environ.get("TEST_POSTGRES_URL") and os.environ.get("TEST_REDIS_URL")),
                    reason="the soak runs with TEST_POSTGRES_URL and TEST_REDIS_URL set (as .ci/run does)")
def test_the_short_chaos_soak_loses_nothing_and_repeats_nothing(tmp_path):
    import soak
    missing = soak.missing_tools()
    if missing:
        pytest.skip(f"the soak needs {missing}")
    figures = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", "60", "--json", str(figures)],
                          capture_output=True, text=True, timeout=900, cwd=str(ROOT))
    print(done.stdout[-4000:])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(figures.read_text())
    assert result["passed"] and result["tasks_acknowledged"] > 0
    assert set(result["faults_survived"]) == {"worker SIGKILL", "web SIGKILL", "Redis restart",
                                              "PostgreSQL fast restart"}
    checks = result["checks"]
    assert checks["acknowledged tasks lost"] == 0 and checks["event handled twice by a plugin"] == 0
    assert checks["e-mails in the ledger"] > 0 and checks["webhooks in the ledger"] > 0
    assert checks["500 answers"] == 0 and checks["503 without Retry-After"] == 0
