"""Run the independent JavaScript verifiers (``tests/js/verify.mjs``) on our credentials.

The verifiers are npm packages pinned in ``tests/js/package.json`` (digitalbazaar's
``@digitalbazaar/vc`` stack, ``@digitalcredentials/verifier-core`` — the engine of the
Learner Credential Wallet and VerifierPlus — and ``jose``). ``.ci/run`` installs them with
``npm ci``; on a machine without them (no network) the tests that need them skip, except
when ``MICROCRED_REQUIRE_JS=1`` (set by ``.ci/run``), where their absence fails.

Use the ``js_verify`` fixture::

    results = js_verify([credential_dict, vc_jwt_string], documents)
    results[0]["digitalbazaar"]["verified"], results[0]["verifier-core"]["revocation"]
    results[1]["jose"]["verified"]

``jose`` passes options to npm jose's ``jwtVerify`` (``typ``, ``issuer``, ``subject``,
``requiredClaims``...), which then checks them as well as the signature and ``nbf``/``exp``.

``documents`` maps URLs and DIDs to what the tool serves (DID documents, status list
credentials, its extension context), e.g. ``documents.json`` written by
``microcred export`` / the headless demo; nothing reaches the network.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "verify.mjs"
REQUIRE_JS = os.environ.get("MICROCRED_REQUIRE_JS") == "1"


def js_available() -> str | None:
    """``None`` when the verifiers can run, else why not."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules" / "@digitalcredentials" / "verifier-core").is_dir():
        return f"the JavaScript verifiers are not installed (cd {JS_DIR} && npm ci)"
    return None


def run_js_verifiers(credentials: Iterable[Any], documents: dict[str, Any], *,
                     verifiers: Iterable[str] = ("digitalbazaar", "verifier-core", "jose"),
                     now: str | None = None, jose: dict[str, Any] | None = None,
                     timeout: float = 300) -> list[dict[str, Any]]:
    payload = {"credentials": list(credentials), "documents": documents, "verifiers": list(verifiers)}
    if now:
        payload["now"] = now
    if jose:
        payload["jose"] = jose
    proc = subprocess.run(["node", str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=timeout, cwd=JS_DIR)
    if proc.returncode != 0:
        raise RuntimeError(f"node verify.mjs exited with {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["results"]


def run_jades_js(sealed: Iterable[dict[str, Any]], *, timeout: float = 120) -> list[dict[str, Any]]:
    """Verify JAdES seals with npm ``jose`` (``tests/js/jades.mjs``)."""
    proc = subprocess.run(["node", str(JS_DIR / "jades.mjs")], input=json.dumps({"sealed": list(sealed)}),
                          capture_output=True, text=True, timeout=timeout, cwd=JS_DIR)
    if proc.returncode != 0:
        raise RuntimeError(f"node jades.mjs exited with {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["results"]
