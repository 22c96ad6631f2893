"""How long from "the LMS sends a passing event" to "the tool has issued the signed credential".

Runs the tool on 127.0.0.1 (SQLite in a temporary folder, or DATABASE_URL), registers a
webhook key, then sends N signed passing events for N different learners over HTTP, one
after another and then C at a time, and prints latency percentiles (p50, p95, p99, max)
and throughput. ``--postgres`` runs on a throw-away database of the local PostgreSQL server
(``MICROCRED_TEST_POSTGRES_URL``) instead.

Each event issues one credential with the real engine: webhook verification, replay
protection, evidence, policy, composition, the status-list slot, both signatures
(eddsa-rdfc-2022 and RS256 VC-JWT) and the database round trips.

``--readers R`` adds R clients reading one credential's verification (``/verify/<id>``, JSON)
in a loop during the concurrent run, and prints their latency: what a verifier waits while
the tool is issuing.

    python benchmarks/webhook_latency.py [N] [C] [--postgres] [--readers R]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from werkzeug.serving import make_server

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from plugin.settings import Settings  # noqa: E402
from plugin.storage.secrets import generate_kek  # noqa: E402
from tests.bridges_support import SigningKey, make_definition, make_platform, passing_claims  # noqa: E402


def percentile_line(times: list[float]) -> str:
    times = sorted(times)

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p / 100 * len(times)))] * 1000
    return f"p50={pct(50):.1f} ms p95={pct(95):.1f} ms p99={pct(99):.1f} ms max={times[-1] * 1000:.1f} ms"


def main(n: int = 200, concurrency: int = 8, database_url: str | None = None, readers: int = 0) -> None:
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    from plugin.app import create_app
    from plugin.services import build_services
    tmp = tempfile.mkdtemp()

    class Holder:
        app = None

        def __call__(self, environ, start_response):
            return self.app(environ, start_response)
    holder = Holder()
    server = make_server("127.0.0.1", 0, holder, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    settings = Settings.from_env({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": tmp, "MICROCRED_BASE_URL": base,
                                  "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.sqlite3",
                                  "MICROCRED_SECRET_KEY": "x" * 40, "MICROCRED_KEK": generate_kek()})
    services = build_services(settings)
    holder.app = create_app(services=services)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id,
                        services=services)
    url = base + "/api/webhooks/openedx"
    http = requests.Session()

    def verify_url() -> str:
        from sqlalchemy import select

        from plugin.storage.models import IssuedCredential
        with services.session() as s:
            return f"{base}/verify/{s.scalars(select(IssuedCredential.public_id).limit(1)).one()}"

    def read_loop(address: str, stop: threading.Event, out: list[float]) -> None:
        reader = requests.Session()
        while True:  # at least one read, however short the run
            started = time.perf_counter()
            resp = reader.get(address, headers={"Accept": "application/json"}, timeout=60)
            assert resp.status_code == 200, resp.text[:200]
            out.append(time.perf_counter() - started)
            if stop.is_set():
                return

    def send(i: int) -> float:
        token = key.sign(passing_claims(sub=f"ext-{i}", username=f"u{i}", aud=url))
        started = time.perf_counter()
        resp = http.post(url, data=token, headers={"Content-Type": "application/jwt"}, timeout=30)
        took = time.perf_counter() - started
        assert resp.status_code == 200 and resp.json()["results"][0]["action"] == "issued", resp.text
        return took

    read_times: list[float] = []
    for label, workers in (("sequential", 1), (f"{concurrency} at a time", concurrency)):
        offset = 0 if workers == 1 else n
        stop = threading.Event()
        reader_threads = []
        if workers > 1 and readers:
            reader_threads = [threading.Thread(target=read_loop, args=(verify_url(), stop, read_times))
                              for _ in range(readers)]
            for t in reader_threads:
                t.start()
        started = time.perf_counter()
        if workers == 1:
            times = [send(offset + i) for i in range(n)]
        else:
            with ThreadPoolExecutor(workers) as pool:
                times = list(pool.map(lambda i: requests.post(url, data=key.sign(passing_claims(
                    sub=f"ext-{offset + i}", aud=url)), headers={"Content-Type": "application/jwt"},
                    timeout=30).elapsed.total_seconds(), range(n)))
        wall = time.perf_counter() - started
        stop.set()
        for t in reader_threads:
            t.join()
        print(f"{settings.database_url.split(':')[0]:10s} {label:14s} n={n} {percentile_line(times)}  "
              f"{n / wall:.1f} webhooks/s  (load average {os.getloadavg()[0]:.1f})")
        if read_times:
            print(f"{settings.database_url.split(':')[0]:10s} {'readers':14s} {readers} clients reading "
                  f"/verify/<id> meanwhile: n={len(read_times)} {percentile_line(read_times)}")
    server.shutdown()
    services.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200, help="passing events per run")
    parser.add_argument("concurrency", nargs="?", type=int, default=8, help="events at a time in the second run")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database")
    parser.add_argument("--readers", type=int, default=0,
                        help="clients reading a credential's verification (JSON) during the concurrent run")
    args = parser.parse_args()
    if not args.postgres:
        main(args.n, args.concurrency, os.environ.get("DATABASE_URL"), args.readers)
    else:
        from tests.conftest import _drop_pg_database, _fresh_pg_database
        url, name = _fresh_pg_database()
        try:
            main(args.n, args.concurrency, url, args.readers)
        finally:
            _drop_pg_database(name)
