"""The one outbound guard (workdesk.outbound): every address that is not globally routable is refused,
IPv4 hidden inside IPv6 included, and a real receiver on 127.0.0.1 is reached only when allowed."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workdesk import outbound
from workdesk.outbound import DestinationRefused, check_destination, forbidden_reason, guarded_connection


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.5", "private"), ("192.168.1.10", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("100.64.0.1", "non-public"), ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff02::1", "multicast"), ("ff0e::1", "multicast"),
    ("240.0.0.1", "private"), ("255.255.255.255", "private"),
    ("fec0::1", "site-local"), ("feff::1", "site-local"), ("fd00::1", "unique-local"), ("fc00::1", "unique-local"),
    ("2001:db8::1", "non-public"), ("100::1", "reserved"),
    # IPv4 inside IPv6
    ("::ffff:127.0.0.1", "loopback (IPv4-mapped 127.0.0.1)"), ("::ffff:10.0.0.1", "private (IPv4-mapped 10.0.0.1)"),
    ("::127.0.0.1", "loopback (IPv4-compatible 127.0.0.1)"), ("::8.8.8.8", "reserved"),
    ("2002:7f00:1::", "loopback (6to4 127.0.0.1)"), ("2002:a9fe:a9fe::1", "link-local (6to4 169.254.169.254)"),
    ("2002:c0a8:101::", "private (6to4 192.168.1.1)"),
    ("2001:0:7f00:1::", "loopback (Teredo server 127.0.0.1)"),
    # Teredo's client address is stored inverted: ~127.0.0.1 = 80ff:fffe
    ("2001:0:808:808:0:0:80ff:fffe", "loopback (Teredo client 127.0.0.1)"),
    ("2001:0:808:808:0:0:f7f7:f7f7", "non-public"),
    ("64:ff9b::7f00:1", "loopback (NAT64 127.0.0.1)"), ("64:ff9b::a9fe:a9fe", "link-local (NAT64 169.254.169.254)"),
    ("64:ff9b:1:7f00:0:100::", "loopback (NAT64 127.0.0.1)"), ("64:ff9b:1::a00:1", "unspecified (NAT64 0.0.0.0)"),
])
def test_every_address_that_is_not_globally_routable_is_refused(address, reason):
    assert forbidden_reason(address) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::200e",
                                     "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert forbidden_reason(address) is None


def test_embedded_ipv4_reads_every_form():
    import ipaddress
    forms = {a: outbound.embedded_ipv4(ipaddress.ip_address(a)) for a in
             ("::ffff:1.2.3.4", "2002:102:304::", "2001:0:102:304::fefd:fcfb", "64:ff9b::102:304")}
    assert [(f, str(v)) for f, v in forms["::ffff:1.2.3.4"]] == [("IPv4-mapped", "1.2.3.4")]
    assert [(f, str(v)) for f, v in forms["2002:102:304::"]] == [("6to4", "1.2.3.4")]
    assert [(f, str(v)) for f, v in forms["2001:0:102:304::fefd:fcfb"]] == [("Teredo server", "1.2.3.4"),
                                                                             ("Teredo client", "1.2.3.4")]
    assert [(f, str(v)) for f, v in forms["64:ff9b::102:304"]] == [("NAT64", "1.2.3.4")]


@pytest.mark.parametrize("url, address", [
    ("http://[2002:7f00:1::]/hook", "2002:7f00:1::"), ("http://[::ffff:127.0.0.1]:8080/", "::ffff:127.0.0.1"),
    ("https://[fec0::1]/x", "fec0::1"), ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"),
    ("http://127.0.0.1:9/", "127.0.0.1"), ("http://0x7f000001/", "127.0.0.1"),
])
def test_urls_with_private_literals_are_refused_naming_the_address_and_setting(url, address):
    with pytest.raises(DestinationRefused) as refused:
        check_destination(url, setting="allow_private_destinations")
    assert refused.value.address == address
    assert f"resolves to {address}" in str(refused.value)
    assert "allow_private_destinations" in str(refused.value)


def test_a_name_is_refused_when_any_of_its_addresses_is_private():
    with pytest.raises(DestinationRefused, match=r"refused: localhost resolves to .*loopback.*my_setting"):
        check_destination("http://localhost:8080/hook", setting="my_setting")
    destination = check_destination("http://localhost:8080/hook", allow_private=True)
    assert (destination.host, destination.port) == ("localhost", 8080) and destination.addresses


def test_urls_without_a_host_or_scheme_are_refused():
    with pytest.raises(DestinationRefused, match="names no host"):
        check_destination("http:///nothing")
    with pytest.raises(DestinationRefused, match="not an http or https URL"):
        guarded_connection("file:///etc/passwd", 2, allow_private=True)


@pytest.fixture
def local_receiver():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append((self.path, self.headers.get("Host")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, hits
    server.shutdown()
    server.server_close()


def test_a_real_local_receiver_is_reached_only_when_private_destinations_are_allowed(local_receiver):
    port, hits = local_receiver
    url = f"http://127.0.0.1:{port}/probe"
    with pytest.raises(DestinationRefused) as refused:
        guarded_connection(url, 2, setting="allow_private_destinations")
    assert str(refused.value) == ("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address; an admin can "
                                  "allow private destinations with the setting allow_private_destinations")
    assert hits == []

    connection = guarded_connection(f"http://localhost:{port}/probe", 2, allow_private=True)
    try:
        connection.connect()
        # the socket goes to an address that was checked; the Host header still names the URL's host
        assert connection.sock.getpeername()[0] in connection.destination.addresses
        connection.request("GET", "/probe")
        assert connection.getresponse().status == 204
    finally:
        connection.close()
    assert hits == [("/probe", f"localhost:{port}")]
