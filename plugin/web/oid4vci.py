"""OpenID4VCI endpoints of every awarding body (the web adapter of :mod:`plugin.delivery.oid4vci`).

| endpoint | what |
|---|---|
| ``GET /.well-known/openid-credential-issuer/oid4vci/<slug>`` | Credential Issuer Metadata (also under the issuer's own path) |
| ``GET /.well-known/oauth-authorization-server/oid4vci/<slug>`` | authorization server metadata (RFC 8414) |
| ``POST /oid4vci/<slug>/token`` | pre-authorized code (+ ``tx_code``) → access token |
| ``POST /oid4vci/<slug>/nonce`` | a fresh ``c_nonce`` (``Cache-Control: no-store``) |
| ``POST /oid4vci/<slug>/credential`` | the holder-bound credential (Bearer token, ``proofs.jwt``) |
| ``GET /oid4vci/<slug>/logo`` | the awarding body's logo named in the display metadata |

Errors are OpenID4VCI/OAuth error objects (``error``, ``error_description``) with a 4xx
status; the token, nonce and credential endpoints share the ``MICROCRED_RATELIMIT_OID4VCI``
budget per client address.
"""
from __future__ import annotations

import base64
import re

import jwt as pyjwt
from flask import Blueprint, Response, abort, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from plugin.delivery.oid4vci import Oid4vciError
from plugin.delivery.oid4vci import metadata as md
from plugin.delivery.oid4vci import service
from plugin.storage.models import Issuer
from plugin.web.context import db, services
from plugin.web.extensions import csrf
from plugin.web.extensions import limiter

bp = Blueprint("oid4vci", __name__)
oid4vci_limit = limiter.shared_limit(lambda: services().settings.ratelimit_oid4vci, "oid4vci",
                                     key_func=get_remote_address, methods=["POST"])


def _json(body, status: int = 200, *, no_store: bool = False, public: bool = False) -> Response:
    response = jsonify(body)
    response.status_code = status
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    if public:
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _error(exc: Oid4vciError) -> Response:
    if getattr(exc, "keep", False):
        db().commit()
    else:
        db().rollback()
    response = _json(exc.body(), exc.status, no_store=True)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return response


def _issuer(slug: str) -> Issuer:
    issuer = db().scalars(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        abort(404, description="There is no credential issuer at this address.")
    return issuer


def _slug_of(rest: str) -> str:
    """The slug of ``<base path>/oid4vci/<slug>`` (the path after the well-known name)."""
    base_path = re.sub(r"^https?://[^/]+", "", services().settings.base_url.rstrip("/"))
    match = re.fullmatch(re.escape(base_path.strip("/")) + r"/?oid4vci/([a-z0-9-]{1,64})", rest.strip("/"))
    if match is None:
        abort(404, description="There is no credential issuer at this address.")
    return match.group(1)


# --------------------------------------------------------------------------- metadata
@bp.get("/.well-known/openid-credential-issuer/<path:rest>")
def issuer_metadata(rest: str):
    issuer = _issuer(_slug_of(rest))
    return _json(service.issuer_metadata(db(), services(), issuer), public=True)


@bp.get("/oid4vci/<slug>/.well-known/openid-credential-issuer")
def issuer_metadata_suffix(slug: str):
    """Where wallets written against the drafts look (the issuer's path + the well-known name)."""
    return _json(service.issuer_metadata(db(), services(), _issuer(slug)), public=True)


@bp.get("/.well-known/oauth-authorization-server/<path:rest>")
def authorization_server(rest: str):
    issuer = _issuer(_slug_of(rest))
    return _json(md.authorization_server_metadata(service.issuer_url(services(), issuer)), public=True)


@bp.get("/oid4vci/<slug>/.well-known/oauth-authorization-server")
@bp.get("/oid4vci/<slug>/.well-known/openid-configuration")
def authorization_server_suffix(slug: str):
    return _json(md.authorization_server_metadata(service.issuer_url(services(), _issuer(slug))), public=True)


@bp.get("/oid4vci/<slug>/logo")
def logo(slug: str):
    data = (_issuer(slug).profile or {}).get("logo") or ""
    match = re.fullmatch(r"data:(image/(?:png|jpeg|svg\+xml));base64,([A-Za-z0-9+/=\s]+)", data)
    if match is None:
        abort(404, description="This awarding body has no logo.")
    response = Response(base64.b64decode(match.group(2)), mimetype=match.group(1))
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# --------------------------------------------------------------------------- protocol endpoints
@bp.post("/oid4vci/<slug>/token")
@csrf.exempt
@oid4vci_limit
def token(slug: str):
    try:
        body = service.exchange_code(db(), services(), slug, request.form)
    except Oid4vciError as exc:
        return _error(exc)
    db().commit()
    return _json(body, no_store=True)


@bp.post("/oid4vci/<slug>/nonce")
@csrf.exempt
@oid4vci_limit
def nonce(slug: str):
    _issuer(slug)
    return _json({"c_nonce": service.new_nonce(services(), slug)}, no_store=True)


@bp.post("/oid4vci/<slug>/credential")
@csrf.exempt
@oid4vci_limit
def credential(slug: str):
    body = request.get_json(silent=True)
    try:
        if body is None:
            raise Oid4vciError("invalid_credential_request", "the body must be JSON (Content-Type: application/json)")
        result = service.issue(db(), services(), slug, request.headers.get("Authorization"), body)
    except Oid4vciError as exc:
        return _error(exc)
    db().commit()
    return _json(result, no_store=True)


# --------------------------------------------------------------------------- SD-JWT VC
@bp.get("/.well-known/jwt-vc-issuer/<path:rest>")
def jwt_vc_issuer(rest: str):
    """SD-JWT VC issuer metadata: the keys that sign the awarding body's ``dc+sd-jwt``."""
    from plugin.delivery.oid4vci.sdjwt import jwt_vc_issuer_metadata
    from plugin.issuance.keys import all_keys
    issuer = _issuer(_slug_of(rest))
    return _json(jwt_vc_issuer_metadata(service.issuer_url(services(), issuer), all_keys(db(), issuer)), public=True)


@bp.get(md.VCT_PATH)
def type_metadata():
    """The SD-JWT VC type metadata of our micro-credentials (served at the ``vct`` URL)."""
    from plugin.delivery.oid4vci.vct import type_metadata as build
    return _json(build(md.vct_url(services().settings.base_url)), public=True)


@bp.get("/status/<public_id>/token")
def token_status_list(public_id: str):
    """The revocation list as an IETF Token Status List (``statuslist+jwt``), for ``dc+sd-jwt`` copies."""
    from plugin.delivery.oid4vci.sdjwt import STATUS_LIST_TYP, token_status_list_claims
    from plugin.issuance import keys as issuer_keys
    from plugin.signing.keys import ED25519
    from plugin.status import service as status
    session = db()
    sl = status.list_by_public_id(session, public_id[:36])
    if sl is None or sl.purpose != "revocation":
        abort(404, description="There is no revocation list at this address.")
    issuer = session.get(Issuer, sl.issuer_id)
    key_row = issuer_keys.active_key(session, issuer, ED25519)
    key = issuer_keys.load_signing_key(services(), issuer, key_row)
    url = status.status_list_url(services().settings.base_url, sl) + "/token"
    claims = token_status_list_claims(url, bytes(status.build_bits(session, sl).to_bytes()))
    claims["iss"] = service.issuer_url(services(), issuer)
    token = pyjwt.encode(claims, key.private, algorithm="EdDSA", headers={"typ": STATUS_LIST_TYP, "kid": key.key_id})
    response = Response(token, mimetype="application/statuslist+jwt")
    response.headers["Cache-Control"] = "max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
