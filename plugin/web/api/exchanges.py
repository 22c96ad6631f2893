"""A VC-API-style exchange a wallet calls to collect a credential (DCC "Request" flow).

1. The learner's page creates a one-time exchange (:func:`create_exchange`) and shows the
   Learner Credential Wallet deep link / QR code holding its URL.
2. The wallet POSTs ``{}`` to ``/api/exchanges/<id>``: we answer a
   ``verifiablePresentationRequest`` (``DIDAuthentication`` with a fresh challenge and
   our domain).
3. The wallet POSTs ``{"verifiablePresentation": <signed DID-auth VP>}``: we check the
   challenge, domain and Ed25519 proof (:mod:`plugin.delivery.didauth`) and answer
   ``{"verifiablePresentation": {..., "verifiableCredential": [credential]}}``, once.

State lives in ``KeyValue`` (expiring); completion is recorded in ``OneTimeToken`` whose
unique constraint makes a second completion impossible even under a race.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.delivery.didauth import DidAuthError, verify_did_auth
from plugin.storage.models import IssuedCredential, KeyValue, OneTimeToken
from plugin.web.urls import public_url
from plugin.web.context import db, services
from plugin.web.errors import error_response
from plugin.web.extensions import csrf

bp = Blueprint("exchanges", __name__)
EXCHANGE_TTL = timedelta(minutes=15)


def create_exchange(session: Session, credential: IssuedCredential) -> str:
    """A new one-time exchange for ``credential``; returns its absolute URL."""
    exchange_id = secrets.token_urlsafe(24)
    session.add(KeyValue(key=f"exchange:{exchange_id}",
                         value={"credential": credential.public_id, "challenge": None},
                         expires_at=datetime.now(timezone.utc) + EXCHANGE_TTL))
    return public_url("exchanges.exchange", exchange_id=exchange_id)


def _domain() -> str:
    return urlsplit(services().settings.base_url).netloc


def context_loader():
    """The engine's pinned context store when present, else the configured context folder."""
    try:
        from plugin.signing.contexts import get_store
        return get_store(services()).loader
    except ImportError:
        return _folder_loader(str(services().settings.contexts_dir))


@lru_cache(maxsize=4)
def _folder_loader(folder: str):
    root = Path(folder)
    index = json.loads((root / "index.json").read_text())
    cache: dict[str, dict] = {}

    def load(url, options=None):
        if url not in index:
            raise DidAuthError(f"unknown JSON-LD context {url}")
        if url not in cache:
            cache[url] = json.loads((root / index[url]).read_text())
        return {"contextUrl": None, "documentUrl": url, "document": cache[url]}
    return load


@bp.post("/api/exchanges/<exchange_id>")
@csrf.exempt
def exchange(exchange_id: str):
    session = db()
    exchange_id = exchange_id[:100]
    if session.query(OneTimeToken).filter_by(kind="exchange", value=exchange_id).first() is not None:
        return error_response(410, "Gone", "This exchange was already completed.")
    row = session.get(KeyValue, f"exchange:{exchange_id}")
    if row is None or row.expires_at < datetime.now(timezone.utc):
        return error_response(404, "Not Found", "This exchange does not exist or has expired; "
                                                "start again from your credential page.")
    body = request.get_json(silent=True)
    if body is None and request.get_data(cache=True).strip():
        return error_response(400, "Bad Request", "The body must be JSON.")
    body = body if isinstance(body, dict) else {}
    state = dict(row.value)
    vp = body.get("verifiablePresentation")
    if vp is None:
        state["challenge"] = secrets.token_urlsafe(16)
        row.value = state
        session.commit()
        return jsonify({"verifiablePresentationRequest": {
            "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}],
                       "acceptedCryptosuites": [{"cryptosuite": "eddsa-rdfc-2022"},
                                                {"cryptosuite": "Ed25519Signature2020"}]}],
            "challenge": state["challenge"],
            "domain": _domain(),
            "interact": {"service": [{"type": "UnmediatedHttpPresentationService2021",
                                      "serviceEndpoint": request.base_url}]},
        }})
    if not state.get("challenge"):
        return error_response(400, "Bad Request", "Ask for the presentation request first (POST {}).")
    try:
        holder = verify_did_auth(vp, challenge=state["challenge"], domain=_domain(), loader=context_loader())
    except DidAuthError as exc:
        return error_response(401, "Unauthorized", f"The DID authentication failed: {exc}")
    credential = session.query(IssuedCredential).filter_by(public_id=state["credential"]).first()
    if credential is None or credential.status != "active":
        return error_response(410, "Gone", "This credential is no longer valid.")
    session.add(OneTimeToken(kind="exchange", value=exchange_id[:100], expires_at=row.expires_at))
    session.delete(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return error_response(410, "Gone", "This exchange was already completed.")
    return jsonify({"verifiablePresentation": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": [credential.document],
    }})
