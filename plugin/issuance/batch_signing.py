"""Composing and signing a batch of credentials, in this process or in a pool of processes (no Flask).

Signing (JSON-LD canonicalization, the Ed25519 proof, the RS256 VC-JWT) is pure CPU and
needs no database, so the bulk pipeline (:mod:`plugin.issuance.batch`) runs it outside any
transaction, spread over ``MICROCRED_BULK_WORKERS`` processes (default: one per CPU).
Each process receives the issuer's unsealed keys once, through its initializer (a pipe
between processes of the same user on the same machine), builds its own JSON-LD context
store, and then only gets small per-credential records. Processes are *spawned*, not
forked: the parent holds database connections and threads (the job's heartbeat) that a
forked child must not inherit. A batch smaller than :data:`POOL_MIN_ITEMS` is signed in
the calling process (starting a pool costs more than it saves).
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

POOL_MIN_ITEMS = 64


@dataclass(frozen=True)
class SignerSpec:
    """Everything a signing process needs (picklable)."""
    settings: Any
    base_url: str
    issuer_profile: dict[str, Any]
    issuer_did: str
    definition: dict[str, Any]
    ed_key: tuple[bytes, str]   # PKCS#8 DER, key id
    rsa_key: tuple[bytes, str]
    # label alignments and endorsements (plugin.issuance.service.met_labels), the same for every credential
    labels: dict[str, Any] | None = None


class _Signer:
    def __init__(self, spec: SignerSpec, store=None):
        from plugin.domain.definition import DefinitionData
        from plugin.domain.issuer import IssuerProfile
        from plugin.signing.contexts import store_from_settings
        from plugin.signing.keys import SigningKey
        self.spec = spec
        self.profile = IssuerProfile.from_json(spec.issuer_profile)
        self.definition = DefinitionData.from_json(spec.definition)
        self.ed = SigningKey.from_private_bytes(spec.ed_key[0], key_id=spec.ed_key[1])
        self.rsa = SigningKey.from_private_bytes(spec.rsa_key[0], key_id=spec.rsa_key[1])
        self.ed_vm = self.ed.verification_method(spec.issuer_did)
        self.rsa_vm = self.rsa.verification_method(spec.issuer_did)
        from plugin.signing.jwt import VcJwtSigner
        self.jwt = VcJwtSigner(self.rsa, self.rsa_vm)
        self.store = store or store_from_settings(spec.settings)

    def _signed(self, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The composed credential, and the same with its Data Integrity proof."""
        from plugin.signing import data_integrity
        unsigned = self.compose(record)
        return unsigned, data_integrity.sign(unsigned, self.ed, self.ed_vm, store=self.store)

    def sign(self, record: dict[str, Any]) -> tuple[dict[str, Any], str, str | None]:
        unsigned, document = self._signed(record)
        return document, self.jwt.sign(unsigned), unsigned.get("validUntil")

    def sign_text(self, record: dict[str, Any]) -> tuple[str, str, str | None]:
        """:meth:`sign` with the document as compact JSON text: the credential is serialised
        once, for the stored document and the VC-JWT payload alike."""
        import json
        unsigned, document = self._signed(record)
        compact = json.dumps(unsigned, separators=(",", ":"))
        if unsigned and "proof" not in unsigned and list(document) == [*unsigned, "proof"]:
            text = compact[:-1] + ',"proof":' + json.dumps(document["proof"], separators=(",", ":")) + "}"
        else:
            text = json.dumps(document, separators=(",", ":"))
        return text, self.jwt.sign(unsigned, credential_json=compact), unsigned.get("validUntil")

    def compose(self, record: dict[str, Any]) -> dict[str, Any]:
        from plugin.composition.credential import EvidenceData, LearnerIdentity, compose
        from plugin.issuance.service import badge_image_url
        ev = record["evidence"]
        evidence = None if ev is None else EvidenceData(
            source=ev["source"], observed_at=datetime.fromisoformat(ev["observed_at"]), passed=ev["passed"],
            narrative=ev["narrative"], score=ev.get("score"), score_max=ev.get("score_max"))
        identity = LearnerIdentity(key=record["learner"], email=record["email"], lti_issuer=record["lti_issuer"],
                                   lti_sub=record["sub"], name=record.get("name") or None)
        credential_id = record["credential_id"]
        unsigned = compose(self.profile, self.spec.issuer_did, self.definition, identity, evidence, credential_id,
                           datetime.fromisoformat(record["issued_at"]), status_entries=[record["status_entry"]],
                           base_url=self.spec.base_url, image=badge_image_url(credential_id),
                           parts=record.get("parts"), **(self.spec.labels or {}))
        return unsigned


_WORKER: list[_Signer] = []


def _init_worker(spec: SignerSpec) -> None:
    _WORKER[:] = [_Signer(spec)]


def _sign_chunk(records: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """Signed in a pool process: the document goes back as its JSON text, which is what the job
    writes (a string crosses the pipe far cheaper than a nested dict, and the job's process,
    the one that cannot be parallelised, no longer serialises it)."""
    sign = _WORKER[0].sign_text
    return [sign(r) for r in records]


def workers_setting() -> int:
    """``MICROCRED_BULK_WORKERS``: signing processes for bulk issuance (0: sign in the job's process)."""
    raw = os.environ.get("MICROCRED_BULK_WORKERS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    value = int(raw)
    if value < 0:
        raise ValueError("MICROCRED_BULK_WORKERS must be 0 or more")
    return value


class BatchSigner:
    """Signs record lists; a pool of spawned processes, started on first use, or inline."""

    def __init__(self, spec: SignerSpec, workers: int | None = None, *, store=None):
        self.spec, self.store = spec, store  # store: the caller's context store, for inline signing
        self.workers = workers_setting() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._inline: _Signer | None = None

    def submit(self, records: list[dict[str, Any]]):
        """Start signing ``records``; returns a callable that waits and gives the results in order."""
        if self.workers == 0 or len(records) < POOL_MIN_ITEMS:
            def sign_here():  # when the caller waits, so that a failure is raised there, as from the pool
                if self._inline is None:
                    self._inline = _Signer(self.spec, self.store)
                return [self._inline.sign(r) for r in records]
            return sign_here
        size = -(-len(records) // (self.workers * 2))  # two chunks per process: less idle at the end
        for attempt in (1, 2):
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                                 initargs=(self.spec,),
                                                 mp_context=multiprocessing.get_context("spawn"))
            pool = self._pool
            try:
                futures = [pool.submit(_sign_chunk, records[i:i + size]) for i in range(0, len(records), size)]
                break
            except BrokenProcessPool:  # a signer died since the last batch: start a new pool once
                self._discard(pool)
                if attempt == 2:
                    raise

        def wait():
            try:
                return [result for f in futures for result in f.result()]
            except BrokenProcessPool:  # a signer died (e.g. killed for memory): a new pool for the next batch
                self._discard(pool)
                raise
        return wait

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "BatchSigner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
