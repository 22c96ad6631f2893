"""Verifiers, no account needed: the public verification page, file upload, JSON API,
and a page per issuer.

``/verify/<public id>`` negotiates: HTML (with OpenGraph tags for link previews) for
people, JSON for machines. The page shows only what the credential itself discloses
(its descriptors are read from the signed document, never from the learner record).
Verification results are cached per credential until its status changes (see
:mod:`plugin.web.verify_cache`), so a popular link costs one small query per view.
"""
from __future__ import annotations

import json
import logging

from flask import (Blueprint, Response, abort, jsonify, render_template, request, url_for)
from flask_babel import get_locale, gettext as _
from sqlalchemy import select

from plugin.delivery.present import summarize
from plugin.storage.models import Issuer, IssuedCredential
from plugin.web.context import db, services
from plugin.web.errors import error_response
from plugin.web.extensions import csrf
from plugin.web import verify_cache

log = logging.getLogger("microcred.verify")
bp = Blueprint("verify", __name__)


class InputError(ValueError):
    """An uploaded credential we cannot even read; the message says why."""


# ------------------------------------------------------------------------ engine glue
def _resolver():
    from plugin.verification.resolver import resolver_for
    return resolver_for(services())


def verify_data(data) -> dict:
    """Run the engine's verifier; return the report as plain JSON-able data."""
    from plugin.verification.verify import verify
    return report_dict(verify(data, _resolver()))


def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if not isinstance(obj, dict) and hasattr(obj, n):
            return getattr(obj, n)
    return default


def report_dict(report) -> dict:
    """A :class:`VerificationReport` as JSON: ``authentic``, ``status``, ``checks``..."""
    if hasattr(report, "to_dict"):
        raw = report.to_dict()
    else:
        raw = report
    checks = []
    for c in _get(raw, "checks", default=[]) or []:
        checks.append({
            "id": str(_get(c, "id", "name", "check", default="")),
            "label": str(_get(c, "label", "title", "name", "id", default="")),
            "ok": _get(c, "ok", "passed", default=None),
            "message": str(_get(c, "message", "detail", "details", default="") or ""),
        })
    status = str(_get(raw, "status", default="invalid") or "invalid")
    credential = _get(raw, "credential", "document", default=None)
    authentic = _get(raw, "authentic", default=None)
    if authentic is None:
        authentic = status not in ("invalid", "unverified", "error")
    return {"ok": bool(_get(raw, "ok", default=False)), "authentic": bool(authentic), "status": status,
            "checks": checks, "credential": credential if isinstance(credential, dict) else None,
            "format": _get(raw, "format", "kind", default=None)}


# ------------------------------------------------------------------------ parsing uploads
def parse_upload(data: bytes) -> dict | str:
    """JSON, a compact JWS, or a baked PNG/SVG → the credential (dict or compact JWS)."""
    from plugin.delivery import baking
    if not data or not data.strip():
        raise InputError(_("The file is empty."))
    kind = baking.sniff(data)
    if kind in ("png", "svg"):
        try:
            baked = baking.unbake(data)
        except baking.BakingError as exc:
            raise InputError(_("This image holds no readable credential: %(why)s", why=str(exc))) from None
        return baked.credential if baked.kind == "json" else baked.jwt
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise InputError(_("This file is neither JSON, a JWT, a PNG nor an SVG.")) from None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise InputError(_("This file is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise InputError(_("This JSON is not a credential (expected an object)."))
        return value
    if text.count(".") == 2 and all(part.replace("-", "").replace("_", "").isalnum() for part in text.split(".")):
        return text
    raise InputError(_("This file is neither JSON, a JWT, a PNG nor an SVG."))


def _verify_upload(data: bytes) -> dict:
    credential = parse_upload(data)
    try:
        return verify_data(credential)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        # A hostile document that gets past parsing but trips the verifier is "not authentic",
        # never a 500.
        log.info("verification refused an upload: %s", exc)
        return {"ok": False, "authentic": False, "status": "invalid", "format": None, "credential": None,
                "checks": [{"id": "readable", "label": _("Readable credential"), "ok": False,
                            "message": str(exc)[:300]}]}


# ------------------------------------------------------------------------ view helpers
def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json") or request.args.get("format") == "json"


STATUS_TEXT = {
    "valid": ("ok", "Valid"),
    "revoked": ("bad", "Revoked"),
    "suspended": ("warn", "Suspended"),
    "expired": ("warn", "Expired"),
    "not_yet_valid": ("warn", "Not yet valid"),
    "invalid": ("bad", "Not authentic"),
}


def status_text(status: str) -> tuple[str, str]:
    cls, text = STATUS_TEXT.get(status, ("bad", status.replace("_", " ").capitalize()))
    return cls, _(text)


def _render_report(report: dict, *, public_url: str | None = None, credential_row=None):
    locale = str(get_locale() or "en")
    summary = summarize(report.get("credential") or {}, locale=locale, gettext=_)
    cls, text = status_text(report["status"])
    return render_template("verify/report.html", report=report, summary=summary, status_class=cls,
                           status_label=text, public_url=public_url, row=credential_row)


def public_report(row: IssuedCredential) -> dict:
    """The (cached) verification report of one of our credentials."""
    key = verify_cache.fingerprint(db(), row)
    cached = verify_cache.get(row.public_id, key)
    if cached is not None:
        return cached
    report = verify_data(row.document)
    verify_cache.put(row.public_id, key, report)
    return report


# ------------------------------------------------------------------------ routes
@bp.get("/verify/<public_id>")
def public(public_id: str):
    if len(public_id) > 64:
        abort(404, description=_("No credential has this verification address."))
    row = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).first()
    if row is None:
        abort(404, description=_("No credential has this verification address."))
    report = public_report(row)
    if _wants_json():
        return jsonify({**report, "verification_url": url_for("verify.public", public_id=public_id,
                                                               _external=True)})
    resp = Response(_render_report(report, public_url=url_for("verify.public", public_id=public_id,
                                                               _external=True), credential_row=row))
    resp.headers["Vary"] = "Accept, Accept-Language"
    return resp


@bp.route("/verify", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return render_template("verify/upload.html")
    f = request.files.get("file")
    data = f.read() if f is not None and f.filename else (request.form.get("text") or "").encode("utf-8")
    try:
        report = _verify_upload(data)
    except InputError as exc:
        return render_template("verify/upload.html", error=str(exc)), 400
    return _render_report(report)


@bp.post("/api/verify")
@csrf.exempt
def api_verify():
    f = request.files.get("file")
    data = f.read() if f is not None else request.get_data(cache=False)
    try:
        report = _verify_upload(data)
    except InputError as exc:
        return error_response(400, "Bad Request", str(exc))
    return jsonify(report)


@bp.get("/issuers/<slug>/about")
def issuer_about(slug: str):
    issuer = db().scalars(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        abort(404, description=_("No issuer has this address."))
    from plugin.web.issuer_view import issuer_page_data
    data = issuer_page_data(issuer)
    if _wants_json():
        return jsonify(data)
    return render_template("verify/issuer.html", issuer=issuer, data=data)
