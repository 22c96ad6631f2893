"""Real HTTP servers on loopback for the outbound-layer tests, and a resolver that lies."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "INTERNAL-ONLY-7c1f: db_password=hunter2"


class HttpServer:
    """``answer(handler) -> (status, headers, body)``; every request is recorded in ``hits``."""

    def __init__(self, answer):
        outer = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                outer.hits.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                result = answer(self)
                if result is None:  # the answer wrote the response itself
                    return
                status, headers, body = result
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a trickling handler must not hold the test up
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def internal_service() -> HttpServer:
    """What an attacker wants the tool to read: a service only this machine reaches."""
    return HttpServer(lambda h: (200, {"Content-Type": "text/plain"}, SECRET.encode()))


def redirector(target: str, status: int = 302) -> HttpServer:
    return HttpServer(lambda h: (status, {"Location": target}, b"moved"))


class TcpListener:
    """A bare TCP port that counts the connections made to it (for HTTPS attempts too)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()


class RebindingResolver:
    """Answers ``public`` for ``name`` the first ``honest`` times, then ``rebound`` (127.0.0.1):
    the DNS rebinding a check-then-connect client falls for. Other names: real resolution."""

    PUBLIC = "93.184.216.34"  # never connected to: the tests only ever reach the rebound answer

    def __init__(self, name: str, *, honest: int = 1, rebound: str = "127.0.0.1"):
        self.name, self.honest, self.rebound = name, honest, rebound
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[tuple]:
        if host != self.name:
            return socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
        self.calls += 1
        address = self.PUBLIC if self.calls <= self.honest else self.rebound
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def fixed_resolver(answers: dict[str, list[str]]):
    """``host -> [addresses]``, all returned at once (a round-robin answer)."""
    def resolve(host: str, port: int) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(-2, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in answers[host]]
    return resolve


def trickle(total: int, pause: float):
    """An answer that sends ``total`` bytes one at a time, ``pause`` seconds apart."""
    def answer(h):
        h.send_response(200)
        h.send_header("Content-Length", str(total))
        h.end_headers()
        try:
            for _ in range(total):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass
        return None
    return answer


def allow_outbound(services, *entries: str) -> None:
    """Set the services' MICROCRED_OUTBOUND_ALLOW to ``entries`` (as a deployment would)."""
    services.settings.outbound_allow = list(entries)
    services.__dict__.pop("outbound", None)  # rebuilt from the settings on next use
