#!/usr/bin/env python3
"""What reserving a status-list index costs, on an empty list and on a nearly full one
(a script, not a test).

    .venv/bin/python benchmarks/bench_status_alloc.py [--database-url URL] [--calls 2000] [--batch 1000]

Creates an issuer in a fresh database (SQLite in a temporary folder unless
``--database-url`` names an empty PostgreSQL database), then times
``plugin.status.service.allocate_many``: ``--calls`` single reservations (one transaction
each, as ``award`` does) at the start of a list and again after moving the list's counter
to 1,000 positions before its end, and batches of ``--batch`` (one transaction each, as
the bulk pipeline will). Prints microseconds per index and the SQL statements per call.
The old scheme ran ``SELECT count(*)`` over the list's slots for every credential and
redrew on collision, so its cost grew with the list; this one must not.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mc-bench-status-")
    from plugin.storage.secrets import generate_kek
    os.environ.update({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": tmp,
                       "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
                       "MICROCRED_BASE_URL": "http://tool.test", "MICROCRED_SECRET_KEY": "x" * 40,
                       "MICROCRED_KEK": generate_kek(), "MICROCRED_CONTEXTS_FETCH": "false"})
    from sqlalchemy import event, select, text

    from plugin.issuance.demo_data import demo_profile
    from plugin.issuance.service import create_issuer
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.status import service as status
    from plugin.storage.models import StatusList

    services = build_services(Settings.from_env())
    with services.session() as s:
        issuer_id = create_issuer(s, services, "bench", demo_profile()).id
        status.allocate_many(s, issuer_id, 1)
    statements = [0]
    event.listen(services.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))

    def singles(label: str) -> None:
        statements[0] = 0
        start = time.perf_counter()
        for _ in range(args.calls):
            with services.session() as s:
                status.allocate_many(s, issuer_id, 1)
        took = time.perf_counter() - start
        print(f"{label:<28}: {took / args.calls * 1e6:8.0f} us per index, "
              f"{statements[0] / args.calls:.1f} statements per call (transaction included)")

    singles("single, empty list")
    with services.session() as s:  # move the counter near the end of the list
        sl = s.scalars(select(StatusList)).one()
        near_end = sl.size - args.calls - args.batch - 1000
        if services.engine.dialect.name == "postgresql":
            s.execute(text(f"SELECT setval('status_list_pos_{sl.id}', {near_end})"))
        else:
            sl.next_position = near_end
    singles(f"single, {near_end:,} used")
    statements[0] = 0
    start = time.perf_counter()
    with services.session() as s:
        got = status.allocate_many(s, issuer_id, args.batch)
    took = time.perf_counter() - start
    print(f"{'batch of ' + str(args.batch):<28}: {took / args.batch * 1e6:8.0f} us per index, "
          f"{statements[0]} statements for the batch, {len({r.index for r in got})} distinct")
    services.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
