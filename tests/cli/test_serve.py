"""`microcred serve` runs the tool under gunicorn and stops cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

MICROCRED = Path(sys.executable).with_name("microcred")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {process.stderr.read()}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s")


@pytest.mark.slow
def test_serve_with_gunicorn_then_stop_on_sigterm(settings, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)  # the settings fixture's database, KEK and secret key
    env.pop("MICROCRED_BASE_URL")  # comes from --base-url
    process = subprocess.Popen(
        [str(MICROCRED), "serve", "--host", "127.0.0.1", "--port", str(port), "--base-url", base,
         "--workers", "1", "--threads", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        health = wait_healthy(f"{base}/healthz", process)
        assert health.json()["database"]["ok"] is True
        assert health.headers["X-Request-ID"]

        home = requests.get(f"{base}/", headers={"Accept": "text/html"}, timeout=10)
        assert home.status_code == 200
        assert "<h1>microcred</h1>" in home.text  # templates/home.html through base.html
        assert 'href="/static/microcred.css"' in home.text
        assert requests.get(f"{base}/static/microcred.css", timeout=10).status_code == 200
        missing = requests.get(f"{base}/no-such-page", headers={"Accept": "text/html"}, timeout=10)
        assert missing.status_code == 404 and "Request id" in missing.text  # templates/error.html
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            raise AssertionError(f"gunicorn did not stop on SIGTERM: {stderr}")
    assert process.returncode == 0, stderr
    assert f"microcred serving {base}" in stderr
    requests_logged = [json.loads(line) for line in stderr.splitlines()
                       if line.startswith("{") and '"microcred.request"' in line]
    assert {(r["path"], r["status"]) for r in requests_logged} >= {("/healthz", 200), ("/", 200),
                                                                   ("/no-such-page", 404)}
    assert "Traceback" not in stderr
