"""Real ways for issuing to fail, and their fixes, for the tests of failed issuances.

* :func:`break_signing_key`: the issuer's active Ed25519 key is sealed with a key-encryption
  key the tool does not have (a key copied from another installation, a KEK dropped too
  early); the fix an admin applies is to rotate the issuer's keys.
* :func:`refuse_context`: the context store no longer has the W3C credentials v2 context
  pinned (an edited pins file, a broken override folder); the fix restores the store.
* :func:`run_due_retries`: the embedded worker, once the retry jobs' backoff has passed.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from plugin.storage.models import IssuerKey, Job


def break_signing_key(services, issuer_id: int) -> None:
    from plugin.storage.secrets import SecretBox, generate_kek, issuer_key_context
    stranger = SecretBox([generate_kek()])
    with services.session() as s:
        key = s.scalar(select(IssuerKey).where(IssuerKey.issuer_id == issuer_id, IssuerKey.algorithm == "Ed25519",
                                               IssuerKey.retired_at.is_(None)))
        key.private_sealed = stranger.seal(b"not the issuer's key", issuer_key_context(issuer_id, key.key_id))
    services.extras.pop("issuer_signing_keys", None)  # keys unsealed earlier by this process


def rotate_keys(services, issuer_id: int) -> None:
    """What an admin does about an unusable key (the admin page's button, ``microcred keys rotate``)."""
    from plugin.issuance import service
    from plugin.storage.models import Issuer
    with services.session() as s:
        service.rotate_keys(s, services, s.get(Issuer, issuer_id), actor="admin:test")


@contextmanager
def refuse_context(services, url: str | None = None):
    """While inside, the tool's context store refuses ``url`` (default: the W3C credentials v2 context)."""
    from plugin.signing import contexts as ctx
    url = url or ctx.CREDENTIALS_V2
    pins = dict(ctx.load_pins()["contexts"])
    pins.pop(url)
    previous = services.extras.get("context_store")
    services.extras["context_store"] = ctx.ContextStore(pins=pins)
    try:
        yield url
    finally:
        if previous is None:
            services.extras.pop("context_store", None)
        else:
            services.extras["context_store"] = previous


def make_retries_due(services) -> None:
    """Skip the backoff: every queued retry is due now."""
    with services.session() as s:
        s.execute(update(Job).where(Job.status == "queued")
                  .values(run_after=datetime.now(timezone.utc) - timedelta(seconds=1)))


def run_due_retries(services, *, rounds: int = 1) -> None:
    from plugin.jobs.worker import EmbeddedWorker
    for _ in range(rounds):
        make_retries_due(services)
        EmbeddedWorker(services).run_until_empty()
