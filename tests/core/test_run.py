"""`workdesk run` serves pages with a worker beside it, and stops both cleanly."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def test_run_serves_pages_and_its_worker_processes_events(cli_instance):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "workdesk.cli", "run", "--port", str(port)],
                              env=cli_instance.env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "workdesk run did not start"
                time.sleep(0.1)
        assert status == 200 and '"ok"' in body
        status, body = get(f"http://127.0.0.1:{port}/login")
        assert status == 200 and 'name="csrf_token"' in body
        import sqlite3
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker beside the server beats its heart
            with sqlite3.connect(cli_instance.instance / "workdesk.db") as conn:
                if conn.execute("SELECT count(*) FROM core_worker_heartbeat").fetchone()[0]:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("no worker heartbeat")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert f"Workdesk on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output


# -- the worker child is supervised: restarted when it dies, and never outlives the server -----------------

def children(pid: int) -> list[int]:
    """Live child processes of ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.append(int(entry))
    return found


def is_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {predicate}")


def start_run(cli_instance, log_path: Path, *options: str) -> subprocess.Popen:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "workdesk.cli", "run", "--port", str(port), *options],
                              env=cli_instance.env, cwd=str(ROOT), stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz") or server.poll() is not None)
    assert server.poll() is None, log_path.read_text()
    server.port = port
    return server


def is_background_worker(pid: int) -> bool:
    """The supervised worker child, told from the web workers (forks of the master too) by its name."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "workdesk-worker"
    except OSError:
        return False


def background_workers(pid: int) -> list[int]:
    return [child for child in children(pid) if is_background_worker(child)]


def web_workers(pid: int) -> list[int]:
    return [child for child in children(pid) if not is_background_worker(child)]


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


def heartbeat_pids(instance: Path) -> set[int]:
    with sqlite3.connect(instance / "workdesk.db") as conn:
        return {pid for (pid,) in conn.execute("SELECT pid FROM core_worker_heartbeat")}


def test_a_killed_worker_is_restarted_and_handles_events_again(cli_instance, tmp_path):
    log_path = tmp_path / "run.log"
    server = start_run(cli_instance, log_path)
    try:
        (first,) = wait_for(lambda: background_workers(server.pid))
        wait_for(lambda: first in heartbeat_pids(cli_instance.instance))
        os.kill(first, signal.SIGKILL)
        (second,) = wait_for(lambda: [pid for pid in background_workers(server.pid) if pid != first])
        assert background_workers(server.pid) == [second]  # never two workers
        wait_for(lambda: second in heartbeat_pids(cli_instance.instance))
        script = ("from workdesk.app import init_runtime; from workdesk.config import load_settings;"
                  "from workdesk.services import tasks, users; init_runtime(load_settings());"
                  "d = users.create_department(None, name='Ops');"
                  "print(tasks.create_task(None, title='after the restart', department_id=d.id).id)")
        subprocess.run([sys.executable, "-c", script], env=cli_instance.env, cwd=str(ROOT), check=True, timeout=60,
                       capture_output=True)

        def handled() -> bool:
            with sqlite3.connect(cli_instance.instance / "workdesk.db") as conn:
                return conn.execute("SELECT count(*) FROM core_outbox WHERE kind = 'task.created' "
                                    "AND done_at IS NOT NULL").fetchone()[0] == 1
        wait_for(handled)
        assert background_workers(server.pid) == [second]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    output = log_path.read_text()
    assert f"the worker (pid {first}) was killed by signal SIGKILL; restarting it in 1 s" in output
    assert "Traceback" not in output
    assert not is_running(second)  # stopped with the server


def test_nothing_outlives_the_server_even_on_sigkill(cli_instance, tmp_path):
    server = start_run(cli_instance, tmp_path / "run.log", "--workers", "2")
    (worker,) = wait_for(lambda: background_workers(server.pid))
    webs = wait_for(lambda: len(web_workers(server.pid)) == 2 and web_workers(server.pid))
    wait_for(lambda: worker in heartbeat_pids(cli_instance.instance))
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    try:
        wait_for(lambda: not any(is_running(pid) for pid in [worker, *webs]), timeout=5)
    finally:
        for pid in [worker, *webs]:
            if is_running(pid):  # an orphan: do not leave it behind the test
                os.kill(pid, signal.SIGKILL)


def server_side_owner(client: socket.socket, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server end of ``client``'s TCP connection (from /proc/net/tcp and fds)."""
    client_port = client.getsockname()[1]
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == client_port and fields[9] != "0":  # rem_address is the client
            inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


def test_every_web_process_serves(cli_instance, tmp_path):
    server = start_run(cli_instance, tmp_path / "run.log", "--workers", "2")
    try:
        webs = wait_for(lambda: len(web_workers(server.pid)) == 2 and web_workers(server.pid))
        assert len(background_workers(server.pid)) == 1  # one background worker, started by the master
        # A sync web process serves one connection at a time: while the first request is still being sent, the
        # second one can only be taken by the other process.
        first, second = socket.create_connection(("127.0.0.1", server.port)), None
        try:
            first.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            first_pid = wait_for(lambda: server_side_owner(first, webs))
            second = socket.create_connection(("127.0.0.1", server.port))
            second.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            second_pid = wait_for(lambda: server_side_owner(second, webs))
            assert {first_pid, second_pid} == set(webs)
            for conn in (second, first):
                conn.sendall(b"Connection: close\r\n\r\n")
                conn.settimeout(10)
                response = b""
                while chunk := conn.recv(65536):
                    response += chunk
                assert response.startswith(b"HTTP/1.1 200") and b'"ok"' in response
        finally:
            first.close()
            if second is not None:
                second.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_sigterm_stops_web_processes_and_worker_gracefully(cli_instance, tmp_path):
    log_path = tmp_path / "run.log"
    server = start_run(cli_instance, log_path, "--workers", "2")
    (worker,) = wait_for(lambda: background_workers(server.pid))
    webs = wait_for(lambda: len(web_workers(server.pid)) == 2 and web_workers(server.pid))
    wait_for(lambda: worker in heartbeat_pids(cli_instance.instance))
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    assert not any(is_running(pid) for pid in [worker, *webs])
    output = log_path.read_text()
    assert "Traceback" not in output and "2 web processes" in output


def test_the_worker_stops_when_the_pipe_from_its_parent_closes(cli_instance):
    # The portable half of dying with the parent: no prctl here, only the pipe the parent holds.
    read_fd, write_fd = os.pipe()
    worker = subprocess.Popen([sys.executable, "-m", "workdesk.cli", "worker", "--parent-fd", str(read_fd)],
                              env=cli_instance.env, cwd=str(ROOT), pass_fds=(read_fd,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    os.close(read_fd)
    try:
        wait_for(lambda: worker.pid in heartbeat_pids(cli_instance.instance))
        assert worker.poll() is None
        os.close(write_fd)  # what the kernel does when the parent dies, however it died
        assert worker.wait(timeout=10) is not None
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "the parent process is gone: the worker stops" in worker.stderr.read()
    closed = cli_instance("worker", "--parent-fd", str(write_fd), check=False)
    assert closed.returncode == 2 and f"--parent-fd {write_fd} is not an open file descriptor" in closed.stderr


def test_restart_backoff_doubles_to_a_minute_and_resets_after_a_stable_run():
    from workdesk.supervisor import describe_exit, restart_delay
    delays, delay = [], None
    for _ in range(8):
        delay = restart_delay(delay, uptime=0.5)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert restart_delay(60, uptime=61) == 1
    assert describe_exit(-9) == "was killed by signal SIGKILL" and describe_exit(3) == "exited with code 3"


# -- errors of `workdesk run` name what is wrong and exit 2 --------------------------------------------------

def test_a_busy_port_is_named_with_the_fix(cli_instance):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli_instance("run", "--port", str(port), check=False)
    assert busy.returncode == 2, busy.stderr
    assert (f"Port {port} on 127.0.0.1 is already in use: another process is listening there. Stop it, or choose "
            f"a free port with --port") in busy.stderr
    assert "Traceback" not in busy.stdout + busy.stderr and "worker started" not in busy.stderr


def test_a_bad_host_or_port_is_named_with_the_fix(cli_instance):
    unknown = cli_instance("run", "--host", "nosuch.invalid", "--port", str(free_port()), check=False)
    assert unknown.returncode == 2
    assert "--host 'nosuch.invalid' is not a host name or IP address this machine can resolve" in unknown.stderr
    foreign = cli_instance("run", "--host", "192.0.2.1", "--port", str(free_port()), check=False)  # TEST-NET-1
    assert foreign.returncode == 2
    assert "Cannot listen on 192.0.2.1: it is not an address of this machine. Use --host 127.0.0.1" in foreign.stderr
    too_big = cli_instance("run", "--port", "70000", check=False)
    assert too_big.returncode == 2 and "70000 is not in the range 1<=x<=65535" in too_big.stderr
    for result in (unknown, foreign, too_big):
        assert "Traceback" not in result.stdout + result.stderr


def test_where_gunicorn_cannot_run_waitress_serves_beside_the_worker(cli_instance, tmp_path):
    # The fallback for non-POSIX systems, run here by turning off the one switch that chooses the server.
    port = free_port()
    script = ("import sys, workdesk.webserver; workdesk.webserver.GUNICORN = False; from workdesk.cli import main; "
              f"sys.argv = ['workdesk', 'run', '--port', '{port}', '--workers', '3']; main()")
    log_path = tmp_path / "run.log"
    server = subprocess.Popen([sys.executable, "-c", script], env=cli_instance.env, cwd=str(ROOT),
                              stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz") or server.poll() is not None)
        assert server.poll() is None, log_path.read_text()
        (worker,) = wait_for(lambda: background_workers(server.pid))
        assert web_workers(server.pid) == []  # one process serves
        assert get(f"http://127.0.0.1:{port}/login")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not is_running(worker)
    output = log_path.read_text()
    assert f"Workdesk on http://127.0.0.1:{port}/ (1 web process, worker: pid {worker})" in output
    assert "Traceback" not in output and "gunicorn" not in output
