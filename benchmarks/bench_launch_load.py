#!/usr/bin/env python3
"""LTI launches under load against ``microcred serve`` + PostgreSQL (a script, not a test).

    .venv/bin/python benchmarks/bench_launch_load.py [--clients 50] [--seconds 20] [--workers 2] [--threads 8]
        [--learners 1000] [--client-processes 2] [--pg URL] [--json out.json]

1. creates a throw-away PostgreSQL database with a course whose credential is enabled, and
   the sandbox LTI platform (``plugin.sandbox``) on a loopback port, registered;
2. starts ``microcred serve`` (gunicorn) on a free loopback port;
3. N concurrent clients (threads in a few processes, keep-alive connections) each repeat a
   whole learner launch: the platform's login initiation (``GET /lti/login``), the id_token
   form post (``POST /lti/launch``, RS256-signed by the client as the platform would) and the
   learner's status page it redirects to; learners are drawn from ``--learners`` subs;
4. prints launches/s (three requests each), p50/p90/p99 of a whole launch, the server's
   CPU per launch (gunicorn master + workers, from /proc) and the SQL statements of one
   launch (the same app in this process, statements counted).

The clients sign an id_token per launch (RSA-2048, ~1-2 ms of client CPU) on the same
cores as the server: read the server CPU per launch, which does not depend on the machine's
load, together with the wall-clock figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (DEFAULT_PG, InProcess, Server, bench_env, drive, drop_database, free_port,  # noqa: E402
                      machine, make_database, write_json)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
COURSE = "bench-course-1"


def launch_action(platform, tool_url: str, learners: int):
    """One whole learner launch over a keep-alive connection (1: done, -1: refused)."""
    def action(conn, i: int) -> int:
        sub = f"bench-learner-{i % learners}"
        query = urlencode({"iss": platform.issuer, "login_hint": sub, "target_link_uri": tool_url + "/lti/launch",
                           "client_id": platform.config.client_id,
                           "lti_deployment_id": platform.config.deployment_id})
        conn.request("GET", "/lti/login?" + query)
        r = conn.getresponse()
        r.read()
        if r.status != 302:
            return -r.status
        auth = {k: v[0] for k, v in parse_qs(urlsplit(r.getheader("Location")).query).items()}
        now = int(time.time())
        token = platform.sign({
            "iss": platform.issuer, "aud": platform.config.client_id, "sub": sub, "iat": now, "exp": now + 300,
            "nonce": auth["nonce"], LTI + "version": "1.3.0", LTI + "deployment_id": platform.config.deployment_id,
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "target_link_uri": tool_url + "/lti/launch",
            LTI + "resource_link": {"id": "rl-1"}, LTI + "roles": [LEARNER],
            LTI + "context": {"id": COURSE, "title": "Bench course"},
            "name": f"Learner {sub}", "email": f"{sub}@example.org"})
        conn.request("POST", "/lti/launch", urlencode({"id_token": token, "state": auth["state"]}),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        if r.status != 303:
            return -r.status
        page = urlsplit(r.getheader("Location"))
        conn.request("GET", page.path + "?" + page.query)
        r = conn.getresponse()
        r.read()
        return 1 if r.status == 200 else -r.status
    return action


def prepare(services, platform) -> None:
    from lti.platforms import PlatformInput, register_platform
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import demo_definition, demo_profile
    from plugin.storage.models import Course
    reg = platform.registration()
    with services.session() as s:
        p, _ = register_platform(s, PlatformInput(
            issuer=reg["issuer"], client_id=reg["client_id"], deployment_ids=[reg["deployment_id"]],
            auth_login_url=reg["auth_login_url"], auth_token_url=reg["auth_token_url"],
            key_set_url=reg["key_set_url"], name=reg["name"], product="sandbox"))
        issuer = issuance.create_issuer(s, services, "bench", demo_profile(), actor="bench")
        course = Course(platform_issuer=p.issuer, context_id=COURSE, title="Bench course", platform_id=p.id)
        s.add(course)
        s.flush()
        version = issuance.save_definition(s, course, demo_definition(), "bench", issuer,
                                           policy={"source": "openedx_webhook", "issuance": "automatic"})
        issuance.set_enabled(s, version.definition, True, actor="bench")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--learners", type=int, default=1000)
    ap.add_argument("--client-processes", type=int, default=2)
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    from tests.lti.fixtures import start_sandbox
    port = free_port()
    tool_url = f"http://127.0.0.1:{port}"
    platform, platform_server = start_sandbox(tool_url)
    db_url, db_name = make_database(args.pg)
    env = bench_env(db_url, port, MICROCRED_OUTBOUND_ALLOW=f"127.0.0.1:{platform_server.port}")
    os.environ.update(env)
    server = in_process = None
    results: dict = {"clients": args.clients, "workers": args.workers, "threads": args.threads,
                     "learners": args.learners, "machine_before": machine()}
    try:
        from plugin.services import build_services
        from plugin.settings import Settings
        services = build_services(Settings.from_env())
        prepare(services, platform)
        action = launch_action(platform, tool_url, args.learners)
        in_process = InProcess(services)
        results["statements_per_launch"] = in_process.statements_per(action)
        in_process.stop()
        server = Server(env, port, workers=args.workers, threads=args.threads)
        drive(port, None, None, min(args.clients, 4), 1.0, 1, action=action)  # warm every worker
        cpu0 = server.cpu()
        results["launch"] = drive(port, None, None, args.clients, args.seconds, args.client_processes,
                                  action=action)
        cpu = server.cpu() - cpu0
        done = results["launch"]["requests"]
        results["server_cpu_ms_per_launch"] = round(cpu / done * 1000, 2) if done else None
        results["machine_after"] = machine()
        services.engine.dispose()
    finally:
        if server is not None:
            server.stop()
        platform_server.close()
        drop_database(db_name, args.pg)

    r = results["launch"]
    print(f"microcred serve: {args.workers} workers x {args.threads} threads, PostgreSQL; {args.clients} clients "
          f"on loopback; {results['machine_before']} before, {results['machine_after']} after")
    print(f"launches (login + launch + status page): {r['rps']}/s ({r['rps'] * 3:.0f} requests/s), "
          f"p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']} {r['error_kinds'] or ''}")
    print(f"server CPU per launch: {results['server_cpu_ms_per_launch']} ms; "
          f"SQL statements per launch: {results['statements_per_launch']:.1f}")
    write_json(args.json_out, results)


if __name__ == "__main__":
    main()
