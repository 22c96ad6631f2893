"""Time ``microcred demo --headless`` (the whole story over HTTP) on a throw-away instance.

    python benchmarks/demo_headless.py [--runs 3] [--database-url URL]

Each run starts the tool and the sandbox platform, then deep link -> enable -> learner
launch -> signed webhook pass -> automatic issuance -> claim -> files -> verification.
Target: well under 30 s a run (the end-to-end test runs it on SQLite and PostgreSQL).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    microcred = str(Path(sys.executable).parent / "microcred")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
        env.update(MICROCRED_INSTANCE_DIR=str(Path(tmp) / "instance"), MICROCRED_CONTEXTS_FETCH="false")
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        for i in range(args.runs):
            started = time.perf_counter()
            subprocess.run([microcred, "demo", "--headless", "--out", str(Path(tmp) / f"out{i}")], env=env,
                           check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    print(f"microcred demo --headless: {args.runs} runs, median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (first run includes creating the database and keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
