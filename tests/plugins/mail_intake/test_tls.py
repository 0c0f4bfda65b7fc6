"""TLS with certificates verified: IMAPS and STARTTLS against Dovecot serving a certificate for
localhost signed by a CA made for the test. The CA is trusted the way an admin would add one to the
system's store (OpenSSL's SSL_CERT_FILE); without it the connection is refused and nothing is read."""
from __future__ import annotations

import pytest

from workdesk import Task

from .conftest import mail, requires_dovecot

pytestmark = requires_dovecot


@pytest.fixture
def tls_desk(desk, imaps_server):
    desk.server = imaps_server  # deliver to, and read from, the TLS server
    return desk


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_mail_is_read_over_verified_tls(tls_desk, imaps_server, monkeypatch, security):
    monkeypatch.setenv("SSL_CERT_FILE", str(imaps_server.ca_file))
    port = imaps_server.tls_port if security == "tls" else imaps_server.port
    tls_desk.configure(host="localhost", port=port, security=security)
    imaps_server.append(tls_desk.user, bytes(mail(tls_desk.requester.email, f"Over {security}")))
    assert tls_desk.run() == {"support": 1}
    assert [t.title for t in Task.select()] == [f"Over {security}"]


def test_an_untrusted_certificate_is_refused(tls_desk, imaps_server, monkeypatch, tmp_path):
    empty = tmp_path / "no-ca.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    tls_desk.configure(host="localhost", port=imaps_server.tls_port, security="tls")
    imaps_server.append(tls_desk.user, bytes(mail(tls_desk.requester.email, "Never read")))
    assert tls_desk.run() == {"support": 0}
    from workdesk.plugins.mail_intake.models import MailboxCursor
    assert "CERTIFICATE_VERIFY_FAILED" in MailboxCursor.get().last_error
    assert Task.select().count() == 0
