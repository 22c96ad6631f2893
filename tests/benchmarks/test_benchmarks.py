"""Every benchmark script runs, with tiny parameters, so that none rots between measurements.

A script in ``benchmarks/`` must have an entry in ``RUNS`` (a test fails otherwise); files
starting with ``_`` are shared code. ``bench_bulk.py`` is left to the bulk pipeline's own
tests. The scripts print figures; here only their exit status and the lines
that carry the figures are checked, never a duration.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, REQUIRE_PG, _pg_available

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SLOW = pytest.mark.slow
PG = pytest.mark.postgres

# script -> (tiny arguments, text its output must contain, marks)
RUNS: dict[str, tuple[list[str], list[str], list]] = {
    "bench_credentials.py": (["--seconds", "0.05", "--cores", "1", "--no-js"], ["per CPU-s"], []),
    "bench_edc.py": (["--repeat", "1"], ["JAdES verify"], []),
    "bench_oid4vci.py": (["--n", "1"], ["dc+sd-jwt", "per credential"], [SLOW]),
    "bench_issued_list.py": (["--rows", "60", "--repeat", "1"], ["CSV export"], []),
    "bench_status_alloc.py": (["--calls", "3", "--batch", "5"], ["statements for the batch"], []),
    "bench_launch_load.py": (["--clients", "2", "--seconds", "1", "--workers", "1", "--threads", "2",
                              "--learners", "5"], ["server CPU per launch", "SQL statements per launch"], [SLOW, PG]),
    "bench_verify_load.py": (["--clients", "2", "--seconds", "0.5", "--workers", "1", "--threads", "2",
                              "--verify-seconds", "0.05"], ["html_after_revocation", "uncached verification",
                                                            "CPU ms/req", "views served"], [SLOW, PG]),
    "demo_headless.py": (["--runs", "1"], ["microcred demo --headless: 1 runs"], [SLOW]),
    "lti_launch.py": (["--launches", "2"], ["2 launches: median"], []),
    "webhook_latency.py": (["3", "2", "--readers", "1"], ["sequential", "2 at a time", "p99=", "reading /verify"], []),
    "worker_takeover.py": (["--rows", "45", "--lease", "3"], ['"all_reported_issued": true'], [SLOW]),
}
NOT_HERE = {"bench_bulk.py"}


def test_every_benchmark_has_a_smoke_run():
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")} - NOT_HERE
    assert scripts == set(RUNS), "give each benchmark tiny arguments in RUNS"


@pytest.mark.parametrize("script", [pytest.param(name, marks=marks) for name, (_, _, marks) in RUNS.items()])
def test_benchmark_runs(script, tmp_path):
    args, expected, marks = RUNS[script]
    if PG in marks and not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"MICROCRED_REQUIRE_POSTGRES=1 but PostgreSQL at {PG_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_") and k != "DATABASE_URL"}
    env["MICROCRED_TEST_POSTGRES_URL"] = PG_URL
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for text in expected:
        assert text in done.stdout, done.stdout[-3000:]
