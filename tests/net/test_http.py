"""The outbound HTTP layer against real servers on loopback: the address is checked at
connection time (every redirect hop, after DNS), bodies are bounded, errors repeat nothing."""
from __future__ import annotations

import pytest
import requests

from plugin.net import (AddressRefused, OutboundPolicy, RedirectRefused, ResponseTooLarge, TooSlow,
                        outbound_session, parse_allow_list)
from tests.net.servers import SECRET, HttpServer, RebindingResolver, TcpListener, internal_service, redirector, trickle


@pytest.fixture
def internal():
    server = internal_service()
    yield server
    server.close()


def only(*entries: str, resolver=None) -> OutboundPolicy:
    policy = OutboundPolicy(allow=parse_allow_list(list(entries)))
    if resolver is not None:
        policy.resolver = resolver
    return policy


def test_loopback_is_refused_unless_allowed_and_nothing_is_sent(internal):
    with pytest.raises(AddressRefused) as refused:
        outbound_session(OutboundPolicy()).get(internal.url + "/admin")
    assert "127.0.0.1, a loopback address" in refused.value.message
    assert internal.hits == []
    with pytest.raises(AddressRefused):
        outbound_session(OutboundPolicy()).get(f"http://localhost:{internal.port}/admin")
    assert internal.hits == []
    # Allowed explicitly: the same request goes through.
    assert outbound_session(only(f"127.0.0.1:{internal.port}")).get(internal.url + "/admin").text == SECRET


def test_a_redirect_to_an_internal_address_is_refused_at_that_hop(internal):
    platform = redirector(internal.url + "/secret")
    try:
        http = outbound_session(only(f"127.0.0.1:{platform.port}"))  # the platform only, not the internal port
        with pytest.raises(AddressRefused) as refused:
            http.get(platform.url + "/.well-known/openid-configuration")
        assert platform.hits == ["/.well-known/openid-configuration"]
        assert internal.hits == []
        assert SECRET not in str(refused.value) and "moved" not in str(refused.value)
    finally:
        platform.close()


def test_dns_rebinding_is_caught_where_the_connection_is_made():
    """The name answers a public address when checked and 127.0.0.1 when connected to: the
    connection-time check sees the second answer and refuses; nothing reaches the port."""
    target = TcpListener()
    try:
        resolver = RebindingResolver("lms.rebind.example", honest=1)
        policy = only(resolver=resolver)
        url = f"https://lms.rebind.example:{target.port}/.well-known/openid-configuration"
        policy.check_url(url)  # what a check-then-fetch client does first: passes (public)
        with pytest.raises(AddressRefused, match="lms.rebind.example resolves to 127.0.0.1"):
            outbound_session(policy).get(url)
        assert resolver.calls == 2 and target.connections == 0
        # A round-robin answer with one internal address is refused as a whole.
        resolver_both = only(resolver=lambda host, port: [
            (2, 1, 6, "", (RebindingResolver.PUBLIC, port)), (2, 1, 6, "", ("127.0.0.1", port))])
        with pytest.raises(AddressRefused):
            outbound_session(resolver_both).get(url)
        assert target.connections == 0
    finally:
        target.close()


def test_bodies_are_bounded_whether_announced_or_not():
    big = HttpServer(lambda h: (200, {"Content-Type": "application/json"}, b"[" + b"0," * 600_000 + b"0]"))
    chunked = HttpServer(lambda h: (200, {"Transfer-Encoding": "chunked"},
                                    b"".join(b"%x\r\n%s\r\n" % (50_000, b"x" * 50_000) for _ in range(30)) + b"0\r\n\r\n"))
    try:
        allow = only("127.0.0.1")
        with pytest.raises(ResponseTooLarge, match="too large: 1200003 bytes, more than 1000000"):
            outbound_session(allow, max_bytes=1_000_000).get(big.url)
        with pytest.raises(ResponseTooLarge, match="too large: more than 1000000 bytes"):
            outbound_session(allow, max_bytes=1_000_000).get(chunked.url)
        assert len(outbound_session(allow).get(chunked.url).content) == 1_500_000  # under the default limit
    finally:
        big.close()
        chunked.close()


def test_a_server_trickling_its_answer_is_given_up_on():
    slow = HttpServer(trickle(200, 0.05))
    try:
        with pytest.raises(TooSlow, match="took more than 0.5 s"):
            outbound_session(only("127.0.0.1"), total_timeout=0.5).get(slow.url)
    finally:
        slow.close()


def test_redirect_loops_and_odd_schemes_are_refused(internal):
    loop = HttpServer(lambda h: (302, {"Location": h.path + "x"}, b""))
    odd = redirector("file:///etc/passwd")
    try:
        http = outbound_session(only("127.0.0.1"))
        with pytest.raises(RedirectRefused, match="redirected more than 3 times"):
            http.get(loop.url + "/a")
        assert len(loop.hits) == 4
        with pytest.raises(RedirectRefused, match="redirected to a file URL"):
            http.get(odd.url)
        with pytest.raises(requests.RequestException):
            http.get("file:///etc/passwd")
    finally:
        loop.close()
        odd.close()


def test_proxies_from_the_environment_are_not_used(internal, monkeypatch):
    # A proxy resolves names itself, out of reach of the check: the layer never uses one.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    assert outbound_session(only("127.0.0.1")).get(internal.url).text == SECRET
