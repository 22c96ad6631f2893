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
    if exc.keep:
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
    """The revocation list's states as an IETF Token Status List (``statuslist+jwt``, 2 bits), for
    ``dc+sd-jwt`` copies."""
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
    claims = token_status_list_claims(url, bytes(status.build_bits(session, sl, "states").to_bytes()))
    claims["iss"] = service.issuer_url(services(), issuer)
    token = pyjwt.encode(claims, key.private, algorithm="EdDSA", headers={"typ": STATUS_LIST_TYP, "kid": key.key_id})
    response = Response(token, mimetype="application/statuslist+jwt")
    response.headers["Cache-Control"] = "max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --------------------------------------------------------------------------- the learner's page
def _state_text(state: str) -> str:
    from flask_babel import gettext as _
    return {"received": _("Received by your wallet."),
            "expired": _("This code has expired or was used up: make a new one from your credential page.")}.get(
        state, _("Waiting for your wallet…"))


@bp.post("/learner/credentials/<public_id>/eu-wallet")
def eu_wallet(public_id: str):
    """The learner's offer: QR code, same-device link, expiry, state; the optional
    transaction code goes to their e-mail address (never on the page)."""
    import segno
    from flask import render_template
    from flask_babel import format_time, gettext as _
    from plugin.web.learner.credential_page import summary_of
    from plugin.web.learner.routes import keep, own_credential, require_learner
    learner = require_learner()
    row = own_credential(public_id, learner)
    if row.status != "active":
        abort(409, description=_("Only a valid credential can be added to a wallet."))
    fmt = request.form.get("format", "dc+sd-jwt")
    if fmt not in md.FORMATS:
        abort(400, description=_("Choose the kind of wallet."))
    want_tx = request.form.get("tx_code") == "1"
    if want_tx and not learner.email:
        abort(400, description=_("There is no e-mail address to send the code to."))
    created = service.create_offer(db(), services(), row, fmt, tx_code=want_tx, actor=f"learner:{learner.public_id}",
                                   tx_code_description=_("The code we sent to your e-mail address"))
    if created.tx_code:
        from plugin.delivery.notify import MailError, build_message, send_message
        summary = summary_of(row.document)
        text = _("Your code to add “%(title)s” to your wallet is %(code)s. It works once, for 10 minutes. "
                 "If you did not ask for it, ignore this message.", title=summary.title, code=created.tx_code)
        try:
            send_message(services().settings, build_message(services().settings, to=learner.email,
                                                            subject=_("Your wallet code"), text=text))
        except MailError:
            db().rollback()
            abort(503, description=_("The code could not be e-mailed; try again without it, or later."))
    db().commit()
    state_url = keep("oid4vci.eu_wallet_state", public_id=row.public_id, offer_id=created.offer.public_id)
    return render_template(
        "learner/eu_wallet.html", row=row, summary=summary_of(row.document), uri=created.uri,
        qr=segno.make(created.uri, error="l").svg_data_uri(scale=4, border=2),
        expires=format_time(created.offer.expires_at, "HH:mm", rebase=False), tx_sent=learner.email if created.tx_code else None,
        state_url=state_url, state_text=_state_text("waiting"))


@bp.get("/learner/credentials/<public_id>/eu-wallet/<offer_id>")
def eu_wallet_state(public_id: str, offer_id: str):
    from flask import render_template
    from plugin.storage.models import WalletOffer
    from plugin.web.errors import wants_json
    from plugin.web.learner.routes import own_credential, require_learner
    row = own_credential(public_id, require_learner())
    offer = db().scalars(select(WalletOffer).where(WalletOffer.public_id == offer_id[:36],
                                                   WalletOffer.credential_id == row.id)).first()
    if offer is None:
        abort(404)
    state = service.offer_state(offer)
    if wants_json():
        response = _json({"state": state, "text": _state_text(state)}, no_store=True)
        return response
    return render_template("learner/eu_wallet_state.html", row=row, state_text=_state_text(state))
