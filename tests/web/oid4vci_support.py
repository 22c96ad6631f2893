"""`microcred serve` on loopback with an awarding body, a course and learners, for the
OpenID4VCI tests (the wallet talks to it over real HTTP)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.cli.test_serve import free_port

MICROCRED = Path(sys.executable).with_name("microcred")


@dataclass
class Server:
    base: str
    env: dict[str, str]
    services: Any
    definition_id: int
    process: subprocess.Popen

    def new_credential(self, sub: str, *, birthdate: str | None = None):
        """A learner who passed, awarded their credential; returns its row's public id."""
        from plugin.issuance import service as issuance
        from plugin.storage.models import Learner
        from tests.engine_helpers import add_learner
        with self.services.session() as s:
            learner_id, evidence_id = add_learner(s, self.definition_id, sub=sub, email=f"{sub}@example.org")
            if birthdate:
                s.get(Learner, learner_id).external_ids = {"birthdate": birthdate}
            row, _ = issuance.award(s, self.services, definition_id=self.definition_id, learner_id=learner_id,
                                    evidence_id=evidence_id, display_name="Ada Lovelace")
            s.commit()
            return row.public_id

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(MICROCRED), *args], env=self.env, capture_output=True, text=True, timeout=120)

    def offer(self, public_id: str, fmt: str, tx_code: bool = False):
        """An offer made in the tool's own process: ``(uri, tx_code, offer public id)``."""
        from plugin.delivery.oid4vci.service import create_offer
        from plugin.issuance.service import credential_by_any_id
        with self.services.session() as s:
            created = create_offer(s, self.services, credential_by_any_id(s, public_id), fmt, tx_code=tx_code,
                                   actor="test")
            s.commit()
            return created.uri, created.tx_code, created.offer.public_id

    def documents(self, credential: dict) -> dict[str, Any]:
        """What a networked verifier fetches (DID document, status lists, contexts), over HTTP."""
        from plugin.signing.did import did_web_url
        from plugin.verification.resolver import referenced_urls
        out: dict[str, Any] = {}
        pending = list(referenced_urls(credential))
        while pending:
            url = pending.pop(0)
            if url in out:
                continue
            fetch = did_web_url(url) if url.startswith("did:web:") else url
            if not fetch.startswith(self.base):
                continue
            resp = requests.get(fetch, headers={"Accept": "application/json"}, timeout=10)
            if resp.status_code != 200:
                continue
            out[url] = out[fetch] = resp.json()
            if isinstance(out[url], dict) and "proof" in out[url]:
                pending += referenced_urls(out[url])
        return out


def start_server(tmp: Path, database_url: str | None = None) -> Server:
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.secrets import generate_kek
    from tests.engine_helpers import make_world
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_") and k != "DATABASE_URL"}
    env.update({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": str(tmp / "instance"),
                "DATABASE_URL": database_url or f"sqlite:///{tmp / 'oid4vci.sqlite3'}", "MICROCRED_BASE_URL": base,
                "MICROCRED_SECRET_KEY": "s" * 40, "MICROCRED_KEK": generate_kek(),
                "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_MAIL_BACKEND": "file",
                "MICROCRED_RATELIMIT_OID4VCI": "100000 per minute"})
    services = build_services(Settings.from_env(env))
    world = make_world(services, learner_sub="first")
    serve_env = dict(env)
    serve_env.pop("MICROCRED_BASE_URL")
    process = subprocess.Popen([str(MICROCRED), "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--base-url", base, "--workers", "1", "--threads", "4"],
                               cwd=tmp, env=serve_env, stdout=subprocess.DEVNULL,
                               stderr=open(tmp / "serve.log", "w"))  # a file: a full pipe would block the server
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or slow on a busy machine
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("microcred serve did not start: " + (tmp / "serve.log").read_text()[-2000:])
        time.sleep(0.2)
    return Server(base, env, services, world.definition_id, process)


def stop_server(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.communicate()
    server.services.engine.dispose()
