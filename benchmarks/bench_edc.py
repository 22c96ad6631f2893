#!/usr/bin/env python3
"""What a European Digital Credential costs (a script, not a test).

    .venv/bin/python benchmarks/bench_edc.py [--repeat 20]

Measures, per operation, wall-clock and CPU seconds of this process: loading the shipped
SHACL shapes and ontology (once per process), composing an EDC, JSON-LD -> RDF, pyshacl
validation against both EDC profiles (uncached, on a new document each time) and from the
report cache, a JAdES seal (RSA-2048 and P-256) and its verification.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(label, fn, repeat):
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(repeat):
        fn(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:55} {1000 * wall / repeat:9.1f} ms wall {1000 * cpu / repeat:9.1f} ms CPU  (x{repeat})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    n = parser.parse_args().repeat

    from plugin.composition.edc import EdcLearner, compose_edc
    from plugin.issuance.demo_data import demo_definition, demo_profile
    from plugin.signing import jades
    from plugin.verification import shacl
    from tests.edc_support import make_seal

    profile, definition = demo_profile(), demo_definition()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def doc(i):
        return compose_edc(profile, definition, EdcLearner(subject_id=f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                                                           name=f"Learner {i}"), None,
                           credential_id=f"https://tool.example/credentials/{i}", issued=start + timedelta(seconds=i),
                           image_png=b"\x89PNG\r\n\x1a\n" + b"\0" * 20000)

    timed("load shapes + ontology (first call, then cached)", lambda i: shacl.graphs(), 1)
    shacl.validate_edc(doc(10 ** 6))  # warm pyld's context cache
    timed("compose an EDC", doc, n)
    docs = [doc(i) for i in range(n)]
    timed("JSON-LD -> RDF (pinned contexts, undefined terms refused)", lambda i: shacl.to_graph(docs[i]), n)
    timed("pyshacl: both EDC profiles, new document", lambda i: shacl.validate_edc(docs[i]), n)
    timed("pyshacl: same document again (report cache)", lambda i: shacl.validate_edc(docs[i]), n)
    for kind in ("rsa", "ec"):
        m = make_seal(kind)
        sealed = [None] * n
        timed(f"JAdES seal ({'RSA-2048 RS256' if kind == 'rsa' else 'P-256 ES256'})",
              lambda i: sealed.__setitem__(i, jades.seal(docs[i], m.key, m.chain)), n)
        timed(f"JAdES verify + chain ({kind})", lambda i: jades.verify(sealed[i], anchors=[m.ca]), n)


if __name__ == "__main__":
    main()
