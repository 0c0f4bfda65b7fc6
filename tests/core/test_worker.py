"""At-least-once events and once-at-a-time periodic jobs, with real worker processes."""
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from workdesk import outbox
from workdesk.db import utcnow
from workdesk.jobs import PeriodicJob, run_job
from workdesk.models import JobRun, OutboxEvent

from .conftest import ROOT, SAMPLES


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_claims_are_exclusive_and_expire(workdesk_app, make_department, make_user, make_task):
    dept = make_department()
    make_task(make_user("agent", departments=[dept]), dept)
    first = outbox.claim(worker_id="w1")
    assert [e.kind for e in first] == ["task.created"]
    assert outbox.claim(worker_id="w2") == []
    later = utcnow() + dt.timedelta(seconds=outbox._lease_seconds + 1)
    again = outbox.claim(now=later, worker_id="w2")
    assert [e.id for e in again] == [first[0].id] and again[0].claimed_by == "w2" and again[0].attempts == 2


def test_a_failing_handler_is_retried_with_backoff_then_given_up(workdesk_app, make_department, make_user,
                                                                 make_task, enable_plugin):
    enable_plugin("raising")
    dept = make_department()
    make_task(make_user("agent", departments=[dept]), dept)
    event = OutboxEvent.get()
    now = utcnow()
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        now += dt.timedelta(hours=2)
        assert outbox.drain(now=now) == 1, attempt
    event = OutboxEvent.get_by_id(event.id)
    assert event.done_at is not None
    assert event.deliveries.where().first().status == "failed"


def test_a_lock_left_by_a_dead_worker_expires(workdesk_app):
    calls = []
    job = PeriodicJob("probe", lambda now, since: calls.append(now))
    now = utcnow()
    JobRun.create(name="t.probe", locked_by="dead:1", locked_until=now + dt.timedelta(minutes=5))
    assert run_job("t.probe", job, now) == "locked"
    JobRun.update(locked_until=now - dt.timedelta(seconds=1)).execute()
    assert run_job("t.probe", job, now) == "ran" and calls == [now]
    assert run_job("t.probe", job, now + dt.timedelta(seconds=30)) == "not_due"
    assert run_job("t.probe", job, now + dt.timedelta(minutes=1)) == "ran"


def test_a_missed_period_is_caught_up_with_since(workdesk_app):
    seen = []
    job = PeriodicJob("catchup", lambda now, since: seen.append((now, since)), every=dt.timedelta(hours=1))
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc)
    run_job("t.catchup", job, t0)
    run_job("t.catchup", job, t0 + dt.timedelta(hours=5))  # the worker was down for four periods
    assert seen == [(t0, None), (t0 + dt.timedelta(hours=5), t0)]


def _start_worker(cli_instance, env):
    return subprocess.Popen([sys.executable, "-m", "workdesk.cli", "worker", "--threads", "1"],
                            env={**cli_instance.env, **env}, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_mid_event_loses_nothing_and_handles_it_once(cli_instance, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"WORKDESK_EXTRA_PLUGINS": f"{SAMPLES}:SlowPlugin", "SLOW_MARKER_DIR": str(markers),
           "WORKDESK_OUTBOX_LEASE_SECONDS": "2", "WORKDESK_OUTBOX_POLL_SECONDS": "0.2"}
    cli_instance("plugins", "enable", "slow", extra_env=env)
    script = (
        "import sys; from workdesk.app import init_runtime; from workdesk.config import load_settings;"
        "from workdesk.services import tasks, users;"
        "init_runtime(load_settings());"
        "from workdesk.models import Department;"
        "d = Department.get_or_none(Department.name == 'Ops') or users.create_department(None, name='Ops');"
        "print(tasks.create_task(None, title=sys.argv[1], department_id=d.id).id)")

    def create_task(title):
        out = subprocess.run([sys.executable, "-c", script, title], env={**cli_instance.env, **env},
                             cwd=str(ROOT), capture_output=True, text=True, check=True, timeout=60)
        return int(out.stdout.strip().splitlines()[-1])

    first_task = create_task("first")
    first = _start_worker(cli_instance, env)
    try:
        assert wait_for(lambda: any(markers.iterdir())), "the worker never started the event"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    second_task = create_task("second")  # arrives while no worker runs
    second = _start_worker(cli_instance, env)
    import sqlite3
    db_path = cli_instance.instance / "workdesk.db"

    def handled():
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT e.payload, h.event_id FROM recorder_handled_event h "
                                "JOIN core_outbox e ON e.id = h.event_id WHERE h.plugin = 'slow'").fetchall()
    try:
        assert wait_for(lambda: len(handled()) >= 2, timeout=40), handled()
        time.sleep(1.0)  # give a hypothetical duplicate delivery the chance to show up
        rows = handled()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)
    assert sorted(json.loads(payload)["task_id"] for payload, _ in rows) == [first_task, second_task]
    with sqlite3.connect(db_path) as conn:
        pending = conn.execute("SELECT count(*) FROM core_outbox WHERE done_at IS NULL").fetchone()[0]
        kinds = conn.execute("SELECT plugin, status FROM core_outbox_delivery").fetchall()
    assert pending == 0
    # The core's own handlers (notifications of task.created) keep ledger rows too: every delivery finished,
    # the slow plugin's exactly once per event.
    assert {status for _plugin, status in kinds} == {"done"}
    assert sorted(kind for kind in kinds if kind[0] == "slow") == [("slow", "done"), ("slow", "done")]


def test_two_processes_never_run_one_job_at_the_same_time(cli_instance, tmp_path):
    log = tmp_path / "jobs.log"
    env = {**cli_instance.env, "WORKDESK_EXTRA_PLUGINS": f"{SAMPLES}:RecorderPlugin",
           "RECORDER_JOB_LOG": str(log), "RECORDER_JOB_SLEEP": "3"}
    cli_instance("plugins", "enable", "recorder", extra_env=env)
    ticks = [subprocess.Popen([sys.executable, "-m", "workdesk.cli", "tick", "--at", "2026-05-01T10:00:00Z"],
                              env=env, cwd=str(ROOT), stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in ticks]
    results = sorted(line.split(": ")[1] for out in outputs for line in out.splitlines()
                     if line.startswith("recorder.log_now"))
    assert results == ["locked", "ran"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    starts = [e["start"] for e in entries if "start" in e]
    ends = [e["end"] for e in entries if "end" in e]
    assert len(starts) == len(ends) == 1


def test_a_last_run_recorded_in_the_future_is_unknown(workdesk_app):
    seen = []
    job = PeriodicJob("skewed", lambda now, since: seen.append((now, since)), every=dt.timedelta(hours=1))
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc)
    run_job("t.skewed", job, t0 + dt.timedelta(minutes=30))  # a clock half an hour fast
    assert run_job("t.skewed", job, t0) == "ran"  # stepped back: due at once, with no last run
    assert seen[-1] == (t0, None) and JobRun.get_by_id("t.skewed").last_completed_at == t0
    assert run_job("t.skewed", job, t0 + dt.timedelta(minutes=59)) == "not_due"


def test_a_replay_is_recorded_apart_from_the_live_schedule(workdesk_app):
    seen = []
    job = PeriodicJob("replayed", lambda now, since: seen.append((now, since)), every=dt.timedelta(hours=1))
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc)
    future = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)
    run_job("t.replayed", job, t0)
    assert run_job("t.replayed", job, future, force=True, replay=True) == "ran"
    assert run_job("t.replayed", job, future + dt.timedelta(hours=1), force=True, replay=True) == "ran"
    run = JobRun.get_by_id("t.replayed")
    assert (run.last_completed_at, run.last_replay_at) == (t0, future + dt.timedelta(hours=1))
    assert run_job("t.replayed", job, t0 + dt.timedelta(hours=1)) == "ran"
    assert seen == [(t0, None), (future, t0), (future + dt.timedelta(hours=1), future),
                    (t0 + dt.timedelta(hours=1), t0)]
