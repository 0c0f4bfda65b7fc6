"""A real HTTP receiver on 127.0.0.1 that checks signatures the way the docs tell receivers to."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "receiver-shared-secret-123"


def signature_is_valid(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """A receiver's check, written from docs/notifications.md without the plugin's code."""
    timestamp = headers.get("X-Workdesk-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Workdesk-Signature", ""))


@dataclass
class Receiver:
    """Keeps every correctly signed POST; answers 401 to a bad signature.

    ``status``: what to answer to a good request (200, or 500/404 to fail on purpose). ``gate_after``:
    accept that many, then hold the next request until ``release`` is set and drop it unanswered
    (the sender is killed meanwhile). ``lost_replies``: keep that many good requests but answer them
    503, as when the answer never reaches the sender (who then sends again what did arrive).
    """
    secret: str = SECRET
    status: int = 200
    gate_after: int | None = None
    lost_replies: int = 0
    received: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    gate_reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def bodies(self) -> list[dict]:
        return [body for _path, _headers, body in self.received]


def start_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not signature_is_valid(receiver.secret, self.headers, body):
                receiver.rejected.append(body)
                self.send_response(401)
                self.end_headers()
                return
            if receiver.gate_after is not None and len(receiver.received) >= receiver.gate_after:
                receiver.gate_reached.set()
                receiver.release.wait(30)
                self.close_connection = True
                return  # no answer: the sender never learns whether it arrived
            status = receiver.status
            if status == 200:
                receiver.received.append((self.path, dict(self.headers), json.loads(body)))
                if len(receiver.received) <= receiver.lost_replies:
                    status = 503
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/workdesk?team=ops"
    return server


@pytest.fixture
def http_receiver():
    """``http_receiver(**options)`` starts a receiver thread; all stop after the test."""
    servers = []

    def start(**options) -> Receiver:
        receiver = Receiver(**options)
        servers.append((start_receiver(receiver), receiver))
        return receiver

    yield start
    for server, receiver in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()


def endpoint(receiver: Receiver, name: str = "ops", **extra) -> dict:
    return {"name": name, "url": receiver.url, "secret": receiver.secret, **extra}


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "base_url": "https://desk.example.com"}
