#!/usr/bin/env python3
"""An EU wallet's whole OpenID4VCI flow against `microcred serve` on loopback, per format
(a script, not a test): metadata, token, nonce, proof, credential; prints the median and
90th percentile of the wallet's wall-clock time per credential received.

    .venv/bin/python benchmarks/bench_oid4vci.py [--n 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.delivery.oid4vci_wallet import Wallet  # noqa: E402
from tests.web.oid4vci_support import start_server, stop_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    server = start_server(Path(tempfile.mkdtemp(prefix="bench-oid4vci-")))
    try:
        public_id = server.new_credential("bench")
        for fmt, alg in (("ldp_vc", "EdDSA"), ("jwt_vc_json", "EdDSA"), ("dc+sd-jwt", "ES256")):
            uris = [server.offer(public_id, fmt)[0] for _ in range(args.n + 1)]
            Wallet(alg=alg).receive(uris.pop())  # warm-up
            times = []
            for uri in uris:
                wallet = Wallet(alg=alg)
                start = time.perf_counter()
                wallet.receive(uri)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            print(f"{fmt:12s} n={args.n}: median {statistics.median(times):6.1f} ms, "
                  f"p90 {times[int(0.9 * (len(times) - 1))]:6.1f} ms per credential (5 HTTP requests)")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
