"""The one guard for requests Workdesk sends out (webhooks, and any plugin that connects somewhere).

A URL an admin or a user typed must not reach the machine Workdesk runs on or its private network
(server-side request forgery): :func:`check_destination` resolves the host and refuses it when *any*
of its addresses is not globally routable, and :func:`guarded_connection` / :func:`open_socket`
connect to exactly the addresses that were checked, so a name that resolves differently a moment
later (DNS rebinding) cannot redirect the request. An admin who really means a private destination
(an internal chat server) allows it with a plugin setting; the refusal names that setting.
"""
from __future__ import annotations

import http.client
import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Mapping
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_SETTING = "allow_private_destinations"
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated (RFC 3879), still routed inside sites
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215


class OutboundError(Exception):
    """A destination cannot be used; the message says why."""


class DestinationRefused(OutboundError):
    """The destination is not a public address (and private destinations are not allowed). Permanent:
    retrying changes nothing until an admin changes the URL or the setting."""

    def __init__(self, message: str, host: str = "", address: str = "", reason: str = ""):
        super().__init__(message)
        self.host, self.address, self.reason = host, address, reason


class DestinationUnresolved(OutboundError):
    """The host name does not resolve (now): worth retrying later."""


@dataclass(frozen=True)
class Destination:
    """A checked destination: connect only to ``addresses``, name ``host`` in Host and TLS."""
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


# -- which addresses are public ---------------------------------------------------------------

def _ipv4_reason(ip: ipaddress.IPv4Address) -> str | None:
    if ip in THIS_NETWORK:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT
        return "non-public"
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form that carries it:
    IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16`` (bits 16–48),
    Teredo ``2001::/32`` (server, and client with its bits inverted), NAT64 ``64:ff9b::/96`` and the
    local-use ``64:ff9b:1::/48`` (RFC 6052's /48 layout and the /96 one, both read)."""
    value = int(ip)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return [("IPv4-mapped", ip.ipv4_mapped)]
    if value >> 32 == 0 and value > 1:
        return [("IPv4-compatible", low32)]
    if ip.sixtofour is not None:
        return [("6to4", ip.sixtofour)]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [("Teredo server", server), ("Teredo client", client)]
    if ip in NAT64_WELL_KNOWN:
        return [("NAT64", low32)]
    if ip in NAT64_LOCAL_USE:
        high, low = (value >> 64) & 0xFFFF, (value >> 40) & 0xFFFF
        return [("NAT64", ipaddress.IPv4Address((high << 16) | low)), ("NAT64", low32)]
    return []


# Forms that are only another way of writing the IPv4 address they carry: that address alone decides.
_TRANSLATED_FORMS = {"IPv4-mapped", "NAT64"}


def _ipv6_reason(ip: ipaddress.IPv6Address) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    embedded = embedded_ipv4(ip)
    for form, ipv4 in embedded:
        reason = _ipv4_reason(ipv4)
        if reason:
            return f"{reason} ({form} {ipv4})"
    if embedded and all(form in _TRANSLATED_FORMS for form, _ in embedded):
        return None
    if ip.is_link_local:
        return "link-local"
    if ip in SITE_LOCAL:
        return "site-local"
    if ip in UNIQUE_LOCAL:
        return "unique-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "non-public"
    return None


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` is not a globally routable destination (``"loopback"``, ``"private"``,
    ``"site-local"``, ``"loopback (6to4 127.0.0.1)"``...), or None when it is one."""
    ip = address if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else \
        ipaddress.ip_address(str(address).split("%", 1)[0])
    return _ipv4_reason(ip) if ip.version == 4 else _ipv6_reason(ip)


# -- checking and connecting --------------------------------------------------------------------

def check_destination(url: str, allow_private: bool = False, setting: str = DEFAULT_SETTING) -> Destination:
    """Resolve ``url``'s host and check every address it has.

    :param allow_private: the admin's explicit permission for non-public destinations.
    :param setting: the name of that permission, named in the refusal so the admin knows what to change.
    :raises DestinationRefused: an address is not globally routable (or the URL has no host).
    :raises DestinationUnresolved: the name does not resolve.
    """
    parts = urlsplit(url)
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise DestinationRefused(f"refused: {url!r} has no valid port") from None
    if not host:
        raise DestinationRefused(f"refused: {url!r} names no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationUnresolved(f"cannot resolve {host}: {exc}") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise DestinationRefused(
                    f"refused: {host} resolves to {address}, a {reason} address; an admin can allow private "
                    f"destinations with the setting {setting}", host=host, address=address, reason=reason)
    return Destination(parts.scheme, host, port, addresses)


def open_socket(destination: Destination, timeout: float) -> socket.socket:
    """A TCP connection to one of the destination's checked addresses (tried in order); never resolves again."""
    error: OSError | None = None
    for address in destination.addresses:
        try:
            return socket.create_connection((address, destination.port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError(f"no address to connect to for {destination.host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses while the Host header names the URL's host."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.destination = destination

    def connect(self) -> None:
        self.sock = open_socket(self.destination, self.timeout)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    """Like :class:`_GuardedHTTPConnection`, with TLS verified against the URL's host name."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout, context=ssl.create_default_context())
        self.destination = destination

    def connect(self) -> None:
        sock = open_socket(self.destination, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def guarded_connection(url: str, timeout: float, allow_private: bool = False,
                       setting: str = DEFAULT_SETTING) -> http.client.HTTPConnection:
    """An ``http.client`` connection for an ``http``/``https`` URL, checked by :func:`check_destination`
    and bound to the checked addresses. Redirects are never followed (http.client does not)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DestinationRefused(f"refused: {url!r} is not an http or https URL")
    destination = check_destination(url, allow_private, setting)
    connection_class = _GuardedHTTPSConnection if destination.scheme == "https" else _GuardedHTTPConnection
    return connection_class(destination, timeout)


def smtp_tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The client context for STARTTLS and SMTPS: the server's certificate chain and host name are verified
    against ``ca_file`` when it is set (a private CA), otherwise against the system's store."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except OSError as exc:  # a missing or unreadable file, or one without a PEM certificate (ssl.SSLError)
        # Said plainly in the delivery log; the message is retried, so fixing the file is enough.
        raise OSError(f"cannot load the CA file {ca_file!r} (setting ca_file): {exc}") from None


def send_mail(message: EmailMessage, server: Mapping[str, Any]) -> None:
    """Hand ``message`` to an SMTP server, over one connection closed at the end.

    ``server`` is the ``email`` plugin's settings (``host``, ``port``, ``security``: ``none``, ``starttls``
    or ``ssl``, ``username``, ``password``, ``ca_file``, ``timeout_seconds``), which a plugin that sends
    mail of its own reads with ``workdesk.plugin_settings("email")``. SMTP errors propagate: the caller
    decides what is permanent.
    """
    security = server["security"]
    context = smtp_tls_context(server["ca_file"]) if security in ("starttls", "ssl") else None
    timeout = server["timeout_seconds"]
    if security == "ssl":
        client = smtplib.SMTP_SSL(server["host"], server["port"], timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server["host"], server["port"], timeout=timeout)
    try:
        if security == "starttls":
            client.starttls(context=context)
        if server["username"]:
            client.login(server["username"], server["password"])
        client.send_message(message)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


__all__ = ["Destination", "DestinationRefused", "DestinationUnresolved", "OutboundError", "check_destination",
           "embedded_ipv4", "forbidden_reason", "guarded_connection", "open_socket", "send_mail", "smtp_tls_context"]
