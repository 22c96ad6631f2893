"""``.ci/audit-dependencies``: a known vulnerability fails CI, an unreachable advisory service does not."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".ci" / "audit-dependencies"


def _run(tmp_path, report: dict | None, stderr: str = "") -> subprocess.CompletedProcess:
    """The script with a stand-in pip-audit that writes ``report`` (or nothing, saying ``stderr``)."""
    venv = tmp_path / "audit-venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "pip-audit"
    body = "import sys, json\nargs = sys.argv\n"
    if report is not None:
        body += f"open(args[args.index('-o') + 1], 'w').write({json.dumps(json.dumps(report))})\n"
    body += f"sys.stderr.write({stderr!r})\nsys.exit({0 if report is not None and not stderr else 1})\n"
    fake.write_text(f"#!{sys.executable}\n{body}")
    fake.chmod(0o755)
    env = {**os.environ, "MICROCRED_AUDIT_VENV": str(venv)}
    return subprocess.run([sys.executable, str(SCRIPT), str(Path(sys.executable).parent.parent)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_known_vulnerability_fails_naming_it(tmp_path):
    done = _run(tmp_path, {"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "requests", "version": "2.0.0", "vulns": [{"id": "PYSEC-2023-74", "aliases": ["CVE-2023-32681"],
                                                             "fix_versions": ["2.31.0"]}]}]})
    assert done.returncode == 1
    assert "requests 2.0.0: PYSEC-2023-74 (CVE-2023-32681); fixed in 2.31.0" in done.stderr


def test_a_clean_audit_passes_and_says_how_many(tmp_path):
    done = _run(tmp_path, {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]})
    assert done.returncode == 0
    assert "1 installed dependencies audited" in done.stdout and "no known vulnerability" in done.stdout


@pytest.mark.parametrize("report, stderr", [
    (None, "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded"),
    ({"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}, ""),
])
def test_an_unreachable_service_does_not_fail_but_says_so(tmp_path, report, stderr):
    done = _run(tmp_path, report, stderr)
    assert done.returncode == 0
    assert "NOT audited" in done.stderr


def test_pip_audit_failing_otherwise_fails(tmp_path):
    done = _run(tmp_path, None, "Traceback: something unexpected")
    assert done.returncode == 1 and "pip-audit failed" in done.stderr
