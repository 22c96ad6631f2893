#!/usr/bin/env python3
"""Load on the public verification page against ``microcred serve`` + PostgreSQL (a script, not a test).

    .venv/bin/python benchmarks/bench_verify_load.py [--clients 50] [--seconds 10] [--workers 2] [--threads 8]
        [--client-processes 2] [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--json out.json]

1. creates a throw-away PostgreSQL database and issues one credential in it (the demo issuer
   and definition, ``benchmarks/_support.issue_one``);
2. starts ``microcred serve`` (gunicorn) on a free loopback port against that database;
3. drives N concurrent clients (threads in a few processes, one keep-alive ``http.client``
   connection each) for a bounded time against ``/verify/<id>`` as HTML (a person) and as
   JSON (a machine), then the same page after a revocation;
4. prints requests/s, latency percentiles, the server's CPU per request (gunicorn master
   and workers, from /proc), the SQL statements of one request (the same app in this
   process, counted) and the cost of one uncached verification.

The page caches each credential's report until its status changes
(``plugin.web.verify.cache``), so steady-state views cost one fingerprint query and a
template render; the first view in each worker pays for a full verification.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (DEFAULT_PG, InProcess, Server, bench_env, drive, drop_database, free_port,  # noqa: E402
                      get_action, issue_one, machine, make_database, write_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--client-processes", type=int, default=2)
    ap.add_argument("--verify-seconds", type=float, default=2.0, help="how long to time uncached verifications")
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    port = free_port()
    db_url, db_name = make_database(args.pg)
    env = bench_env(db_url, port)
    os.environ.update(env)
    server = None
    results: dict = {"clients": args.clients, "workers": args.workers, "threads": args.threads,
                     "seconds": args.seconds, "cpus": os.cpu_count(),
                     "loadavg_before": os.getloadavg()[0]}
    try:
        from sqlalchemy import select

        from plugin.issuance import service as issuance
        from plugin.services import build_services
        from plugin.settings import Settings
        from plugin.storage.models import IssuedCredential
        from plugin.verification.resolver import tool_resolver
        from plugin.verification.verify import verify
        services = build_services(Settings.from_env())
        public_id = issue_one(services)

        # The cost of one full verification (what the cache saves), in this process.
        with services.session() as s:
            doc = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one().document
        resolver = tool_resolver(services)
        verify(doc, resolver)
        t0, n = time.perf_counter(), 0
        while n == 0 or time.perf_counter() - t0 < args.verify_seconds:
            assert verify(doc, resolver).ok
            n += 1
        results["uncached_verify_ms"] = round((time.perf_counter() - t0) / n * 1000, 2)

        path = f"/verify/{public_id}"
        html, as_json = {"Accept": "text/html"}, {"Accept": "application/json"}
        in_process = InProcess(services)
        results["statements_per_request"] = {name: in_process.statements_per(get_action([path], headers))
                                             for name, headers in (("html", html), ("json", as_json))}
        in_process.stop()
        from plugin.issuance import visits
        visits.flush(services)  # the in-process views, so the server's are counted from here

        def counted() -> int:
            with services.session() as s:
                row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
                return row.page_views + row.verifications
        counted_before = counted()
        served = 0
        server = Server(env, port, workers=args.workers, threads=args.threads)
        for _ in range(args.workers * args.threads * 2):  # first view in each worker verifies
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", path)
            c.getresponse().read()
            served += 1

        def measured(name, headers, seconds):
            cpu0 = server.cpu()
            results[name] = drive(port, path, headers, args.clients, seconds, args.client_processes)
            done = results[name]["requests"]
            results[name]["server_cpu_ms"] = round((server.cpu() - cpu0) / done * 1000, 2) if done else None
        measured("html", html, args.seconds)
        measured("json", as_json, args.seconds)
        with services.session() as s:
            row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
            issuance.revoke(s, row, "benchmark", actor="bench")
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path, headers=as_json)
        status = json.loads(c.getresponse().read())["status"]
        assert status == "revoked", status
        measured("html_after_revocation", html, args.seconds / 2)
        results["loadavg_after"] = os.getloadavg()[0]
        served += 1 + sum(results[k]["requests"] for k in ("html", "json", "html_after_revocation"))
        # Views are counted in each worker and written in batches; a graceful stop writes the rest.
        server.stop()
        server = None
        results["views_served"], results["views_counted"] = served, counted() - counted_before
        services.engine.dispose()
    finally:
        if server is not None:
            server.stop()
        drop_database(db_name, args.pg)

    print(f"microcred serve: {args.workers} workers x {args.threads} threads, PostgreSQL; "
          f"{args.clients} clients on loopback; {machine()} after (load {results['loadavg_before']:.1f} before)")
    print(f"one uncached verification (in-process): {results['uncached_verify_ms']} ms")
    print(f"{'scenario':<24}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
          f"{'CPU ms/req':>12}{'SQL/req':>9}")
    for name in ("html", "json", "html_after_revocation"):
        r = results[name]
        sql = results["statements_per_request"]["json" if name == "json" else "html"]
        print(f"{name:<24}{r['rps']:>8}{r['p50_ms']:>9}{r['p90_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}"
              f"{r['errors']:>8}{r['server_cpu_ms']:>12}{sql:>9.1f}")
    print(f"views served: {results['views_served']}, counted in the database after the server's stop: "
          f"{results['views_counted']}")
    write_json(args.json_out, results)
    if results["views_counted"] != results["views_served"]:
        sys.exit(f"views lost or counted twice: {results['views_served']} served, {results['views_counted']} counted")


if __name__ == "__main__":
    main()
