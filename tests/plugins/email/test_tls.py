"""The email plugin over TLS against real aiosmtpd servers on 127.0.0.1: STARTTLS with a login,
implicit TLS (``ssl``), and the refusals when the server's certificate cannot be verified.

Certificates come from a throwaway CA made at test time (trustme); the plugin trusts it only
through its ``ca_file`` setting, so these tests also show that verification is on by default.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import marshmallow
import pytest
import trustme

from workdesk.notifications import notify
from workdesk.registry import save_plugin_settings
from workdesk.plugins.email.models import EmailDelivery
from workdesk.plugins.email.services import deliver_due

from .conftest import RecordingHandler, SmtpServer, password_checker


@dataclass
class TlsRecordingHandler(RecordingHandler):
    """Also notes, per accepted message, the TLS version the session ran on and whether it had logged in."""
    sessions: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.sessions.append((ssl_object.version() if ssl_object else None, session.authenticated))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(test_ca, tmp_path) -> str:
    """The test CA's certificate as a PEM file, as an admin would put it on the server."""
    path = tmp_path / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    return context


@pytest.fixture
def tls_smtp_server(test_ca):
    """``tls_smtp_server("starttls" | "ssl", authenticator=None, names=(...))`` starts a server whose
    certificate the test CA issued for ``names`` (127.0.0.1 and localhost by default)."""
    started: list[SmtpServer] = []

    def start(security: str, authenticator=None, names: tuple[str, ...] = ()) -> SmtpServer:
        context = server_context(test_ca, *names)
        if security == "starttls":
            # As a submission server would: no mail and no AUTH before STARTTLS.
            options = {"tls_context": context, "require_starttls": True}
            if authenticator is not None:
                options["authenticator"] = authenticator
        else:
            options = {"ssl_context": context}
        server = SmtpServer(TlsRecordingHandler(), **options)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


def test_a_message_goes_out_over_starttls_with_a_login(tls_smtp_server, ca_file, enable_plugin, make_user,
                                                       drain_events):
    server = tls_smtp_server("starttls", authenticator=password_checker("desk", "s3cret-pass"))
    # Without STARTTLS the server offers no AUTH (and takes no mail): the attempt fails and is retried.
    enable_plugin("email", **server.settings(security="none", username="desk", password="s3cret-pass"))
    user = make_user()
    note = notify(user, "x.test", "Over STARTTLS")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and "AUTH" in row.last_error and server.messages == []

    save_plugin_settings("email", server.settings(security="starttls", ca_file=ca_file,
                                                  username="desk", password="s3cret-pass"))
    assert deliver_due(row.next_attempt_at) == 1
    assert server.handler.by_notification() == [str(note.id)]
    (tls_version, authenticated), = server.handler.sessions
    assert tls_version in ("TLSv1.2", "TLSv1.3") and authenticated is True
    row = EmailDelivery.get_by_id(row.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_message_goes_out_over_implicit_tls(tls_smtp_server, ca_file, enable_plugin, make_user, drain_events):
    server = tls_smtp_server("ssl")
    enable_plugin("email", **server.settings(security="ssl", ca_file=ca_file))
    user = make_user()
    note = notify(user, "x.test", "Over SSL")
    drain_events()
    assert server.handler.by_notification() == [str(note.id)]
    (tls_version, _authenticated), = server.handler.sessions
    assert tls_version in ("TLSv1.2", "TLSv1.3")
    to, message = server.messages[0]
    assert to == user.email and message["Subject"] == "Over SSL"
    assert EmailDelivery.get().status == "sent"


def test_a_server_name_resolved_to_localhost_is_verified_too(tls_smtp_server, ca_file, enable_plugin, make_user,
                                                             drain_events):
    server = tls_smtp_server("ssl")
    enable_plugin("email", **server.settings(host="localhost", security="ssl", ca_file=ca_file))
    notify(make_user(), "x.test", "By name")
    drain_events()
    assert EmailDelivery.get().status == "sent" and len(server.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_refused_retried_then_dead(security, tls_smtp_server, enable_plugin, make_user,
                                                               drain_events):
    server = tls_smtp_server(security)
    # No ca_file: the system's store, which does not know the test CA.
    enable_plugin("email", **server.settings(security=security, max_attempts=2, retry_base_seconds=10))
    notify(make_user(), "x.test", "Not to a stranger")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and row.attempts == 1
    assert row.last_error.startswith("SSLCertVerificationError") and "CERTIFICATE_VERIFY_FAILED" in row.last_error

    assert deliver_due(row.next_attempt_at) == 0
    row = EmailDelivery.get_by_id(row.id)
    assert (row.status, row.attempts) == ("dead", 2) and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert server.messages == []


def test_a_certificate_from_another_ca_is_refused(tls_smtp_server, enable_plugin, make_user, drain_events, tmp_path):
    server = tls_smtp_server("starttls")
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    enable_plugin("email", **server.settings(security="starttls", ca_file=str(other_ca)))
    notify(make_user(), "x.test", "Wrong CA")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and "CERTIFICATE_VERIFY_FAILED" in row.last_error and server.messages == []


def test_a_certificate_for_another_host_is_refused(tls_smtp_server, ca_file, enable_plugin, make_user, drain_events):
    server = tls_smtp_server("ssl", names=("mail.example.com",))
    enable_plugin("email", **server.settings(security="ssl", ca_file=ca_file))
    notify(make_user(), "x.test", "Wrong host")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert "mismatch" in row.last_error and server.messages == []


def test_an_unreadable_ca_file_is_said_plainly_and_retried(tls_smtp_server, enable_plugin, make_user, drain_events,
                                                          tmp_path):
    server = tls_smtp_server("ssl")
    missing = tmp_path / "gone.pem"
    enable_plugin("email", **server.settings(security="ssl", ca_file=str(missing)))
    notify(make_user(), "x.test", "No CA file")
    drain_events()
    row = EmailDelivery.get()
    assert row.status == "retry" and server.messages == []
    assert row.last_error.startswith(f"OSError: cannot load the CA file '{missing}' (setting ca_file)")


def test_ca_file_must_be_an_absolute_path(enable_plugin):
    enable_plugin("email", host="mail.example.com")
    with pytest.raises(marshmallow.ValidationError) as exc:
        save_plugin_settings("email", {"security": "ssl", "ca_file": "certs/ca.pem"})
    assert set(exc.value.messages) == {"ca_file"}
