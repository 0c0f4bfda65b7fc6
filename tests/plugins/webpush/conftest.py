"""A real push service on 127.0.0.1 for the webpush tests: it verifies the VAPID JWT (RFC 8292) and
decrypts the aes128gcm payload (RFC 8291) with the subscription's private keys, as a browser's push
service and the browser would, written from the RFCs rather than from the plugin's code."""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_problem(authorization: str, origin: str) -> str | None:
    """What is wrong with ``Authorization: vapid t=<JWT>, k=<key>`` for ``origin`` (None: nothing)."""
    if not authorization.lower().startswith("vapid "):
        return "not a vapid authorization"
    params = dict(part.strip().split("=", 1) for part in authorization[6:].split(","))
    token, key = params.get("t", ""), params.get("k", "")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header, claims = json.loads(b64d(header_b64)), json.loads(b64d(claims_b64))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
        raw = b64d(signature_b64)
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as exc:
        return f"bad token: {exc!r}"
    if header.get("alg") != "ES256":
        return "not ES256"
    if claims.get("aud") != origin:
        return f"aud {claims.get('aud')!r} is not {origin!r}"
    if not (time.time() < claims.get("exp", 0) <= time.time() + 86400):
        return "exp not within 24 hours"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        return "no sub"
    return None


@dataclass
class Device:
    """A browser's subscription keys (the private half stays here, as in the browser)."""
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def keys(self) -> dict:
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64e(point), "auth": b64e(self.auth)}


@dataclass
class PushService:
    """Answers each push with the next of ``answers`` (then 201); keeps what it could decrypt."""
    answers: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    devices: dict = field(default_factory=dict)
    base: str = ""
    # Accept that many messages, then hold the next push until ``release`` and drop it unanswered (the
    # sender is killed meanwhile): it never counts as delivered.
    gate_after: int | None = None
    gate_reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def endpoint(self, device: Device, name: str = "d1") -> str:
        self.devices[f"/push/{name}"] = device
        return f"{self.base}/push/{name}"


@pytest.fixture
def push_service():
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            problem = vapid_problem(self.headers.get("Authorization", ""), service.base)
            device = service.devices.get(self.path)
            if problem is None and device is None:
                problem = "unknown subscription"
            if problem is None and self.headers.get("Content-Encoding") != "aes128gcm":
                problem = "not aes128gcm"
            if problem is None and not self.headers.get("TTL", "").isdigit():
                problem = "no TTL"
            if problem:
                service.problems.append(problem)
                self.send_response(403 if problem != "unknown subscription" else 404)
                self.end_headers()
                return
            if service.gate_after is not None and len(service.messages) >= service.gate_after:
                service.gate_reached.set()
                service.release.wait(30)
                self.close_connection = True
                return
            status, extra = (service.answers.pop(0) if service.answers else (201, {}))
            if status == 201:
                text = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth,
                                        version="aes128gcm")
                service.messages.append((self.path, json.loads(text)))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    service.base = f"http://127.0.0.1:{server.server_port}"
    yield service
    server.shutdown()
