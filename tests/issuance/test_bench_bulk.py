"""The bulk benchmark runs end to end with tiny parameters, so it cannot rot (figures are not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_bulk.py"


def test_bench_bulk_issues_every_learner_and_prints_its_figures(database_url):
    args = [sys.executable, str(SCRIPT), "--learners", "20", "--json", "--workers", "1"]
    if database_url.startswith("postgresql"):
        args += ["--database-url", database_url]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["issued"] == 20 and out["counts"]["issued"] == 20 and out["job_status"] == "done"
    for figure in ("credentials_per_s", "credentials_per_cpu_s", "ratio_to_raw_ed25519", "peak_rss_mb"):
        assert out[figure] > 0, figure
    assert (out["postgres_backend_cpu_s"] is None) == database_url.startswith("sqlite")


def test_bench_bulk_refuses_a_learner_count_below_one():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--learners", "0"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "--learners must be at least 1" in proc.stderr
