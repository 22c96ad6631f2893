"""Time full LTI launches over real HTTP: platform login initiation -> tool login -> platform
auth -> tool launch -> role page, with the sandbox platform, on a throw-away SQLite database.

    python benchmarks/lti_launch.py [--launches 50] [--database-url URL]

Prints the median and 95th-percentile time of one whole launch (four HTTP round trips, an
RS256 signature and its verification, the nonce insert and the learner/course upserts).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    from plugin.sandbox.demo import start_demo
    from plugin.settings import Settings
    from plugin.storage.secrets import generate_kek
    from tests.lti.fixtures import Browser

    with tempfile.TemporaryDirectory() as tmp:
        def settings_for(base):
            return Settings.from_env({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": tmp,
                                      "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
                                      "MICROCRED_KEK": generate_kek(), "MICROCRED_SECRET_KEY": "x" * 40},
                                     base_url=base)
        handle = start_demo(settings_for, 0, 0)
        try:
            users = ["sandbox-instructor", "sandbox-learner-1", "sandbox-learner-2"]
            Browser(requests.Session()).launch(handle.platform, users[0])  # warm-up: keys, JWKS cache
            times = []
            for i in range(args.launches):
                browser = Browser(requests.Session())
                start = time.perf_counter()
                page = browser.launch(handle.platform, users[i % len(users)])
                times.append((time.perf_counter() - start) * 1000)
                assert page.status_code == 200, page.status_code
        finally:
            handle.stop()
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{len(times)} launches: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"max {times[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
