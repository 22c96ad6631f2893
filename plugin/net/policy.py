"""Which addresses the tool may call: public ones, and what the administrator allow-listed.

Every URL the tool is *given* (a platform's OpenID configuration, its keys, AGS/NRPS
endpoints, bridge URLs…) can point anywhere, including at services only the tool's own
machine or network can reach (a database console on 127.0.0.1, a cloud metadata service
on 169.254.169.254, an intranet at 10.x). The tool therefore refuses every address that is
not a global unicast address, unless ``MICROCRED_OUTBOUND_ALLOW`` lists it.

The check applies to the **address actually connected to** (:mod:`plugin.net.http` calls
:meth:`OutboundPolicy.refusal` for each resolved address at connection time, on every
redirect hop), so a name that resolves to a public address when a URL is saved and to
127.0.0.1 when it is used (DNS rebinding) is refused. :meth:`OutboundPolicy.check_url` runs
the same check when a URL is stored, to give the person saving it a clear message early.

No Flask here: ``lti/`` and every ``plugin`` layer use it.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "MICROCRED_OUTBOUND_ALLOW"

# Ranges refused on top of what Python's ipaddress flags (is_private, is_reserved, …): each is
# either not globally routable or a tunnel/translation prefix that can carry an internal IPv4
# address inside an IPv6 one. Python 3.11's is_global misses several (cpython#113171).
_EXTRA_BLOCKED: tuple[tuple[str, str], ...] = (
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("198.18.0.0/15", "benchmarking"),
    ("64:ff9b::/96", "NAT64 translation of an IPv4 address"),
    ("64:ff9b:1::/48", "local-use NAT64 translation"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (Teredo and others)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4 tunnel of an IPv4 address"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fec0::/10", "site-local"),
)
EXTRA_BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in _EXTRA_BLOCKED)

Resolver = Callable[[str, int], list[tuple]]


def system_resolver(host: str, port: int) -> list[tuple]:
    """``socket.getaddrinfo`` for a TCP connection (what urllib3 itself would call)."""
    from urllib3.util.connection import allowed_gai_family
    return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)


def normalise(address: str | IPAddress) -> IPAddress:
    """An address as the kernel will use it: ``::ffff:127.0.0.1`` is 127.0.0.1; a scope id is dropped."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_kind(address: str | IPAddress) -> str | None:
    """Why ``address`` is not a public address the tool may call (``None`` when it is public)."""
    ip = normalise(address)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    for net, why in EXTRA_BLOCKED:
        if ip.version == net.version and ip in net:
            return why
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("::/96"):
        return "IPv4-compatible (deprecated)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not globally routable"
    return None


@dataclass(frozen=True)
class AllowEntry:
    """One ``MICROCRED_OUTBOUND_ALLOW`` entry: an address range or a host name, with or without a port."""

    text: str
    network: IPNetwork | None = None
    host: str | None = None
    port: int | None = None

    def matches(self, host: str, address: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        return self.host == host.lower().rstrip(".")


class AllowListError(ValueError):
    pass


def parse_allow_entry(text: str) -> AllowEntry:
    """``10.20.0.0/16``, ``127.0.0.1``, ``127.0.0.1:5001``, ``[::1]:8080``, ``::1``, ``moodle.intranet``,
    ``moodle.intranet:8443``."""
    raw = text.strip()
    if not raw:
        raise AllowListError("an empty entry")
    port: int | None = None
    body = raw
    if body.startswith("["):  # [v6] or [v6]:port
        end = body.find("]")
        if end < 0:
            raise AllowListError(f"{raw!r}: missing ']'")
        rest = body[end + 1:]
        body = body[1:end]
        if rest:
            if not rest.startswith(":"):
                raise AllowListError(f"{raw!r}: expected ':port' after ']'")
            port = _port(rest[1:], raw)
    elif body.count(":") == 1:  # v4:port or host:port (a bare IPv6 has several colons)
        body, port_text = body.split(":")
        port = _port(port_text, raw)
    try:
        network = ipaddress.ip_network(body, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 128:
            network = ipaddress.ip_network(normalise(network.network_address))
        return AllowEntry(raw, network=network, port=port)
    host = body.lower().rstrip(".")
    if "/" in host or not host or not all(part and len(part) <= 63 and part.replace("-", "").replace("_", "").isalnum()
                                          for part in host.split(".")):
        raise AllowListError(f"{raw!r} is neither an address range (10.0.0.0/8), an address nor a host name")
    return AllowEntry(raw, host=host, port=port)


def _port(text: str, raw: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise AllowListError(f"{raw!r}: the port must be a number from 1 to 65535")
    return int(text)


def parse_allow_list(value: str | Iterable[str] | None) -> tuple[AllowEntry, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(parse_allow_entry(item) for item in items if item and item.strip())


class AddressNotAllowed(Exception):
    """A URL's host is (or resolves to) an address the tool does not call. ``message`` says which and why."""

    def __init__(self, url_or_host: str, address: str, kind: str):
        self.host = url_or_host
        self.address = address
        self.kind = kind
        named = f"{url_or_host} resolves to {address}" if url_or_host.strip("[]") != address else address
        self.message = (f"{named}, a {kind} address: the tool does not call local or private addresses "
                        f"unless the administrator allows them ({SETTING})")
        super().__init__(self.message)


@dataclass
class OutboundPolicy:
    """Public addresses, plus the administrator's allow-list. ``resolver`` is replaceable in tests."""

    allow: tuple[AllowEntry, ...] = ()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def from_settings(cls, settings) -> "OutboundPolicy":
        return cls(allow=parse_allow_list(getattr(settings, "outbound_allow", ()) or ()))

    def allowed(self, host: str, address: str | IPAddress, port: int) -> bool:
        ip = normalise(address)
        return address_kind(ip) is None or any(entry.matches(host, ip, port) for entry in self.allow)

    def refusal(self, host: str, address: str | IPAddress, port: int) -> AddressNotAllowed | None:
        """``None`` when the tool may connect to ``address`` (for ``host``:``port``), else the reason."""
        ip = normalise(address)
        kind = address_kind(ip)
        if kind is None or any(entry.matches(host, ip, port) for entry in self.allow):
            return None
        return AddressNotAllowed(host, str(ip), kind)

    def resolve(self, host: str, port: int) -> list[tuple]:
        """Resolved addresses of ``host``, every one of them allowed; raises :class:`AddressNotAllowed`
        (when one is not) or :class:`socket.gaierror` (when the name does not resolve)."""
        host = host.strip("[]")
        infos = self.resolver(host, port)
        for info in infos:
            refused = self.refusal(host, info[4][0], port)
            if refused is not None:
                raise refused
        return infos

    def check_url(self, url: str) -> None:
        """When a URL is stored: raise :class:`AddressNotAllowed` if its host is, or now resolves to,
        an address the tool would refuse. A name that does not resolve (yet) passes: the
        connection-time check decides when it is used."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            return
        if not host:
            return
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            self.resolve(host, port)
        except (OSError, UnicodeError):
            return

    def refusal_for_url(self, url: str) -> AddressNotAllowed | None:
        try:
            self.check_url(url)
        except AddressNotAllowed as exc:
            return exc
        return None
