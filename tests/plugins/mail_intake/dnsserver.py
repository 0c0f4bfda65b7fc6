"""A real DNS server for the DKIM tests: a UDP responder (dnspython) on 127.0.0.1 that answers TXT
queries for the names it holds and NXDOMAIN for everything else, and an RSA key to sign mail with."""
from __future__ import annotations

import base64
import socket
import threading

import dkim
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SELECTOR = "wd2026"


class SigningKey:
    """An RSA key pair: ``pem`` for dkim.sign, ``record`` for the TXT record of its selector."""

    def __init__(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        self.record = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"

    def sign(self, raw: bytes, domain: str, selector: str = SELECTOR) -> bytes:
        """``raw`` with a DKIM-Signature of ``domain`` in front (relaxed/relaxed, From, To, Subject and
        the threading headers signed, as mail servers do)."""
        signature = dkim.sign(raw, selector.encode(), domain.encode(), self.pem,
                              canonicalize=(b"relaxed", b"relaxed"),
                              include_headers=[b"from", b"to", b"subject", b"message-id", b"in-reply-to",
                                               b"references", b"date"])
        return signature + raw


class DnsServer:
    """Answers on 127.0.0.1:``port`` over UDP until ``stop()``. ``records``: name → TXT text."""

    def __init__(self):
        self.records: dict[str, str] = {}
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True, name="test-dns")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def publish(self, domain: str, key: SigningKey, selector: str = SELECTOR) -> None:
        self.records[f"{selector}._domainkey.{domain}".lower()] = key.record

    def start(self) -> "DnsServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while self.running:
            try:
                wire, client = self.sock.recvfrom(65535)
            except OSError:
                continue
            try:
                query = dns.message.from_wire(wire)
            except Exception:  # noqa: BLE001 - garbage on the port: nothing to answer
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append(name)
            text = self.records.get(name)
            if text is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                # TXT strings are at most 255 bytes each: a 2048-bit key takes two.
                data = text.encode()
                chunks = " ".join('"%s"' % data[i:i + 255].decode() for i in range(0, len(data), 255))
                response.answer.append(dns.rrset.from_text(question.name, 300, dns.rdataclass.IN,
                                                           dns.rdatatype.TXT, chunks))
            self.sock.sendto(response.to_wire(), client)
