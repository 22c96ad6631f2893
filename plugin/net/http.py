"""The one HTTP client for every request the tool makes to a URL it was given.

:func:`outbound_session` returns a :class:`requests.Session` (what pylti1p3, the bridges and
the registration already speak) whose connections are made by :class:`_GuardedConnection`:
the host is resolved, **every** address it resolves to is checked against the
:class:`~plugin.net.policy.OutboundPolicy`, and the socket is connected to one of those
checked addresses (never to a second resolution, so DNS rebinding cannot slip in). This
happens for each new connection, so each redirect hop is checked too. Besides:

* timeouts: connect and read (per socket operation), and a total deadline for reading the
  body, so a server trickling bytes cannot hold a worker;
* the body is read by the client, up to ``max_bytes`` (a larger one is refused without being
  kept), even for intermediate redirect responses;
* at most ``max_redirects`` redirects, never from https to http;
* proxies from the environment are not used: a proxy would resolve the name itself, out of
  reach of the address check;
* errors (:class:`OutboundError` and its subclasses, all :class:`requests.RequestException`)
  name the URL's host and the problem, never anything from the response body.

Why by hand rather than a library: the maintained candidates were read. requests-hardened
(saleor) pins the connection to the *first* resolved address but only offers a loopback
on/off switch (no range or host allow-list for an intranet Moodle), and misses IPv4-compatible
and site-local IPv6; advocate has had no release since 2020; safehttpx and drawbridge wrap
httpx (async), not the requests sessions pylti1p3 and the bridges use. urllib3's own
connection class has the one hook needed (``_new_conn``), so the check is ~100 lines here.
"""
from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import _set_socket_options  # type: ignore[attr-defined]
from urllib3.util.timeout import _DEFAULT_TIMEOUT  # type: ignore[attr-defined]

from plugin.net.policy import AddressNotAllowed, OutboundPolicy

TIMEOUT = (5.0, 15.0)  # connect, read (seconds, per socket operation)
TOTAL_TIMEOUT = 30.0  # seconds to receive a whole body
MAX_BYTES = 10 * 1024 * 1024  # a JWKS or a registration reply is a few KB; an AGS page of results a few MB
SMALL = 1024 * 1024  # for documents that are small by nature (OpenID configuration, JWKS)
MAX_REDIRECTS = 3
USER_AGENT = "microcred (LTI tool)"


class OutboundError(requests.RequestException):
    """A request the outbound layer refused or gave up on; ``message`` is for people."""

    def __init__(self, message: str, **kwargs):
        super().__init__(message, **kwargs)
        self.message = message


class AddressRefused(OutboundError, requests.ConnectionError):
    def __init__(self, refusal: AddressNotAllowed, **kwargs):
        super().__init__(refusal.message, **kwargs)
        self.refusal = refusal


class ResponseTooLarge(OutboundError):
    pass


class TooSlow(OutboundError, requests.Timeout):
    pass


class RedirectRefused(OutboundError):
    pass


class _Refused(Exception):
    """Raised inside urllib3 (not an OSError, so urllib3 does not retry or wrap it)."""

    def __init__(self, refusal: AddressNotAllowed):
        super().__init__(refusal.message)
        self.refusal = refusal


def _connect(policy: OutboundPolicy, host: str, port: int, timeout, source_address, socket_options) -> socket.socket:
    """Resolve, check every address, connect to a checked one (urllib3's create_connection otherwise)."""
    try:
        infos = policy.resolve(host, port)
    except AddressNotAllowed as refusal:
        raise _Refused(refusal) from None
    if not infos:
        raise OSError("getaddrinfo returned an empty list")
    err: OSError | None = None
    for af, socktype, proto, _canon, sockaddr in infos:
        sock = None
        try:
            sock = socket.socket(af, socktype, proto)
            _set_socket_options(sock, socket_options)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            err = exc
            if sock is not None:
                sock.close()
    assert err is not None
    raise err


class _GuardedMixin:
    policy: OutboundPolicy

    def _new_conn(self) -> socket.socket:  # the urllib3 2.x hook (see urllib3.connection.HTTPConnection)
        try:
            return _connect(self.policy, self._dns_host, self.port, self.timeout,  # type: ignore[attr-defined]
                            self.source_address, self.socket_options)  # type: ignore[attr-defined]
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        except socket.timeout as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc  # type: ignore[attr-defined]
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]


def _pool_classes(policy: OutboundPolicy) -> dict[str, type]:
    http_conn = type("GuardedHTTPConnection", (_GuardedMixin, HTTPConnection), {"policy": policy})
    https_conn = type("GuardedHTTPSConnection", (_GuardedMixin, HTTPSConnection), {"policy": policy})
    return {"http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})}


class GuardedAdapter(HTTPAdapter):
    """Connections through the policy; bodies read here, bounded in size and time."""

    def __init__(self, policy: OutboundPolicy, *, max_bytes: int = MAX_BYTES, total_timeout: float = TOTAL_TIMEOUT):
        self.policy = policy
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        host = urlsplit(request.url).hostname or "?"
        try:
            response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies={})
        except _Refused as exc:
            raise AddressRefused(exc.refusal, request=request) from None
        self._read_body(response, host)
        return response

    def _read_body(self, response: requests.Response, host: str) -> None:
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"the answer of {host} is too large: {int(declared)} bytes, "
                                   f"more than {self.max_bytes}")
        deadline = time.monotonic() + self.total_timeout
        chunks, size = [], 0
        try:
            while True:
                # read1: what has arrived (read() would wait for all 64 KiB), so the deadline is seen.
                chunk = response.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(f"the answer of {host} is too large: more than {self.max_bytes} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TooSlow(f"{host} took more than {self.total_timeout:g} s to send its answer")
        except OutboundError:
            response.close()
            raise
        except Exception as exc:  # urllib3 read errors: a connection dropped mid-body, bad chunking…
            response.close()
            raise requests.ConnectionError(f"the answer of {host} was cut off ({type(exc).__name__})") from None
        response._content = b"".join(chunks)
        response._content_consumed = True
        response.close()  # the connection goes back to the pool


class OutboundSession(requests.Session):
    """A :class:`requests.Session` that only goes through :class:`GuardedAdapter`."""

    def __init__(self, policy: OutboundPolicy, *, timeout=TIMEOUT, max_bytes: int = MAX_BYTES,
                 total_timeout: float = TOTAL_TIMEOUT, max_redirects: int = MAX_REDIRECTS):
        super().__init__()
        self.policy = policy
        self.default_timeout = timeout
        self.max_redirects = max_redirects
        self.headers["User-Agent"] = USER_AGENT
        adapter = GuardedAdapter(policy, max_bytes=max_bytes, total_timeout=total_timeout)
        self.adapters.clear()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request, **kwargs: Any):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        scheme = urlsplit(request.url).scheme.lower()
        if scheme not in ("http", "https"):
            raise OutboundError(f"only http and https URLs are fetched, not {scheme or 'this'}: {request.url[:200]}")
        try:
            return super().send(request, **kwargs)
        except requests.TooManyRedirects:
            raise RedirectRefused(f"{urlsplit(request.url).hostname} redirected more than "
                                  f"{self.max_redirects} times") from None

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["proxies"] = {}  # see the module docstring
        return settings

    def get_redirect_target(self, resp):
        location = super().get_redirect_target(resp)
        if location:
            target = urljoin(resp.url, location)
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise RedirectRefused(f"{urlsplit(resp.url).hostname} redirected to a {scheme or 'relative'} URL")
            if urlsplit(resp.url).scheme == "https" and scheme == "http":
                raise RedirectRefused(f"{urlsplit(resp.url).hostname} redirected from https to plain http")
        return location


def outbound_session(policy: OutboundPolicy, **kwargs) -> OutboundSession:
    return OutboundSession(policy, **kwargs)


def describe_error(exc: BaseException) -> str:
    """One short sentence about a failed request, never the response body."""
    if isinstance(exc, OutboundError):
        return exc.message
    if isinstance(exc, requests.Timeout):
        return "it did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "its TLS certificate was refused"
    if isinstance(exc, requests.ConnectionError):
        return "it could not be reached"
    return type(exc).__name__
