"""The outbox in batches: one claim per batch, leases kept, the ledger skipping finished plugins, and
two worker processes draining one outbox in parallel with every event handled once per plugin."""
from __future__ import annotations

import collections
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workdesk import outbox
from workdesk.db import utcnow
from workdesk.models import OutboxDelivery, OutboxEvent
from workdesk.services.tasks import create_tasks

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_outbox_worker.py")


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": ["tests.core.outbox_plugins:TallyPlugin"]}


@pytest.fixture
def tally(tmp_path, monkeypatch, enable_plugin):
    path = tmp_path / "tally.txt"
    path.touch()
    monkeypatch.setenv("TALLY_FILE", str(path))
    enable_plugin("tally")
    return path


def file_tasks(make_department, make_user, count: int) -> None:
    department = make_department("Ops")
    agent = make_user("agent", departments=[department])
    create_tasks(agent, [{"title": f"Check {n}", "department_id": department.id, "assignee_id": agent.id}
                         for n in range(count)])  # two events each: task.created and task.assigned


def deliveries(tally: Path) -> collections.Counter:
    return collections.Counter(tuple(line.split()[1:]) for line in tally.read_text().splitlines())


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_one_claim_takes_a_batch_and_leases_it(workdesk_app, make_department, make_user, tally):
    file_tasks(make_department, make_user, 30)
    now = utcnow()
    first = outbox.claim(now=now, limit=25, worker_id="w1")
    assert len(first) == 25 and [e.id for e in first] == sorted(e.id for e in first)
    assert {(e.claimed_by, e.attempts) for e in first} == {("w1", 1)}
    second = outbox.claim(now=now, limit=100, worker_id="w2")
    assert len(second) == 35 and not {e.id for e in first} & {e.id for e in second}
    assert outbox.claim(now=now, worker_id="w3") == []
    assert outbox.process_batch(first) == [True] * 25
    later = now + dt.timedelta(seconds=outbox._lease_seconds + 1)
    retaken = outbox.claim(now=later, worker_id="w3")  # w2 died: its batch is claimed again
    assert sorted(e.id for e in retaken) == sorted(e.id for e in second)
    assert outbox.process_batch(retaken) == [True] * 35
    counted = deliveries(tally)
    assert len(counted) == 60 and set(counted.values()) == {1}
    assert OutboxDelivery.select().where(OutboxDelivery.plugin == "tally").count() == 60


@pytest.mark.parametrize("workdesk_database", ["sqlite"], indirect=True)
def test_a_redelivered_batch_skips_what_the_ledger_shows_finished(workdesk_app, make_department, make_user, tally,
                                                                  monkeypatch):
    file_tasks(make_department, make_user, 3)
    batch = outbox.claim(limit=6)
    outbox.process_batch(batch[:2])  # the ledger of the first two is written; then the worker "dies"
    now = utcnow() + dt.timedelta(seconds=outbox._lease_seconds + 1)
    assert outbox.drain(now=now) >= 4
    assert set(deliveries(tally).values()) == {1} and len(deliveries(tally)) == 6
    assert OutboxEvent.select().where(OutboxEvent.done_at.is_null()).count() == 0


@pytest.mark.parametrize("workdesk_database", ["sqlite"], indirect=True)
def test_a_long_batch_writes_its_outcomes_and_renews_leases_on_the_way(workdesk_app, make_department, make_user,
                                                                        tally, monkeypatch):
    file_tasks(make_department, make_user, 3)
    monkeypatch.setattr(outbox, "FLUSH_SECONDS", 0.0)  # flush after every event
    batch = outbox.claim(limit=6, worker_id="w1")
    leases = {e.id: e.claimed_until for e in batch}
    written = []
    real_flush = outbox._flush

    def watch(outcomes, now, worker_id, still_claimed):
        real_flush(outcomes, now, worker_id, still_claimed)
        rows = {e.id: e for e in OutboxEvent.select()}
        written.append((len(outcomes.done), [rows[i].claimed_until > leases[i] for i in still_claimed]))
    monkeypatch.setattr(outbox, "_flush", watch)
    assert outbox.process_batch(batch, worker_id="w1") == [True] * 6
    assert [done for done, _ in written] == [1] * 6  # five on the way, then the end of the batch
    assert all(all(renewed) for _, renewed in written) and written[0][1] == [True] * 5


@pytest.mark.parametrize("workdesk_database", ["postgresql"], indirect=True)
def test_two_worker_processes_drain_in_parallel_and_handle_each_event_once(
        workdesk_app, workdesk_database, make_department, make_user, tally, tmp_path):
    file_tasks(make_department, make_user, 1000)
    ours = {(("created" if e.kind == "task.created" else "assigned"), str(e.id)) for e in
            OutboxEvent.select().where(OutboxEvent.kind.in_(["task.created", "task.assigned"]))}
    assert len(ours) == 2000
    barrier = tmp_path / "go"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}, "PYTHONPATH": str(ROOT),
           "TALLY_FILE": str(tally)}
    workers = [subprocess.Popen([sys.executable, str(WORKER), workdesk_database, str(barrier)], env=env,
                                cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    barrier.touch()
    handled = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        handled.append(int(out.strip().splitlines()[-1]))
    counted = deliveries(tally)
    assert set(counted) == ours and set(counted.values()) == {1}  # every event once, none twice
    lines = tally.read_text().splitlines()
    assert len({line.split()[0] for line in lines}) == 2 and all(handled)  # both workers took a share
    assert outbox.pending_count() == 0
    assert (OutboxDelivery.select().where((OutboxDelivery.plugin == "tally") & (OutboxDelivery.status == "done"))
            .count()) == 2000
