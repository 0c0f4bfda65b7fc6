"""Throughput and latency of the JSON API beside a minimal Flask + peewee + SQLite app.

Both apps run in their own process under waitress (the production WSGI server of `workdesk run`)
with the same thread count, on SQLite, with the same number of stored tasks, and are driven by the
same keep-alive HTTP client threads. For 1k, 10k and 100k stored tasks it prints requests/s and
p50/p95/p99 of: create a task, get a task, list a page of 50 (as an admin and as a department
agent), and the ratios Workdesk/minimal. Targets: create and get at >= 50 % of the minimal app's
throughput; a list page at 100k tasks within 1.3x of its cost at 1k.

    .venv/bin/python bench/bench_api.py [--sizes 1000,10000,100000] [--requests 2000] [--concurrency 8]

``--in-process`` measures instead what one request costs inside the app (Flask's test client, no
server, no network): CPU and wall time per create, get and list page (admin and agent), and with
``--before PYTHON`` the same for another checkout's interpreter in the same run (its own ``.venv``,
e.g. ``/work/main/.venv/bin/python``), side by side:

    .venv/bin/python bench/bench_api.py --in-process --sizes 1000,100000 --before ../main/.venv/bin/python
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREADS = 4

# The Workdesk side: the real app factory, the real schema, data filed as by the services.
WORKDESK_SERVER = textwrap.dedent("""
    import logging, sys, waitress
    from workdesk.app import create_app
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" notes are expected under load
    app = create_app({"instance_path": sys.argv[1], "secret_key": "bench-secret-key-0123456789",
                      "database_url": "sqlite:///" + sys.argv[1] + "/workdesk.db", "queue_url": "memory://",
                      "log_level": "WARNING"})
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=%d, _quiet=True)
""" % THREADS)

# The baseline: the least a Flask + peewee + SQLite app needs to create, get and page tasks.
MINIMAL_MODEL = textwrap.dedent("""
    import datetime as dt, sys
    from peewee import SqliteDatabase, Model, CharField, TextField, DateTimeField, IntegerField
    db = SqliteDatabase(sys.argv[1] + "/minimal.db", pragmas={"journal_mode": "wal", "synchronous": "normal",
                                                              "busy_timeout": 10000})
    class Task(Model):
        title = CharField(max_length=200)
        description = TextField(default="")
        status = CharField(default="new")
        department_id = IntegerField()
        created_at = DateTimeField()
        class Meta:
            database = db
""")
MINIMAL_SERVER = MINIMAL_MODEL + textwrap.dedent("""
    import logging, waitress
    from flask import Flask, request, abort
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = Flask("minimal")
    def row(t):
        return {"id": t.id, "title": t.title, "description": t.description, "status": t.status,
                "department_id": t.department_id, "created_at": t.created_at.isoformat()}
    @app.before_request
    def _open():
        db.connect(reuse_if_open=True)
    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
    @app.post("/tasks")
    def create():
        data = request.get_json()
        with db.atomic("IMMEDIATE"):
            t = Task.create(title=data["title"], department_id=data["department_id"],
                            created_at=dt.datetime.now(dt.timezone.utc))
        return row(t), 201
    @app.get("/tasks/<int:task_id>")
    def get(task_id):
        t = Task.get_or_none(Task.id == task_id)
        if t is None:
            abort(404)
        return row(t)
    @app.get("/tasks")
    def page():
        q = Task.select().order_by(Task.id.desc())
        if request.args.get("cursor"):
            q = q.where(Task.id < int(request.args["cursor"]))
        items = list(q.limit(51))
        return {"items": [row(t) for t in items[:50]], "next_cursor": items[49].id if len(items) > 50 else None}
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=%d, _quiet=True)
""" % THREADS)

SEED_WORKDESK = textwrap.dedent("""
    import sys, datetime as dt
    from workdesk.app import create_app
    from workdesk.schema import upgrade_all
    from workdesk.auth import issue_token
    from workdesk.models import Task, Sequence
    from workdesk.services.users import create_user, create_department
    from workdesk.db import db, utcnow
    n = int(sys.argv[2])
    app = create_app({"instance_path": sys.argv[1], "secret_key": "bench-secret-key-0123456789",
                      "database_url": "sqlite:///" + sys.argv[1] + "/workdesk.db", "queue_url": "memory://",
                      "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    depts = [create_department(None, name=f"Dept {i}") for i in range(10)]
    admin = create_user(None, email="admin@example.com", name="Admin", password="bench-password", role="admin")
    agent = create_user(None, email="agent@example.com", name="Agent", password="bench-password", role="agent",
                        department_ids=[depts[0].id])
    # Bulk rows shaped exactly like create_task's (the services would take minutes for 100k).
    now = utcnow()
    rows = [{"number": i + 1, "title": f"Task {i}", "description": "Seeded for the benchmark", "status": "open",
             "priority": "normal", "type": "task", "impact": "", "department": depts[i % 10].id, "reporter": admin.id,
             "fields": {}, "created_at": now - dt.timedelta(seconds=n - i), "updated_at": now, "version": 1}
            for i in range(n)]
    with db.atomic():
        for start in range(0, n, 5000):
            Task.insert_many(rows[start:start + 5000]).execute()
        Sequence.update(value=n).where(Sequence.name == "task").execute()
    print(issue_token(admin), issue_token(agent), depts[0].id)
""")

SEED_MINIMAL = MINIMAL_MODEL + textwrap.dedent("""
    n = int(sys.argv[2])
    db.connect()
    db.create_tables([Task])
    now = dt.datetime.now(dt.timezone.utc)
    rows = [{"title": f"Task {i}", "description": "Seeded for the benchmark", "status": "open",
             "department_id": i % 10 + 1, "created_at": now} for i in range(n)]
    with db.atomic():
        for start in range(0, n, 5000):
            Task.insert_many(rows[start:start + 5000]).execute()
""")


# One request at a time through the test client: what the app itself spends per request.
PER_REQUEST = textwrap.dedent("""
    import json, sys, time
    from workdesk.app import create_app
    app = create_app({"instance_path": sys.argv[1], "secret_key": "bench-secret-key-0123456789",
                      "database_url": "sqlite:///" + sys.argv[1] + "/workdesk.db", "queue_url": "memory://",
                      "log_level": "WARNING"})
    admin_token, agent_token, dept_id, size, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    client = app.test_client()
    admin = {"Authorization": "Bearer " + admin_token}
    agent = {"Authorization": "Bearer " + agent_token}
    operations = {
        "create": lambda i: client.post("/api/v1/tasks", json={"title": "Benchmark task", "department_id": dept_id},
                                        headers=admin),
        "get": lambda i: client.get("/api/v1/tasks/%d" % (i * 7919 % size + 1), headers=admin),
        "list": lambda i: client.get("/api/v1/tasks?limit=50", headers=admin),
        "list (agent)": lambda i: client.get("/api/v1/tasks?limit=50", headers=agent),
    }
    results = {}
    for name, call in operations.items():
        for i in range(20):  # warm up: connections, compiled queries, caches
            assert call(i).status_code in (200, 201)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(count):
            response = call(i)
            assert response.status_code in (200, 201), response.get_data(as_text=True)
        results[name] = {"cpu_ms": (time.process_time() - cpu) * 1000 / count,
                         "wall_ms": (time.perf_counter() - wall) * 1000 / count}
    print(json.dumps(results))
""")


def in_process(python: str, size: int, count: int) -> dict[str, dict[str, float]]:
    """Per-request CPU and wall milliseconds of the app run by ``python`` (its checkout's code)."""
    with tempfile.TemporaryDirectory() as folder:
        seeded = subprocess.run([python, "-c", SEED_WORKDESK, folder, str(size)], cwd=folder, check=True,
                                capture_output=True, text=True)
        admin_token, agent_token, dept_id = seeded.stdout.split()[-3:]
        measured = subprocess.run([python, "-c", PER_REQUEST, folder, admin_token, agent_token, dept_id, str(size),
                                   str(count)], cwd=folder, check=True, capture_output=True, text=True)
        return json.loads(measured.stdout.strip().splitlines()[-1])


def main_in_process(sizes: list[int], count: int, before: str | None) -> None:
    runs = [("before", before)] if before else []
    runs.append(("after" if before else "this checkout", sys.executable))
    print(f"in-process, Flask test client, SQLite, {count} requests per figure; ms per request")
    print(f"{'tasks':>7} {'operation':<14} " + " ".join(f"{label + ' cpu':>16} {label + ' wall':>16}"
                                                     for label, _python in runs))
    for size in sizes:
        figures = [in_process(python, size, count) for _label, python in runs]
        for operation in figures[0]:
            print(f"{size:>7} {operation:<14} " + " ".join(
                f"{f[operation]['cpu_ms']:>16.2f} {f[operation]['wall_ms']:>16.2f}" for f in figures), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def drive(port: int, make_request, total: int, concurrency: int) -> dict[str, float]:
    """Send ``total`` requests over ``concurrency`` keep-alive connections; latency and throughput."""
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()
    per_thread = total // concurrency

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per_thread):
            method, path, body, headers, expected = make_request(rng)
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != expected:
                failures.append((method, path, response.status))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} unexpected answers, e.g. {failures[:3]}")
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": quantiles[49] * 1000, "p95": quantiles[94] * 1000,
            "p99": quantiles[98] * 1000}


def start(script: str, folder: str, port: int) -> subprocess.Popen:
    path = Path(folder) / "server.py"
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path), folder, str(port)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    wait_for(port)
    return proc


def bench_size(size: int, total: int, concurrency: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        seeded = subprocess.run([sys.executable, "-c", SEED_WORKDESK, folder, str(size)], cwd=ROOT, check=True,
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        admin_token, agent_token, dept_id = seeded.stdout.split()[-3:]
        port = free_port()
        server = start(WORKDESK_SERVER, folder, port)
        try:
            admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
            agent = {"Authorization": f"Bearer {agent_token}"}
            body = json.dumps({"title": "Benchmark task", "department_id": int(dept_id)})
            results["workdesk get"] = drive(port, lambda r: ("GET", f"/api/v1/tasks/{r.randint(1, size)}", None, admin, 200),
                                            total, concurrency)
            results["workdesk list"] = drive(port, lambda r: ("GET", "/api/v1/tasks?limit=50", None, admin, 200),
                                             total, concurrency)
            results["workdesk list (agent)"] = drive(port, lambda r: ("GET", "/api/v1/tasks?limit=50", None, agent, 200),
                                                     total, concurrency)
            results["workdesk create"] = drive(port, lambda r: ("POST", "/api/v1/tasks", body, admin, 201),
                                               total // 2, concurrency)
        finally:
            server.terminate()
            server.wait()
        subprocess.run([sys.executable, "-c", SEED_MINIMAL, folder, str(size)], cwd=ROOT, check=True)
        port = free_port()
        server = start(MINIMAL_SERVER, folder, port)
        try:
            headers = {"Content-Type": "application/json"}
            body = json.dumps({"title": "Benchmark task", "department_id": 1})
            results["minimal get"] = drive(port, lambda r: ("GET", f"/tasks/{r.randint(1, size)}", None, headers, 200),
                                           total, concurrency)
            results["minimal list"] = drive(port, lambda r: ("GET", "/tasks", None, headers, 200), total, concurrency)
            results["minimal create"] = drive(port, lambda r: ("POST", "/tasks", body, headers, 201),
                                              total // 2, concurrency)
        finally:
            server.terminate()
            server.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--in-process", action="store_true", help="per-request cost through the test client")
    parser.add_argument("--before", help="with --in-process: another checkout's Python to compare with")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.in_process:
        main_in_process(sizes, min(args.requests, 500), args.before)
        return
    print(f"waitress, {THREADS} threads per app, {args.concurrency} client connections, SQLite, "
          f"{args.requests} requests per read figure ({args.requests // 2} creates)")
    print(f"{'tasks':>7} {'operation':<24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    all_results = {}
    for size in sizes:
        results = bench_size(size, args.requests, args.concurrency)
        all_results[size] = results
        for name, figures in results.items():
            print(f"{size:>7} {name:<24} {figures['rps']:>8.0f} {figures['p50']:>8.2f} {figures['p95']:>8.2f} "
                  f"{figures['p99']:>8.2f}", flush=True)
        for operation in ("create", "get", "list"):
            ratio = results[f"workdesk {operation}"]["rps"] / results[f"minimal {operation}"]["rps"]
            print(f"{size:>7} ratio workdesk/minimal {operation:<7} {ratio:>6.0%}  (target for create/get: >= 50%)")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        for name in ("workdesk list", "workdesk list (agent)"):
            cost = all_results[last][name]["p50"] / all_results[first][name]["p50"]
            print(f"{name}: p50 at {last} tasks is {cost:.2f}x its p50 at {first} (target <= 1.3x)")


if __name__ == "__main__":
    main()
