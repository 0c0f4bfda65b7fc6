"""The real ``workdesk run`` beside the floor app, side by side in one run, driven by an external client.

Workdesk side: the command users start, ``workdesk run --workers N`` (gunicorn master, N sync web
processes forked after the app was loaded, and its supervised background worker), on an instance
folder made by ``workdesk init``, SQLite. Floor side: a bare Flask + peewee + SQLite app with bearer
token authentication (a token hash looked up per request, joined to its user) under gunicorn with the
same number of sync workers. Both are seeded with the same number of tasks and stay up together; each
operation is measured on Workdesk and then at once on the floor, so load on the machine hits both alike.

The load generator is a separate process (keep-alive ``http.client`` connections in threads; gunicorn's
sync workers close each connection, so it reconnects as any client would), pinned to one core when
there are two or more, and sends its figures back over a pipe as JSON. For each operation it prints
requests/s, p50/p95/p99 latency, the server's CPU per request (utime + stime of the server's whole
process tree from /proc, before and after, divided by requests; Workdesk's tree includes its
background worker, which handles the outbox events that creates write, and "bg ms" is that worker's
part) and the client's own CPU share (near 100 % means the client, not the server, was the limit).
Then the ratios Workdesk/floor against issue 12's targets: get >= 90 %, list >= 60 %, create >= 50 %.

    .venv/bin/python bench/bench_server.py [--sizes 1000,100000] [--requests 1000] [--concurrency 8] \\
        [--workers 2] [--threads 1] [--operations get,list,search,create,mixed] [--json results.json]

Operations: create a task; get a task; a page of 50 as an admin; the same page as an agent of one
department out of ten; search ``q`` for a rare word (one task in 1,000) and a common word (every task)
on Workdesk only (the floor has no search); a mixed load (20 % create, 30 % list, 50 % get) at
concurrency 16.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-0123"
RARE_WORD, COMMON_WORD = "zeppelin", "printer"
MIXED_CONCURRENCY = 16
TARGETS = {"get": 0.90, "list": 0.60, "list (agent)": 0.60, "create": 0.50}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Seeds the instance made by `workdesk init`: ten departments, an agent of the first, API tokens, and
# tasks as bench_api.py files them (multi-row inserts shaped like create_task's rows; the search
# index's triggers fill the FTS table). Going through create_tasks would also write 100k outbox events,
# which the background worker would then drain during the measurements.
SEED_WORKDESK = textwrap.dedent("""
    import sys, datetime as dt
    from workdesk.app import create_app
    from workdesk.auth import issue_token
    from workdesk.models import Task, Sequence, User
    from workdesk.services.users import create_user, create_department
    from workdesk.db import db, utcnow
    folder, n, email, rare, common = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    app = create_app({"instance_path": folder})
    depts = [create_department(None, name=f"Dept {i}") for i in range(10)]
    admin = User.get(User.email == email)
    agent = create_user(None, email="agent@example.com", name="Agent", password="bench-password-0123",
                        role="agent", department_ids=[depts[0].id])
    now = utcnow()
    rows = [{"number": i + 1, "title": f"Task {i}",
             "description": f"The {common} on floor {i % 7} " + (rare if i % 1000 == 500 else "jams"),
             "status": "open", "priority": "normal", "type": "task", "impact": "", "department": depts[i % 10].id,
             "reporter": admin.id, "fields": {}, "created_at": now - dt.timedelta(seconds=n - i),
             "updated_at": now, "version": 1}
            for i in range(n)]
    with db.atomic():
        for start in range(0, n, 5000):
            Task.insert_many(rows[start:start + 5000]).execute()
        Sequence.update(value=n).where(Sequence.name == "task").execute()
    print(issue_token(admin), issue_token(agent), depts[0].id)
""")

FLOOR_MODEL = textwrap.dedent("""
    import datetime as dt, hashlib, os
    from peewee import (SqliteDatabase, Model, CharField, TextField, DateTimeField, IntegerField,
                        ForeignKeyField)
    db = SqliteDatabase(os.environ["FLOOR_DB"], pragmas={"journal_mode": "wal", "synchronous": "normal",
                                                         "busy_timeout": 10000})
    class Base(Model):
        class Meta:
            database = db
    class User(Base):
        role = CharField()
        department_id = IntegerField(null=True)
    class Token(Base):
        token_hash = CharField(unique=True)
        user = ForeignKeyField(User)
    class Task(Base):
        title = CharField(max_length=200)
        description = TextField(default="")
        status = CharField(default="new")
        department_id = IntegerField()
        created_at = DateTimeField()
        class Meta:
            indexes = ((("department_id", "id"), False),)
    def token_hash(token):
        return hashlib.sha256(token.encode()).hexdigest()
""")

# The floor: the least a Flask + peewee + SQLite app needs to create, get and page tasks for a caller
# identified by a bearer token. One connection per process, kept open (as Workdesk keeps one per thread).
FLOOR_APP = FLOOR_MODEL + textwrap.dedent("""
    from flask import Flask, request, abort, g
    app = Flask("floor")
    def row(t):
        return {"id": t.id, "title": t.title, "description": t.description, "status": t.status,
                "department_id": t.department_id, "created_at": t.created_at.isoformat()}
    @app.before_request
    def _authenticate():
        db.connect(reuse_if_open=True)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401)
        g.user = User.select().join(Token).where(Token.token_hash == token_hash(header[7:])).get_or_none()
        if g.user is None:
            abort(401)
    def visible(query):
        return query if g.user.role == "admin" else query.where(Task.department_id == g.user.department_id)
    @app.post("/tasks")
    def create():
        data = request.get_json()
        if g.user.role != "admin" and data["department_id"] != g.user.department_id:
            abort(403)
        with db.atomic("IMMEDIATE"):
            t = Task.create(title=data["title"], department_id=data["department_id"],
                            created_at=dt.datetime.now(dt.timezone.utc))
        return row(t), 201
    @app.get("/tasks/<int:task_id>")
    def get(task_id):
        t = visible(Task.select().where(Task.id == task_id)).get_or_none()
        if t is None:
            abort(404)
        return row(t)
    @app.get("/tasks")
    def page():
        q = visible(Task.select()).order_by(Task.id.desc())
        if request.args.get("cursor"):
            q = q.where(Task.id < int(request.args["cursor"]))
        items = list(q.limit(51))
        return {"items": [row(t) for t in items[:50]], "next_cursor": items[49].id if len(items) > 50 else None}
""")

SEED_FLOOR = FLOOR_MODEL + textwrap.dedent("""
    import sys
    n = int(sys.argv[1])
    db.connect()
    db.create_tables([User, Token, Task])
    admin = User.create(role="admin")
    agent = User.create(role="agent", department_id=1)
    Token.create(token_hash=token_hash("floor-admin-token"), user=admin)
    Token.create(token_hash=token_hash("floor-agent-token"), user=agent)
    now = dt.datetime.now(dt.timezone.utc)
    rows = [{"title": f"Task {i}", "description": "Seeded for the benchmark", "status": "open",
             "department_id": i % 10 + 1, "created_at": now} for i in range(n)]
    with db.atomic():
        for start in range(0, n, 5000):
            Task.insert_many(rows[start:start + 5000]).execute()
""")

# The load generator, in its own process: reads a plan (JSON) on stdin, warms up, says "ready", waits
# for "go", then prints its figures as one JSON line.
CLIENT = textwrap.dedent("""
    import http.client, json, os, random, statistics, sys, threading, time
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[-1]})  # before any thread starts: the threads inherit it
    plan = json.loads(sys.stdin.readline())
    port, total, concurrency, mix = plan["port"], plan["total"], plan["concurrency"], plan["mix"]
    weights = [m["weight"] for m in mix]
    def one(conn, rng, latencies, failures):
        m = rng.choices(mix, weights)[0]
        path = m["path"].replace("{id}", str(rng.randint(1, plan["max_id"])))
        started = time.perf_counter()
        conn.request(m["method"], path, body=m.get("body"), headers=m["headers"])
        response = conn.getresponse()
        response.read()
        if response.will_close:
            conn.close()  # the next request reconnects (gunicorn's sync workers close every connection)
        if latencies is not None:
            latencies.append(time.perf_counter() - started)
        if response.status != m["expected"]:
            failures.append((m["method"], path, response.status))
    barrier = threading.Barrier(concurrency + 1)
    results, failures = [], []
    def worker(seed, count):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(3):
            one(conn, rng, None, failures)
        barrier.wait()
        barrier.wait()
        mine = []
        for _ in range(count):
            one(conn, rng, mine, failures)
        conn.close()
        results.append(mine)
    counts = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(i, counts[i])) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu = time.process_time()
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    latencies = sorted(x for mine in results for x in mine)
    q = statistics.quantiles(latencies, n=100)
    print(json.dumps({"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
                      "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000,
                      "client_cpu": cpu / elapsed, "failures": len(failures), "failed": failures[:3]}), flush=True)
""")


class Processes:
    """Every process this bench starts, each in its own session (process group), so that each is stopped
    with all of its children on any exit: SIGTERM to the group, then SIGKILL after a grace period."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, command: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 15) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # what is left of the group (a child that outlived its leader) goes too
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc)


PROCESSES = Processes()


def tree_cpu_seconds(root: int) -> tuple[float, float]:
    """utime + stime of ``root`` and all its descendants as the kernel reports them now, and the part of it
    spent by a ``workdesk worker`` process (the background worker of ``workdesk run``) and its children."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total = worker = 0
    frontier = [(root, False)]
    while frontier:
        pid, in_worker = frontier.pop()
        if not in_worker:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                in_worker = b"workdesk.cli" in args and b"worker" in args
            except OSError:
                pass
        total += ticks.get(pid, 0)
        worker += ticks.get(pid, 0) if in_worker else 0
        frontier.extend((child, in_worker) for child in children.get(pid, ()))
    return total / CLOCK_TICKS, worker / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(proc: subprocess.Popen, port: int, path: str, headers: dict[str, str], log: Path,
               timeout: float = 120) -> None:
    """Until ``path`` answers 200 (the web processes are up, not only the master's socket)."""
    import http.client
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout} s:\n{log.read_text()[-3000:]}")


def settle(server: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the server's background worker is idle (its start-up and first periodic jobs done), so that
    its start-up is not counted in the first figure: less than 20 ms of its CPU in a second."""
    deadline = time.monotonic() + timeout
    previous = tree_cpu_seconds(server.pid)[1]
    while time.monotonic() < deadline:
        time.sleep(1)
        now = tree_cpu_seconds(server.pid)[1]
        if now - previous < 0.02:
            return
        previous = now


def measure(server: subprocess.Popen, port: int, mix: list[dict], total: int, concurrency: int,
            max_id: int) -> dict[str, float]:
    """One operation against one server: the client's figures plus the server tree's CPU per request."""
    client = PROCESSES.start([sys.executable, "-c", CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        client.stdin.write(json.dumps({"port": port, "total": total, "concurrency": concurrency, "mix": mix,
                                       "max_id": max_id}) + "\n")
        client.stdin.flush()
        if client.stdout.readline().strip() != "ready":
            raise RuntimeError("the load generator failed during warm-up")
        before = tree_cpu_seconds(server.pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        line = client.stdout.readline()
        after = tree_cpu_seconds(server.pid)
    finally:
        PROCESSES.stop(client, grace=5)
    if not line:
        raise RuntimeError("the load generator died")
    figures = json.loads(line)
    if figures.pop("failures"):
        raise RuntimeError(f"unexpected answers, e.g. {figures['failed']}")
    figures.pop("failed")
    figures["cpu_ms"] = (after[0] - before[0]) * 1000 / figures["requests"]
    figures["worker_cpu_ms"] = (after[1] - before[1]) * 1000 / figures["requests"]
    return figures


def bench_size(size: int, total: int, concurrency: int, workers: int, folder: Path,
               operations: set[str] | None = None, threads: int = 1) -> dict[str, dict]:
    # WORKDESK_* in the caller's environment would override the instance's settings (another database, say).
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}, "PYTHONPATH": str(ROOT)}
    instance = folder / "instance"
    # The instance as a user makes it: `workdesk init` writes workdesk.toml (random secret key, SQLite in
    # the folder, the queue in queue.db) and creates the schema and the admin.
    subprocess.run([sys.executable, "-m", "workdesk.cli", "--instance", str(instance), "init", "--admin-email",
                    ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD], check=True, cwd=folder, env=env,
                   stdout=subprocess.DEVNULL)
    seeded = subprocess.run([sys.executable, "-c", SEED_WORKDESK, str(instance), str(size), ADMIN_EMAIL, RARE_WORD,
                             COMMON_WORD], check=True, cwd=folder, env=env, capture_output=True, text=True)
    admin_token, agent_token, dept_id = seeded.stdout.split()[-3:]
    floor_env = {**env, "FLOOR_DB": str(folder / "floor.db")}
    subprocess.run([sys.executable, "-c", SEED_FLOOR, str(size)], check=True, cwd=folder, env=floor_env)
    (folder / "floor.py").write_text(FLOOR_APP)

    wd_port, floor_port = free_port(), free_port()
    wd_log, floor_log = (folder / "workdesk-run.log").open("w"), (folder / "floor.log").open("w")
    workdesk = PROCESSES.start([sys.executable, "-m", "workdesk.cli", "--instance", str(instance), "run", "--port",
                                str(wd_port), "--workers", str(workers), "--threads", str(threads)],
                               cwd=folder, env=env, stdout=wd_log, stderr=subprocess.STDOUT)
    floor = PROCESSES.start([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
                             "--worker-class", "gthread" if threads > 1 else "sync",
                             "--bind", f"127.0.0.1:{floor_port}", "--chdir", str(folder), "--log-level", "warning",
                             "floor:app"], cwd=folder, env=floor_env, stdout=floor_log, stderr=subprocess.STDOUT)
    try:
        wd_admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        wd_agent = {"Authorization": f"Bearer {agent_token}"}
        fl_admin = {"Authorization": "Bearer floor-admin-token", "Content-Type": "application/json"}
        fl_agent = {"Authorization": "Bearer floor-agent-token"}
        wait_ready(workdesk, wd_port, "/api/v1/tasks/1", wd_admin, Path(wd_log.name))
        wait_ready(floor, floor_port, "/tasks/1", fl_admin, Path(floor_log.name))
        settle(workdesk)
        wd_body = json.dumps({"title": "Benchmark task", "department_id": int(dept_id)})
        fl_body = json.dumps({"title": "Benchmark task", "department_id": 1})

        def op(method, path, headers, expected, body=None, weight=1):
            return {"method": method, "path": path, "headers": headers, "expected": expected, "body": body,
                    "weight": weight}
        wd = {"get": [op("GET", "/api/v1/tasks/{id}", wd_admin, 200)],
              "list": [op("GET", "/api/v1/tasks?limit=50", wd_admin, 200)],
              "list (agent)": [op("GET", "/api/v1/tasks?limit=50", wd_agent, 200)],
              f"search '{RARE_WORD}' (rare)": [op("GET", f"/api/v1/tasks?limit=50&q={RARE_WORD}", wd_admin, 200)],
              f"search '{COMMON_WORD}' (common)": [op("GET", f"/api/v1/tasks?limit=50&q={COMMON_WORD}", wd_admin,
                                                      200)],
              "create": [op("POST", "/api/v1/tasks", wd_admin, 201, wd_body)],
              "mixed": [op("POST", "/api/v1/tasks", wd_admin, 201, wd_body, 20),
                        op("GET", "/api/v1/tasks?limit=50", wd_admin, 200, None, 30),
                        op("GET", "/api/v1/tasks/{id}", wd_admin, 200, None, 50)]}
        fl = {"get": [op("GET", "/tasks/{id}", fl_admin, 200)],
              "list": [op("GET", "/tasks", fl_admin, 200)],
              "list (agent)": [op("GET", "/tasks", fl_agent, 200)],
              "create": [op("POST", "/tasks", fl_admin, 201, fl_body)],
              "mixed": [op("POST", "/tasks", fl_admin, 201, fl_body, 20),
                        op("GET", "/tasks", fl_admin, 200, None, 30),
                        op("GET", "/tasks/{id}", fl_admin, 200, None, 50)]}
        results: dict[str, dict] = {}
        for name, mix in wd.items():
            if operations and name.split(" ")[0] not in operations:
                continue
            clients = MIXED_CONCURRENCY if name == "mixed" else concurrency
            load = [os.getloadavg()[0]]
            results[name] = {"workdesk": measure(workdesk, wd_port, mix, total, clients, size)}
            if name in fl:
                results[name]["floor"] = measure(floor, floor_port, fl[name], total, clients, size)
            load.append(os.getloadavg()[0])
            results[name]["load_average"] = max(load)
            results[name]["concurrency"] = clients
            print_operation(size, name, results[name])
    finally:
        PROCESSES.stop(workdesk)
        PROCESSES.stop(floor)
        wd_log.close()
        floor_log.close()
    return results


def print_operation(size: int, name: str, result: dict) -> None:
    for side in ("workdesk", "floor"):
        if side in result:
            f = result[side]
            print(f"{size:>7} {name:<26} {side:<9} {f['rps']:>7.0f} {f['p50']:>8.1f} {f['p95']:>8.1f} "
                  f"{f['p99']:>8.1f} {f['cpu_ms']:>10.2f} {f['worker_cpu_ms']:>7.2f} {f['client_cpu']:>7.0%} "
                  f"{result['load_average']:>6.1f}", flush=True)


def print_ratios(all_results: dict[int, dict]) -> list[dict]:
    print("\nWorkdesk / floor, requests/s in the same run (and server CPU per request, floor / Workdesk)")
    print(f"{'tasks':>7} {'operation':<14} {'req/s ratio':>11} {'CPU ratio':>10} {'target':>7}  verdict")
    rows = []
    for size, results in all_results.items():
        for name, result in results.items():
            if "floor" not in result:
                continue
            rps = result["workdesk"]["rps"] / result["floor"]["rps"]
            cpu = result["floor"]["cpu_ms"] / result["workdesk"]["cpu_ms"] if result["workdesk"]["cpu_ms"] else 0
            target = TARGETS.get(name)
            verdict = "" if target is None else ("meets" if rps >= target else "below")
            print(f"{size:>7} {name:<14} {rps:>11.1%} {cpu:>10.1%} {'' if target is None else f'{target:.0%}':>7}  "
                  f"{verdict}")
            rows.append({"tasks": size, "operation": name, "rps_ratio": rps, "cpu_ratio": cpu, "target": target,
                         "meets": None if target is None else rps >= target})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="stored tasks, comma-separated")
    parser.add_argument("--requests", type=int, default=1000, help="requests per figure")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections (the mixed load: 16)")
    parser.add_argument("--workers", type=int, default=2, help="web processes of each server")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--operations", help="only these, comma-separated: get, list, search, create, mixed")
    parser.add_argument("--threads", type=int, default=1, help="threads per web process of each server (gthread)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < 1 or args.workers < 1 or args.concurrency < 1:
        parser.error("--sizes, --workers and --concurrency take numbers from 1 up")
    if args.requests < 2 * max(args.concurrency, MIXED_CONCURRENCY):
        parser.error(f"--requests must be at least {2 * max(args.concurrency, MIXED_CONCURRENCY)}: two per "
                     "connection, for the percentiles")
    # SIGTERM (and SIGHUP) unwind like Ctrl-C, through the `finally` that stops every process started here.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    cpus = len(os.sched_getaffinity(0))
    print(f"`workdesk run --workers {args.workers}` (gunicorn sync + background worker) beside the floor (Flask + "
          f"peewee + token auth, gunicorn, {args.workers} sync workers), SQLite WAL; client: one process"
          f"{', pinned to one core' if cpus >= 2 else ''}, {args.concurrency} connections "
          f"({MIXED_CONCURRENCY} for the mixed load), {args.requests} requests per figure; {cpus} cores; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'tasks':>7} {'operation':<26} {'server':<9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'CPU ms/req':>10} {'(bg ms)':>7} {'client':>7} {'load':>6}")
    all_results: dict[int, dict] = {}
    try:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
                all_results[size] = bench_size(size, args.requests, args.concurrency, args.workers, Path(folder),
                                                set(args.operations.split(",")) if args.operations else None,
                                                args.threads)
    finally:
        PROCESSES.stop_all()
    ratios = print_ratios(all_results)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"settings": {**vars(args), "cores": cpus, "mixed_concurrency": MIXED_CONCURRENCY},
             "results": {str(size): results for size, results in all_results.items()}, "ratios": ratios},
            indent=2))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # every process was stopped on the way out (main's `finally`)
        print("interrupted", file=sys.stderr)
        sys.exit(130)
