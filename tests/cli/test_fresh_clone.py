"""The README's promise: a clone with nothing beside it, no ``MICROCRED_*`` variable and no
network issues and verifies credentials (``microcred demo --headless``).

The project's tracked files are copied into an empty folder (no shared folder or anything else
beside it) and the demo runs from that copy, in a subprocess whose environment holds no
``MICROCRED_*`` variable and no ``DATABASE_URL``: the embedded default (SQLite, generated keys)
and the contexts and schema shipped in the package. Every file it writes must verify, with
``microcred verify`` of the copy and, when installed, with the independent JavaScript verifiers.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _copy_of_the_project(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    clone = dest / "lonely" / "clone"
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert sorted(p.name for p in clone.parent.iterdir()) == ["clone"]  # nothing beside it
    return clone


def _bare_env(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MICROCRED_") and k not in ("DATABASE_URL", "PYTHONPATH")}
    env["PYTHONPATH"] = str(clone)  # the copy's code, not the checkout's editable install
    # No proxy, so an attempt to reach the network fails fast instead of hanging.
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(key, None)
    return env


@pytest.mark.slow
def test_headless_demo_in_a_lonely_clone_without_settings_issues_verifiable_files(tmp_path, request):
    clone = _copy_of_the_project(tmp_path)
    env = _bare_env(clone)
    where = subprocess.run([sys.executable, "-c", "import plugin; print(plugin.__file__)"], cwd=clone, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(clone), where

    out = tmp_path / "out"
    demo = subprocess.run([sys.executable, "-m", "plugin", "demo", "--headless", "--out", str(out)], cwd=clone,
                          env=env, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "authentic and valid" in demo.stdout
    assert (clone / "instance" / "microcred.sqlite3").is_file()  # the embedded default, in the copy

    edc = sorted(p for p in out.iterdir() if p.name.endswith((".edc.json", ".edc.jades.json", ".pem")))
    written = sorted(p for p in out.iterdir() if p.name != "documents.json" and p not in edc and p.is_file())
    assert {p.suffix for p in written} >= {".json", ".jwt", ".png", ".svg"}
    # The European Digital Credential: bare (labelled unsealed, passes the shapes) and sealed with
    # the demo's test seal (valid against the demo's trust anchor), from the copy alone.
    assert [p.name.split(".", 1)[1] for p in edc] == ["edc.jades.json", "edc.json", "pem"]
    for path, status in ((edc[0], "valid"), (edc[1], "unsealed")):
        check = subprocess.run([sys.executable, "-m", "plugin", "verify", str(path), "--json", "--documents",
                                str(out / "documents.json"), "--trust-anchors", str(edc[2])], cwd=clone, env=env,
                               capture_output=True, text=True, timeout=120)
        report = json.loads(check.stdout)
        assert report["status"] == status and check.returncode == (0 if status == "valid" else 1), check.stdout
        assert next(c for c in report["checks"] if c["name"] == "shapes")["ok"] is True
    for path in written:
        check = subprocess.run([sys.executable, "-m", "plugin", "verify", str(path), "--documents",
                                str(out / "documents.json"), "--json"], cwd=clone, env=env,
                               capture_output=True, text=True, timeout=120)
        report = json.loads(check.stdout)
        assert check.returncode == 0 and report["ok"] is True, (path.name, check.stdout, check.stderr)
        schema = next(c for c in report["checks"] if c["name"] == "schema")
        assert schema["ok"] is True, schema  # the bundled schema: never skipped

    # The demo pathway's credential (the third part completed it) verifies from the copy too.
    pathway = next(p for p in (out / "pathway").glob("*.json") if p.name != "documents.json")
    check = subprocess.run([sys.executable, "-m", "plugin", "verify", str(pathway), "--documents",
                            str(out / "pathway" / "documents.json"), "--json"], cwd=clone, env=env,
                           capture_output=True, text=True, timeout=120)
    assert json.loads(check.stdout)["ok"] is True, check.stdout

    from tests.js_verifiers import js_available
    if js_available() is None:
        js_verify = request.getfixturevalue("js_verify")
        documents = json.loads((out / "documents.json").read_text())
        credential = json.loads(next(p for p in written if p.suffix == ".json").read_text())
        token = next(p for p in written if p.suffix == ".jwt").read_text().strip()
        di, jwt = js_verify([credential, token], documents)
        assert di["digitalbazaar"]["verified"] is True, di
        assert di["verifier-core"]["signature"] is True and not di["verifier-core"]["errors"], di
        assert jwt["jose"]["verified"] is True, jwt
