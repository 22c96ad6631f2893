"""What the load benchmarks share (not a benchmark: ``tests/benchmarks`` skips files starting with ``_``).

* a throw-away PostgreSQL database (:func:`make_database`, :func:`drop_database`);
* ``microcred serve`` (gunicorn) on a free loopback port, with its processes' CPU time
  (:class:`Server`);
* one issued credential of the demo definition (:func:`issue_one`);
* a closed-loop load generator: N keep-alive clients for a bounded time, spread over a few
  client *processes* so that the Python clients are not limited by one GIL (:func:`drive`);
* percentiles and a statement counter on an engine (:func:`count_statements`).
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_PG = os.environ.get("MICROCRED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(pg: str = DEFAULT_PG) -> tuple[str, str]:
    """Create an empty PostgreSQL database on the server of ``pg``; return (its URL, its name)."""
    import psycopg
    from sqlalchemy.engine import make_url
    base = make_url(pg.replace("postgresql+psycopg", "postgresql"))
    name = f"mc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str, pg: str = DEFAULT_PG) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    base = make_url(pg.replace("postgresql+psycopg", "postgresql"))
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a benchmark instance (development mode: it creates its schema)."""
    from plugin.storage.secrets import generate_kek
    instance = tempfile.mkdtemp(prefix="mc-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(MICROCRED_ENV="development", DATABASE_URL=database_url, MICROCRED_BASE_URL=f"http://127.0.0.1:{port}",
               MICROCRED_SECRET_KEY="b" * 48, MICROCRED_KEK=generate_kek(), MICROCRED_INSTANCE_DIR=instance,
               MICROCRED_LOG_LEVEL="WARNING", MICROCRED_CONTEXTS_FETCH="false", MICROCRED_MAIL_BACKEND="file",
               MICROCRED_RATELIMIT_VERIFY="10000000 per minute", MICROCRED_RATELIMIT_WEBHOOK="10000000 per minute",
               # As in production: jobs run in `microcred worker`, not in a thread of each web process.
               MICROCRED_EMBEDDED_WORKER="false")
    env.update(extra)
    return env


def issue_one(services, *, sub: str = "bench-learner-1") -> str:
    """Issue one credential of the demo definition (every Annex I element); return its public id."""
    from plugin.issuance import service as issuance
    from plugin.storage.models import Learner
    from tests.bridges_support import make_definition
    with services.session() as s:
        definition = make_definition(s, policy={"source": "manual"}, services=services)
        learner = Learner(platform_issuer="https://lms.example.org", sub=sub, name="Camille Martin",
                          email="camille.martin@example.org", locale="fr")
        s.add(learner)
        s.flush()
        row, _ = issuance.award(s, services, definition_id=definition.id, learner_id=learner.id,
                                display_name=learner.name, actor="bench")
        return row.public_id


def wait_up(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"microcred serve did not answer on port {port}")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (Linux /proc; 0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


class Server:
    """``microcred serve`` (gunicorn) in its own process group; ``cpu()`` sums master and workers."""

    def __init__(self, env: dict[str, str], port: int, *, workers: int = 2, threads: int = 4):
        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "plugin", "serve", "--host", "127.0.0.1", "--port",
                                      str(port), "--workers", str(workers), "--threads", str(threads)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        try:
            wait_up(port)
        except SystemExit:
            self.stop()
            raise

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)]

    def cpu(self) -> float:
        return _cpu_seconds(self.pids())

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def summarise(latencies: list[float], errors: int, seconds: float) -> dict:
    latencies = sorted(latencies)
    return {"requests": len(latencies), "errors": errors, "seconds": round(seconds, 2),
            "rps": round(len(latencies) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(pct(latencies, 50) * 1000, 1), "p90_ms": round(pct(latencies, 90) * 1000, 1),
            "p99_ms": round(pct(latencies, 99) * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0}


def get_action(paths: list[str], headers: dict):
    """The default unit of work: one keep-alive GET of the next path, 200 expected."""
    def action(conn: http.client.HTTPConnection, i: int) -> int:
        conn.request("GET", paths[i % len(paths)], headers=headers)
        resp = conn.getresponse()
        resp.read()
        return 1 if resp.status == 200 else -resp.status
    return action


def _client_process(port: int, action, threads: int, seconds: float, start_at: float, offset: int, out) -> None:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad, i = [], {}, offset + k
        while time.time() < start_at:
            time.sleep(0.001)
        stop = start_at + seconds
        while time.time() < stop:
            i += threads * 1000
            t0 = time.perf_counter()
            try:
                ok = action(conn, i)
            except (OSError, http.client.HTTPException) as exc:
                ok = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok != 1:
                what = str(-ok) if isinstance(ok, int) else ok
                bad[what] = bad.get(what, 0) + 1
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            for what, n in bad.items():
                errors[what] = errors.get(what, 0) + n

    ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.send((latencies, errors))
    out.close()


def drive(port: int, paths: list[str] | str | None, headers: dict | None, clients: int, seconds: float,
          processes: int = 2, action=None) -> dict:
    """``clients`` concurrent keep-alive clients spread over ``processes`` client processes, each
    repeating ``action(conn, i)`` (default: GET the next of ``paths``; it returns 1, or -1 for an
    error) for ``seconds``; returns units of work per second and latency percentiles."""
    if action is None:
        paths = [paths] if isinstance(paths, str) else list(paths)
        action = get_action(paths, headers or {})
    processes = max(1, min(processes, clients))
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + 0.5
    procs, pipes = [], []
    for n in range(processes):
        threads = clients // processes + (1 if n < clients % processes else 0)
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_client_process, args=(port, action, threads, seconds, start_at, n * 100, send))
        p.start()
        procs.append(p)
        pipes.append(recv)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    for recv in pipes:
        got, bad = recv.recv()
        latencies += got
        for what, n in bad.items():
            errors[what] = errors.get(what, 0) + n
    for p in procs:
        p.join()
    result = summarise(latencies, sum(errors.values()), seconds)
    result["error_kinds"] = errors  # HTTP status (or exception) -> count
    return result


class InProcess:
    """The same app in this process on a werkzeug thread, its SQL statements counted: what one
    unit of work costs the database (``statements_per(action, n)``)."""

    def __init__(self, services):
        from werkzeug.serving import make_server

        from plugin.app import create_app
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.app = create_app(services=services)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.counter = count_statements(services.engine)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def statements_per(self, action, n: int = 5, warm: int = 2) -> float:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for i in range(warm):
            assert action(conn, 10_000_000 + i) == 1
        self.counter[0] = 0
        for i in range(n):
            assert action(conn, 20_000_000 + i) == 1
        return self.counter[0] / n

    def stop(self) -> None:
        self.server.shutdown()


def count_statements(engine) -> list[int]:
    """A one-element counter of the SQL statements ``engine`` sends from now on."""
    from sqlalchemy import event
    counter = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: counter.__setitem__(0, counter[0] + 1))
    return counter


def machine() -> str:
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


def write_json(path: str | None, results: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(results, indent=2) + "\n")
