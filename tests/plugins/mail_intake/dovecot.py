"""A private Dovecot IMAP server for the tests: its own configuration, sockets, state and Maildirs in a
temporary folder, listening on 127.0.0.1 without TLS (the plugin's TLS path is covered by its settings
checks; the protocol is the real one)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
PASSWORD = "intake-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """One running server; ``append(user, raw_bytes)`` delivers a message by IMAP APPEND.

    Its folder is made directly under the system's temporary folder, not pytest's: pytest sets its own
    base folder to mode 700 whenever a session starts, which would lock the ``dovecot`` user out."""

    def __init__(self, root: Path | None = None, tls: bool = False):
        self.root = root or Path(tempfile.mkdtemp(prefix="workdesk-dovecot-"))
        self.port = free_port()
        self.password = PASSWORD
        self.tls = tls
        self.tls_port = free_port() if tls else None
        self.ca_file = self.root / "ca.pem" if tls else None

    def _make_certificates(self) -> str:
        """A throw-away CA and a certificate for localhost / 127.0.0.1 signed by it (openssl), and the
        configuration lines that serve it: IMAPS on ``tls_port``, STARTTLS on ``port``."""
        def run(*args):
            subprocess.run(["openssl", *args], check=True, cwd=self.root, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Workdesk test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        (self.root / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
        return (f"ssl = yes\nssl_cert = <{self.root}/server.pem\nssl_key = <{self.root}/server.key\n"
                f"service imap-login {{\n  inet_listener imaps {{\n    port = {self.tls_port}\n    ssl = yes\n  }}\n}}\n")

    def start(self) -> "Dovecot":
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # The dovecot user reads its configuration and writes the Maildirs under this folder.
        for path in [self.root, *self.root.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o644)
        config = self.root / "dovecot.conf"
        text = CONFIG.format(root=self.root, port=self.port, password=self.password)
        if self.tls:
            text = text.replace("ssl = no\n", "") + self._make_certificates()
            for path in self.root.glob("*"):
                if path.is_file():
                    path.chmod(0o644)
        config.write_text(text)
        subprocess.run([DOVECOT, "-c", str(config)], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    if conn.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start: " + self.log())

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        try:
            if pid_file.exists():
                pid = int(pid_file.read_text().strip())
                os.kill(pid, 15)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)  # ProcessLookupError once it is gone
                    time.sleep(0.05)
        except ProcessLookupError:
            pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` into ``user``'s ``folder`` with IMAP APPEND (creating the user's Maildir)."""
        import imaplib
        client = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            client.login(user, self.password)
            status, data = client.append(folder, None, None, raw)
            if status != "OK":  # seen once under load ("NO" while the new Maildir was being created): retry once
                time.sleep(0.2)
                status, data = client.append(folder, None, None, raw)
            assert status == "OK", (status, data, self.log()[-2000:])
        finally:
            client.logout()

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        import imaplib
        import re
        client = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            client.login(user, self.password)
            _, data = client.status(folder, "(UIDVALIDITY)")
            return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        finally:
            client.logout()
