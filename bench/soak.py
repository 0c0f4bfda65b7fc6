"""The chaos soak: Workdesk as one system on PostgreSQL and Redis, under load and faults.

Starts its own PostgreSQL cluster (initdb/pg_ctl in a temporary folder) and its own redis-server on free
ports, an SMTP server and a webhook receiver on 127.0.0.1, two ``workdesk run --no-worker`` web
processes and three ``workdesk worker`` processes, with every first-party plugin enabled that can run
unattended (email and webhooks pointed at the local servers). For ``--seconds`` it drives a mixed load
at ``--concurrency`` across both web processes (create, update, comment, transition through the API),
with recurring rules falling due every minute and due dates passing, while it injects faults: SIGKILL
of a random worker every ``--kill-every`` seconds (restarted), one SIGKILL of a web process (restarted),
one restart of Redis and one fast restart of PostgreSQL. Then it lets the workers drain the outbox (for as long as the backlog keeps shrinking) and verifies:

- every write acknowledged to a client exists, and no task is half-written (each has its audit row);
- every outbox event was handled, once per plugin by its ledger, none given up;
- no recurring occurrence and no notification exists twice;
- every e-mail and webhook was received at least once and shows once in its delivery ledger;
- latency p50/p99, and the errors clients saw by kind during each fault (a request refused while the
  database restarts must be a 503 with Retry-After, never a 500).

    .venv/bin/python bench/soak.py                  # the full run: 600 s, figures for docs/performance.md
    .venv/bin/python bench/soak.py --seconds 60     # the short form (tests/test_soak.py runs it)

Exit status 0 when every check holds, 1 otherwise. ``--json FILE`` writes the figures.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import glob
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "soak-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(interval)
    return False


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the servers the soak owns ----------------------------------------------------------------------

def postgres_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else shutil.which(name)


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary folder (as the postgres account when run as root:
    PostgreSQL refuses to run as root)."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.data = folder / "pgdata"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(postgres_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                   "-c fsync=off -c full_page_writes=off")
        self._run(postgres_binary("pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.folder / "postgres.log"), "-o", options, *extra)

    def restart_fast(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg_ctl("stop", "-m", "immediate")


class PrivateRedis:
    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                                         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                         "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None, 20):
            raise RuntimeError("redis-server did not start")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Mailbox:
    """An SMTP server (aiosmtpd) keeping the notification id of every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.port, self.received = free_port(), collections.Counter()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                message = email.message_from_bytes(envelope.content)
                for rcpt in envelope.rcpt_tos:
                    outer.received[(message.get("X-Workdesk-Notification"), rcpt.lower())] += 1
                return "250 Message accepted"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()


class WebhookReceiver:
    """Answers 200 to every POST and keeps each ``X-Workdesk-Delivery`` it sees."""

    def __init__(self):
        self.port, self.received = free_port(), collections.Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received[self.headers.get("X-Workdesk-Delivery")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


# -- Workdesk's processes --------------------------------------------------------------------------

class Workdesk:
    def __init__(self, instance: Path, env: dict):
        self.instance, self.env = instance, env
        self.web_ports = [free_port(), free_port()]
        self.webs: list[subprocess.Popen | None] = [None, None]
        self.workers: list[subprocess.Popen | None] = [None, None, None]
        self.logs = instance / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def cli(self, *args: str, timeout: int = 300) -> str:
        done = subprocess.run([PYTHON, "-m", "workdesk.cli", "--instance", str(self.instance), *args], env=self.env,
                              cwd=str(ROOT), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"workdesk {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("a")
        return subprocess.Popen([PYTHON, "-m", "workdesk.cli", "--instance", str(self.instance), *args],
                                env=self.env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_web(self, index: int) -> None:
        self.webs[index] = self._spawn(["run", "--no-worker", "--port", str(self.web_ports[index]), "--workers", "2"],
                                       f"web{index}")
        if not wait_for(lambda: _get(self.web_ports[index], "/healthz")[0] == 200, 60):
            raise RuntimeError(f"web process {index} did not come up; see {self.logs}")

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(["worker", "--threads", "2"], f"worker{index}")

    def kill(self, process: subprocess.Popen | None) -> None:
        if process and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # gunicorn's master and its web processes alike
            process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in [*self.webs, *self.workers]:
            if process and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.webs, *self.workers]:
            if process:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.kill(process)


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- the load ------------------------------------------------------------------------------------

@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    outcomes: collections.Counter = field(default_factory=collections.Counter)  # (phase, kind) -> count
    created: dict[int, str] = field(default_factory=dict)  # acknowledged task id -> title
    comments: set[int] = field(default_factory=set)
    bad_503: int = 0  # a 503 without Retry-After
    drain: dict = field(default_factory=dict)  # how the outbox emptied after the load (wait_for_drain)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Load:
    def __init__(self, ports: list[int], token: str, department_id: int, assignee_id: int, figures: Figures,
                 phase: list[str]):
        self.ports, self.token, self.department_id, self.assignee_id = ports, token, department_id, assignee_id
        self.figures, self.phase, self.stop = figures, phase, threading.Event()

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None, dict]:
        port = random.choice(self.ports)
        started = time.perf_counter()
        kind = None
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                       "Accept": "application/json"}
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status, response_headers = response.status, dict(response.getheaders())
            connection.close()
        except (OSError, http.client.HTTPException) as exc:
            status, raw, response_headers, kind = 0, b"", {}, f"connection:{type(exc).__name__}"
        elapsed = time.perf_counter() - started
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if kind is None:
            kind = "ok" if status < 400 else (f"{status}:" + ((data or {}).get("error", {}).get("code", "?")
                                                              if isinstance(data, dict) else "not-json"))
        with self.figures.lock:
            self.figures.outcomes[(self.phase[0], kind)] += 1
            if status < 400 and status:
                self.figures.latencies.append(elapsed)
            if status == 503 and "Retry-After" not in response_headers:
                self.figures.bad_503 += 1
        return status, data, response_headers

    def run(self) -> None:
        mine: list[dict] = []
        while not self.stop.is_set():
            roll = random.random()
            if roll < 0.35 or not mine:
                title = f"Soak {random.getrandbits(48):012x}"
                due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + random.randint(30, 300)))
                status, data, _ = self.request("POST", "/api/v1/tasks", {
                    "title": title, "department_id": self.department_id, "assignee_id": self.assignee_id,
                    "due_at": due, "priority": random.choice(["low", "normal", "high"])})
                if status == 201 and data:
                    with self.figures.lock:
                        self.figures.created[data["id"]] = title
                    mine.append({"id": data["id"], "status": data["status"]})
            elif roll < 0.55:
                task = random.choice(mine)
                self.request("PATCH", f"/api/v1/tasks/{task['id']}", {"priority": random.choice(["low", "normal", "high"])})
            elif roll < 0.75:
                task = random.choice(mine)
                status, data, _ = self.request("POST", f"/api/v1/tasks/{task['id']}/comments",
                                               {"body": f"Checked at {time.time():.3f}"})
                if status == 201 and data:
                    with self.figures.lock:
                        self.figures.comments.add(data["id"])
            else:
                task = random.choice(mine)
                following = {"new": "open", "open": "in_progress", "in_progress": "resolved", "waiting": "in_progress",
                             "resolved": "closed", "closed": "open"}[task["status"]]
                status, data, _ = self.request("PATCH", f"/api/v1/tasks/{task['id']}", {"status": following})
                if status == 200 and data:
                    task["status"] = data["status"]
                elif status == 409:
                    status, data, _ = self.request("GET", f"/api/v1/tasks/{task['id']}")
                    if status == 200 and data:
                        task["status"] = data["status"]


# -- the soak ------------------------------------------------------------------------------------

def api(port: int, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = json.loads(response.read() or b"null")
    if response.status >= 400:
        raise RuntimeError(f"{method} {path}: {response.status} {data}")
    return data


def soak(seconds: int, concurrency: int, kill_every: float, folder: Path, drain_stall_seconds: float = 60.0) -> dict:
    import psycopg
    postgres, redis = PrivatePostgres(folder / "pg"), PrivateRedis(folder)
    mailbox, receiver = Mailbox(), WebhookReceiver()
    instance = folder / "instance"
    postgres.start()
    redis.start()
    mailbox.start()
    receiver.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update(PYTHONPATH=str(ROOT), WORKDESK_DATABASE_URL=postgres.url, WORKDESK_QUEUE_URL=redis.url,
               WORKDESK_OUTBOX_LEASE_SECONDS="10", WORKDESK_OUTBOX_POLL_SECONDS="0.5",
               WORKDESK_PLUGIN_REFRESH_SECONDS="1", WORKDESK_JOB_LEASE_SECONDS="30", WORKDESK_LOG_LEVEL="WARNING",
               WORKDESK_MAX_CONTENT_LENGTH="1048576")
    desk = Workdesk(instance, env)
    figures, phase = Figures(), ["warm-up"]
    loads: list[Load] = []
    threads: list[threading.Thread] = []
    try:
        desk.cli("init", "--admin-email", "admin@example.com", "--admin-password", PASSWORD)
        desk.start_web(0)
        port = desk.web_ports[0]
        admin = api(port, "POST", "/api/v1/auth/token", body={"email": "admin@example.com", "password": PASSWORD})["token"]
        department = api(port, "POST", "/api/v1/departments", admin, {"name": "Operations"})
        agent = api(port, "POST", "/api/v1/users", admin, {
            "email": "agent@example.com", "name": "Soak Agent", "password": PASSWORD, "role": "agent",
            "department_ids": [department["id"]]})
        # the load works as one agent and assigns the tasks to another: every assignment, comment and
        # status change notifies the assignee, by e-mail and webhook
        colleague = api(port, "POST", "/api/v1/users", admin, {
            "email": "colleague@example.com", "name": "Soak Colleague", "password": PASSWORD, "role": "agent",
            "department_ids": [department["id"]]})
        api(port, "PATCH", f"/api/v1/departments/{department['id']}", admin, {"head_id": agent["id"]})
        token = api(port, "POST", "/api/v1/auth/token", body={"email": "agent@example.com", "password": PASSWORD})["token"]
        enabled = enable_plugins(port, admin, mailbox, receiver)
        log(f"plugins enabled: {', '.join(enabled)}")
        time.sleep(2.5)  # every web process re-reads which plugins are on (plugin_refresh_seconds)
        if "escalation" in enabled:
            # Deadlines breaching under load: every task gets a two-minute resolution target (calendar
            # time), a warning at half of it, and a notice to the department head at the breach.
            api(port, "POST", "/api/v1/escalation/policies", admin, {
                "name": "Soak resolution", "time_mode": "calendar", "warn_percent": 50,
                "targets": [{"kind": "resolution", "hours": 2 / 60}],
                "levels": [{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}]})
        if "recurring" in enabled:
            for minute in range(5):
                api(port, "POST", "/api/v1/recurring/rules", admin, {
                    "title": f"Minute check {minute}", "department_id": department["id"], "timezone": "UTC",
                    # five rules, five minutes apart each, staggered: one falls due every minute
                    "dtstart": f"2026-01-01T00:0{minute}", "rrule": "FREQ=MINUTELY;INTERVAL=5", "catch_up": "latest",
                    "assign_mode": "fixed", "assignee_ids": [agent["id"]], "due_after_minutes": 1})
        desk.start_web(1)
        for index in range(3):
            desk.start_worker(index)

        loads = [Load(desk.web_ports, token, department["id"], colleague["id"], figures, phase)
                 for _ in range(concurrency)]
        threads = [threading.Thread(target=load.run, daemon=True) for load in loads]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        faults = {seconds * 0.25: "web", seconds * 0.45: "redis", seconds * 0.65: "postgres"}
        next_worker_kill = kill_every
        survived = collections.Counter()
        phase[0] = "steady"
        while (elapsed := time.monotonic() - started) < seconds:
            if elapsed >= next_worker_kill:
                index = random.randrange(3)
                phase[0] = "worker-kill"
                desk.kill(desk.workers[index])
                desk.start_worker(index)
                survived["worker SIGKILL"] += 1
                next_worker_kill += kill_every
                log(f"SIGKILL worker {index} (restarted)")
            for at, fault in list(faults.items()):
                if elapsed >= at:
                    del faults[at]
                    phase[0] = fault
                    log(f"fault: {fault}")
                    if fault == "web":
                        desk.kill(desk.webs[1])
                        time.sleep(2)
                        desk.start_web(1)
                        survived["web SIGKILL"] += 1
                    elif fault == "redis":
                        redis.restart()
                        survived["Redis restart"] += 1
                    else:
                        postgres.restart_fast()
                        survived["PostgreSQL fast restart"] += 1
                    time.sleep(3)
            if phase[0] != "steady" and not any(abs(elapsed - at) < 3 for at in faults):
                phase[0] = "steady"
            time.sleep(0.2)
        for load in loads:
            load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        log(f"load stopped after {time.monotonic() - started:.0f} s; draining")

        with psycopg.connect(postgres.url, autocommit=True) as conn:
            drain = wait_for_drain(conn, stalled_after=drain_stall_seconds)
            figures.drain = drain
            drained = drain["left"] == 0
            # deliveries retried with backoff after a fault: give them their next attempt
            wait_for(lambda: conn.execute("SELECT (SELECT count(*) FROM email_delivery WHERE status <> 'sent') + "
                                          "(SELECT count(*) FROM webhooks_delivery WHERE status <> 'sent')"
                                          ).fetchone()[0] == 0, 120, 1.0)
            checks = verify(conn, figures, mailbox, receiver, enabled)
        checks["outbox drained"] = drained
        return report(figures, checks, survived, seconds, concurrency)
    finally:
        for load in loads:
            load.stop.set()
        desk.stop_all()
        receiver.stop()
        mailbox.stop()
        redis.stop()
        postgres.stop()


def wait_for_drain(conn, stalled_after: float) -> dict:
    """Wait until the workers have handled every outbox event, for as long as they keep making progress.

    On a small machine the load outruns the workers (the web processes, the workers, PostgreSQL and
    the load itself share the cores), so a backlog at the end is capacity, not loss; the check is that
    every event is handled once the load stops. Waiting ends when none is left, or when the backlog has
    not shrunk for ``stalled_after`` seconds (a worker stuck or an event never finished: a failure).
    """
    pending = lambda: conn.execute("SELECT count(*) FROM core_outbox WHERE done_at IS NULL").fetchone()[0]  # noqa: E731
    started = time.monotonic()
    at_start = best = pending()
    progress_at = started
    while best and time.monotonic() - progress_at < stalled_after:
        time.sleep(1.0)
        with contextlib.suppress(Exception):
            now_pending = pending()
            if now_pending < best:
                best, progress_at = now_pending, time.monotonic()
    seconds = time.monotonic() - started
    handled = at_start - best
    log(f"outbox: {at_start} events waiting when the load stopped, {best} left after {seconds:.0f} s "
        f"({handled / seconds if seconds else 0:.0f} events/s)")
    return {"pending_when_load_stopped": at_start, "left": best, "seconds": round(seconds, 1),
            "events_per_second": round(handled / seconds, 1) if seconds else None}


def enable_plugins(port: int, admin: str, mailbox: Mailbox, receiver: WebhookReceiver) -> list[str]:
    """Every first-party plugin that can run unattended; email and webhooks at the local servers."""
    settings = {
        "email": {"host": "127.0.0.1", "port": mailbox.port, "from_address": "desk@example.com",
                  "timeout_seconds": 5, "retry_base_seconds": 1},
        "webhooks": {"endpoints": [{"name": "soak", "url": f"http://127.0.0.1:{receiver.port}/hook",
                                   "secret": "soak-secret-0123456789", "format": "raw"}],
                     "allow_private_destinations": True, "retry_base_seconds": 1},
    }
    enabled = []
    for plugin in api(port, "GET", "/api/v1/plugins", admin)["items"]:
        name = plugin["name"]
        if not plugin.get("usable") or name == "hello":  # the tutorial's example is not a product plugin
            continue
        body = {"enabled": True, **({"settings": settings[name]} if name in settings else {})}
        try:
            api(port, "PATCH", f"/api/v1/plugins/{name}", admin, body)
            enabled.append(name)
        except RuntimeError as exc:  # needs configuration an unattended run cannot give (a CRM's address)
            log(f"plugin {name} left off: {exc}")
    return enabled


def verify(conn, figures: Figures, mailbox: Mailbox, receiver: WebhookReceiver, enabled: list[str]) -> dict:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    checks: dict[str, object] = {}
    stored = {row[0] for row in conn.execute("SELECT id FROM core_task")}
    checks["acknowledged tasks lost"] = len(set(figures.created) - stored)
    stored_comments = {row[0] for row in conn.execute("SELECT id FROM core_comment")}
    checks["acknowledged comments lost"] = len(figures.comments - stored_comments)
    checks["tasks without their audit row"] = one(
        "SELECT count(*) FROM core_task t WHERE NOT EXISTS (SELECT 1 FROM core_task_event e "
        "WHERE e.task_id = t.id AND e.kind = 'created')")
    checks["events not handled"] = one("SELECT count(*) FROM core_outbox WHERE done_at IS NULL")
    checks["event handlings given up"] = one("SELECT count(*) FROM core_outbox_delivery WHERE status <> 'done'")
    checks["event handled twice by a plugin"] = one(
        "SELECT count(*) FROM (SELECT event_id, plugin FROM core_outbox_delivery GROUP BY event_id, plugin "
        "HAVING count(*) > 1) d")
    if "recurring" in enabled:
        checks["recurring occurrences twice"] = one(
            "SELECT count(*) FROM (SELECT rule_id, occurrence_at, member_id FROM recurring_occurrence "
            "GROUP BY rule_id, occurrence_at, member_id HAVING count(*) > 1) d")
        checks["recurring occurrences"] = one("SELECT count(*) FROM recurring_occurrence")
    if "escalation" in enabled:
        checks["escalation firings twice"] = one(
            "SELECT count(*) FROM (SELECT cycle_id, step FROM escalation_firing GROUP BY cycle_id, step "
            "HAVING count(*) > 1) d")
        checks["escalation notices twice"] = one(
            "SELECT count(*) FROM (SELECT firing_id, recipient_id FROM escalation_notice WHERE firing_id IS NOT NULL "
            "GROUP BY firing_id, recipient_id HAVING count(*) > 1) d")
        checks["escalation firings"] = one("SELECT count(*) FROM escalation_firing")
    checks["notifications twice"] = one(
        "SELECT count(*) FROM (SELECT recipient_id, dedupe_key FROM core_notification WHERE dedupe_key IS NOT NULL "
        "GROUP BY recipient_id, dedupe_key HAVING count(*) > 1) d")
    checks["notifications"] = one("SELECT count(*) FROM core_notification")
    if "email" in enabled:
        sent = conn.execute("SELECT notification_id, lower(destination) FROM email_delivery WHERE status = 'sent'").fetchall()
        checks["e-mails in the ledger"] = len(sent)
        checks["e-mails never received"] = sum(1 for n, to in sent if mailbox.received[(str(n), to)] == 0)
        checks["e-mail ledger rows twice"] = one(
            "SELECT count(*) FROM (SELECT notification_id, destination FROM email_delivery "
            "GROUP BY notification_id, destination HAVING count(*) > 1) d")
        checks["e-mails not sent"] = one("SELECT count(*) FROM email_delivery WHERE status <> 'sent'")
        checks["e-mails received more than once"] = sum(1 for count in mailbox.received.values() if count > 1)
    if "webhooks" in enabled:
        sent = conn.execute("SELECT notification_id, destination FROM webhooks_delivery WHERE status = 'sent'").fetchall()
        checks["webhooks in the ledger"] = len(sent)
        checks["webhooks never received"] = sum(1 for n, name in sent if receiver.received[f"{n}:{name}"] == 0)
        checks["webhook ledger rows twice"] = one(
            "SELECT count(*) FROM (SELECT notification_id, destination FROM webhooks_delivery "
            "GROUP BY notification_id, destination HAVING count(*) > 1) d")
        checks["webhooks not sent"] = one("SELECT count(*) FROM webhooks_delivery WHERE status <> 'sent'")
    return checks


# Figures that must be zero for the soak to pass.
MUST_BE_ZERO = ("acknowledged tasks lost", "acknowledged comments lost", "tasks without their audit row",
                "events not handled", "event handlings given up", "event handled twice by a plugin",
                "recurring occurrences twice", "escalation firings twice", "escalation notices twice",
                "notifications twice", "e-mails never received",
                "e-mail ledger rows twice", "e-mails not sent", "webhooks never received", "webhook ledger rows twice",
                "webhooks not sent", "500 answers", "503 without Retry-After")


def report(figures: Figures, checks: dict, survived: collections.Counter, seconds: int, concurrency: int) -> dict:
    latencies = sorted(figures.latencies)
    total = sum(figures.outcomes.values())
    errors = {f"{phase} {kind}": count for (phase, kind), count in sorted(figures.outcomes.items()) if kind != "ok"}
    checks["500 answers"] = sum(count for (phase, kind), count in figures.outcomes.items() if kind.startswith("500"))
    checks["503 without Retry-After"] = figures.bad_503
    result = {
        "seconds": seconds, "concurrency": concurrency, "requests": total,
        "requests_ok": sum(c for (p, k), c in figures.outcomes.items() if k == "ok"),
        "tasks_acknowledged": len(figures.created), "comments_acknowledged": len(figures.comments),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "faults_survived": dict(survived), "client_errors_by_phase": errors, "checks": checks,
        "outbox_drain": figures.drain,
    }
    result["passed"] = all(not checks.get(name) for name in MUST_BE_ZERO) and checks.get("outbox drained", False)
    print("\n== Chaos soak ==")
    print(f"{seconds} s at concurrency {concurrency}: {total} requests, {result['requests_ok']} ok, "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    print("faults survived: " + ", ".join(f"{name} ×{count}" for name, count in survived.items()))
    print("client errors by phase: " + (", ".join(f"{k}: {v}" for k, v in errors.items()) or "none"))
    if figures.drain:
        print(f"outbox after the load: {figures.drain['pending_when_load_stopped']} events waiting, all but "
              f"{figures.drain['left']} handled in {figures.drain['seconds']} s "
              f"({figures.drain['events_per_second']} events/s)")
    for name, value in checks.items():
        flag = "FAIL" if name in MUST_BE_ZERO and value else "    "
        print(f"  {flag} {name}: {value}")
    print("PASSED" if result["passed"] else "FAILED")
    return result


def missing_tools() -> str | None:
    if not postgres_binary("initdb") or not postgres_binary("pg_ctl"):
        return "PostgreSQL's initdb and pg_ctl (Debian: postgresql)"
    if not shutil.which("redis-server"):
        return "redis-server (Debian: redis-server)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "runuser (util-linux), to run PostgreSQL as the postgres account"
    return None


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--kill-every", type=float, default=None, help="seconds between worker SIGKILLs "
                        "(default 30; in runs under 120 s, a third of the run: one kill)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    parser.add_argument("--drain-stall", type=float, default=60.0, help="after the load, wait for the outbox "
                        "to empty for as long as it shrinks; fail when it has not shrunk for this many seconds")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"The soak needs {missing}.", file=sys.stderr)
        return 2
    # A SIGTERM (a CI timeout, an operator's kill) unwinds like Ctrl-C, so the servers the soak started stop too.
    signal.signal(signal.SIGTERM, _interrupt)
    kill_every = args.kill_every or (30.0 if args.seconds >= 120 else args.seconds / 3)
    with tempfile.TemporaryDirectory(prefix="workdesk-soak-") as folder:
        os.chmod(folder, 0o755)  # the postgres account reaches its data folder inside
        result = soak(args.seconds, args.concurrency, kill_every, Path(folder), args.drain_stall)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
