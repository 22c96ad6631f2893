"""Verifiers, no account needed: the public verification page, file upload, JSON API,
and a page per issuer.

``/verify/<public id>`` negotiates: HTML (with OpenGraph tags for link previews) for
people, JSON for machines. The page shows only what the credential itself discloses
(its descriptors are read from the signed document, never from the learner record).
Verification results are cached per credential until its status changes (see
:mod:`plugin.web.verify.cache`), so a popular link costs one small query per view.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from plugin.delivery.present import parse_datetime
from plugin.storage.models import Issuer, IssuedCredential
from plugin.web.urls import public_url
from plugin.web.context import db, services
from plugin.web.errors import error_response
from plugin.web.extensions import csrf
from plugin.web.ratelimits import verify_limit
from plugin.web.verify import cache as verify_cache

log = logging.getLogger("microcred.verify")
bp = Blueprint("verify", __name__)


class InputError(ValueError):
    """An uploaded credential we cannot even read; the message says why."""


# ------------------------------------------------------------------------ engine glue
def _resolver():
    """The engine's offline resolver: our issuers' DID documents and status lists from the DB."""
    from plugin.verification.resolver import tool_resolver
    return tool_resolver(services())


def verify_data(data) -> dict:
    """Run the engine's verifier; return the report as plain JSON-able data."""
    from plugin.verification.verify import verify
    return report_dict(verify(data, _resolver()))


def _l(text: str) -> str:
    """Mark a string for extraction; it is translated when the page renders (``_(label)``)."""
    return text


CHECK_LABELS = {
    "format": _l("Readable credential"),
    "issuer_key": _l("Signing key belongs to the issuer"),
    "proof": _l("Signature"),
    "validity_dates": _l("Validity dates"),
    "status": _l("Not revoked or suspended"),
    "schema": _l("Open Badges 3.0 schema"),
    "seal": _l("Electronic seal"),
    "certificate": _l("Seal certificate from a trusted authority"),
    "shapes": _l("European Digital Credential shapes"),
}
AUTHENTICITY_CHECKS = ("format", "issuer_key", "proof")
SUPERSEDED_LABEL = _l("Current version")
EDC_AUTHENTICITY_CHECKS = ("format", "seal")


def report_dict(report) -> dict:
    """A :class:`VerificationReport` as JSON: ``authentic``, ``status``, each check..."""
    checks = [{"id": c.name, "label": CHECK_LABELS.get(c.name, c.name), "ok": c.ok, "message": c.message}
              for c in report.checks]
    by_id = {c["id"]: c for c in checks}
    needed = EDC_AUTHENTICITY_CHECKS if (report.format or "").startswith("edc") else AUTHENTICITY_CHECKS
    authentic = all(by_id.get(n, {}).get("ok") for n in needed) and \
        by_id.get("schema", {}).get("ok") is not False and by_id.get("shapes", {}).get("ok") is not False
    schema = report.check("schema")
    problem = None
    if schema is not None and schema.ok is False and schema.problems:
        where, what = schema.problems[0]
        problem = {"field": where, "reason": what, "message": not_a_credential_message(where, what)}
    return {"ok": report.ok, "authentic": bool(authentic), "status": report.status, "format": report.format,
            "proof_type": report.proof_type, "issuer": report.issuer, "checks": checks,
            "credential": report.credential, "problem": problem}


def not_a_credential_message(where: str, what: str) -> str:
    """Why a file that parses is still not a credential (the Open Badges 3.0 schema says so)."""
    return _("This file is not a valid credential because its field %(field)s does not have the form the "
             "Open Badges 3.0 standard requires (%(detail)s). Do not rely on what it says.", field=where, detail=what)


def _verify_upload(data: bytes) -> dict:
    """Verify an uploaded file; raises :class:`InputError` when it holds no readable credential."""
    if not data or not data.strip():
        raise InputError(_("The file is empty."))
    report = verify_data(data)
    if report["credential"] is None:
        fmt = next((c for c in report["checks"] if c["id"] == "format"), None)
        raise InputError(_("No credential could be read from this file: %(why)s",
                           why=fmt["message"] if fmt else _("unknown format")))
    return with_replacement(report, _our_row(report) if report["authentic"] else None)


# ------------------------------------------------------------------------ view helpers
def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json") or request.args.get("format") == "json"


STATUS_TEXT = {
    "valid": ("ok", _l("Valid")),
    "superseded": ("warn", _l("Replaced by a newer version")),
    "revoked": ("bad", _l("Revoked")),
    "suspended": ("warn", _l("Suspended")),
    "expired": ("warn", _l("Expired")),
    "not-yet-valid": ("warn", _l("Not yet valid")),
    "not_yet_valid": ("warn", _l("Not yet valid")),
    "invalid": ("bad", _l("Not authentic")),
    "unknown-authority": ("warn", _l("Sealed, by an unknown authority")),
    "unsealed": ("warn", _l("Not sealed")),
}


def status_text(status: str) -> tuple[str, str]:
    cls, text = STATUS_TEXT.get(status, ("bad", status.replace("_", " ").capitalize()))
    return cls, _(text)


def with_replacement(report: dict, row: IssuedCredential | None) -> dict:
    """A credential re-issued in its place (e.g. after a change of name) is *replaced*, not
    revoked: say so, with the newest version. The database decides (``status ==
    "superseded"`` and ``replaces_id``), whatever its status list encodes. Returns a new
    dict (the cached report is shared); unchanged unless the credential is authentic."""
    if row is None or row.status != "superseded" or not report.get("authentic"):
        return report
    from plugin.issuance.service import replacement_of
    newer = replacement_of(db(), row)
    replaced_by = None
    if newer is not None:
        replaced_by = {"id": newer.public_id, "credential_id": newer.credential_id,
                       "issued": newer.issued_at.isoformat().replace("+00:00", "Z"),
                       "verification_url": public_url("verify.public", public_id=newer.public_id)}
    when = row.status_changed_at.date().isoformat() if row.status_changed_at else None
    message = (_("replaced by a newer version on %(date)s: this version is no longer the current one, and it is not revoked", date=when)
               if when else _("replaced by a newer version: this version is no longer the current one, and it is not revoked"))
    checks = [{**c, "ok": False, "state": "superseded", "label": SUPERSEDED_LABEL, "message": message}
              if c["id"] == "status" else c for c in report["checks"]]
    return {**report, "ok": False, "status": "superseded", "checks": checks, "replaced_by": replaced_by}


def _our_row(report: dict) -> IssuedCredential | None:
    """Our own credential an uploaded file holds (by its ``id``), if any."""
    cred_id = (report.get("credential") or {}).get("id")
    if not isinstance(cred_id, str) or len(cred_id) > 512:
        return None
    return db().scalars(select(IssuedCredential).where(IssuedCredential.credential_id == cred_id)).first()


def _render_report(report: dict, *, public_url: str | None = None, credential_row=None):
    if (report.get("format") or "").startswith("edc"):
        from plugin.verification.edc import summary as edc_summary
        cls, text = status_text(report["status"])
        return render_template("verify/edc_report.html", report=report, summary=edc_summary(report.get("credential")),
                               status_class=cls, status_label=text)
    from plugin.web.learner.credential_page import long_date, page_context, summary_of, verdict
    authentic = bool(report.get("authentic"))
    problem = report.get("problem")
    # A document that breaks the schema is not read any further: its fields may hold anything.
    summary = summary_of({} if problem else report.get("credential") or {})
    cls, text = status_text(report["status"])
    row = credential_row if authentic else None
    ctx = page_context(summary, report.get("credential") if authentic else None, row=row,
                       show_name=row is None or row.public_name)
    newer = report.get("replaced_by")
    replaced = {"url": newer["verification_url"],
                "date": long_date(parse_datetime(newer["issued"])) or newer["issued"][:10]} if newer else None
    shown = verdict(status=report["status"], authentic=authentic, summary=summary, earner=ctx["earner"],
                    name_hidden=ctx["name_hidden"], replaced=replaced)
    if problem:
        shown.update(headline=_("Not a valid credential"),
                     sentence=not_a_credential_message(problem["field"], problem["reason"]))
    issuer_page = url_for("verify.issuer_about", slug=row.issuer.slug) if row is not None and row.issuer else None
    return render_template("verify/report.html", report=report, status_class=cls, status_label=text,
                           public_url=public_url, row=row, verdict=shown, issuer_page=issuer_page, **ctx)


def public_report(row: IssuedCredential, key: tuple | None = None) -> dict:
    """The (cached) verification report of one of our credentials (``key``: its fingerprint, if read)."""
    key = key or verify_cache.fingerprint(db(), row)
    cached = verify_cache.get(row.public_id, key)
    if cached is not None:
        return cached
    document, public_id = row.document, row.public_id
    # End this request's transaction first: the resolver reads through its own sessions
    # (and nothing of this one needs to stay open while verifying).
    db().rollback()
    report = verify_data(document)
    verify_cache.put(public_id, key, report)
    return report


# ------------------------------------------------------------------------ routes
def count_visit(credential_row_id: int, column: str) -> None:
    """One more public page view or verification of a credential (the course dashboard shows
    them). Counted in this process or Redis, written in batches (:mod:`plugin.issuance.visits`):
    a view runs no write statement."""
    from plugin.issuance.visits import count
    try:
        count(services(), credential_row_id, column)
    except Exception:  # noqa: BLE001 - a statistic never stops a verification
        current_app.logger.warning("could not count a %s of credential %s", column, credential_row_id, exc_info=True)


@bp.get("/verify/<public_id>")
def public(public_id: str):
    if len(public_id) > 64:
        abort(404, description=_("No credential has this verification address."))
    row = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).first()
    if row is None:
        abort(404, description=_("No credential has this verification address."))
    wants_json = _wants_json()
    count_visit(row.id, "verifications" if wants_json else "page_views")
    key = verify_cache.fingerprint(db(), row)
    page_key = None
    if wants_json:
        # A machine's JSON depends on the report (the fingerprint), the holder's choice to show
        # their name and the language (the "replaced" message): kept as serialised, as the page.
        json_key = ("json", row.public_id, key, row.public_name, str(get_locale()))
        body = verify_cache.get_page(json_key)
        if body is not None:
            return current_app.response_class(body, mimetype=current_app.json.mimetype)
    elif _page_is_anonymous():
        # The rendered page depends on the report (the fingerprint), the language, the address
        # and the holder's choice to show their name; nothing else for an anonymous visitor.
        page_key = (row.public_id, key, row.public_name, str(get_locale()), request.full_path)
        html = verify_cache.get_page(page_key)
        if html is not None:
            return _page_response(html)
    report = with_replacement(public_report(row, key), row)
    if not row.public_name:  # the holder chose not to show their name on the public page
        from plugin.web.learner.credential_page import without_name
        report = without_name(report)
    if wants_json:
        resp = jsonify({**report, "verification_url": public_url("verify.public", public_id=public_id)})
        verify_cache.put_page(json_key, resp.get_data(as_text=True))
        return resp
    html = _render_report(report, public_url=public_url("verify.public", public_id=public_id), credential_row=row)
    if page_key is not None:
        verify_cache.put_page(page_key, html)
    return _page_response(html)


def _page_is_anonymous() -> bool:
    """No launch, no signed-in admin, no message waiting: the page is the same for everybody."""
    from flask import session
    return not request.args.get("launch") and not session.get("admin_username") and not session.get("_flashes")


def _page_response(html: str) -> Response:
    resp = Response(html)
    resp.headers["Vary"] = "Accept, Accept-Language"
    return resp


@bp.route("/verify", methods=["GET", "POST"])
@verify_limit
def upload():
    from flask import redirect
    from plugin.web.verify.inputs import ReferenceError_, reference_target, upload_problem
    if request.method == "GET":
        if "ref" not in request.args:
            return render_template("verify/upload.html")
        try:
            return redirect(reference_target(request.args["ref"]), code=303)
        except ReferenceError_ as exc:
            return render_template("verify/upload.html", ref_error=str(exc), ref=request.args["ref"][:2048]), 400
    f = request.files.get("file")
    name = f.filename if f is not None and f.filename else None
    text = request.form.get("text") or ""
    data = f.read() if name else text.encode("utf-8")
    problem = upload_problem(name, data, text)
    try:
        if problem:
            raise InputError(problem)
        report = _verify_upload(data)
    except InputError as exc:
        why = str(exc) if not name else _("“%(name)s”: %(why)s", name=name, why=str(exc))
        return render_template("verify/upload.html", error=problem or why), 400
    return _render_report(report)


@bp.post("/api/verify")
@csrf.exempt
@verify_limit
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
    from plugin.web.verify.issuer_view import issuer_page_data
    data = issuer_page_data(issuer)
    if _wants_json():
        return jsonify(data)
    return render_template("verify/issuer.html", issuer=issuer, data=data)
