"""`workdesk run` serves pages with a worker beside it, and stops both cleanly."""
import signal
import socket
import subprocess
import sys
import time
import urllib.request

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
