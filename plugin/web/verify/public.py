"""Public documents anyone may fetch to verify our credentials (no login).

* ``/issuers/<slug>/did.json``: the issuer's did:web document (every key, retired included);
* ``/issuers/<slug>``: the issuer profile, JSON-LD for machines, a page for people;
* ``/contexts/microcred/v1.jsonld``: the project's JSON-LD extension context;
* ``/status/<id>``: a signed ``BitstringStatusListCredential``; ``/status/<id>/states``: the
  2-bit state list beside a revocation list (see :mod:`plugin.status.service`);
* ``/credentials/<id>``: an issued credential (JSON, for machines);
* ``/credentials/<id>/image.png``: its badge picture (``achievement.image``), drawn from
  the signed credential, what wallets such as the Learner Credential Wallet show.

Each document is what :func:`plugin.verification.resolver.lookup` returns, so the files
written next to exported credentials (``documents.json``) hold exactly what is served.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.signing import contexts as ctx
from plugin.storage.models import IssuedCredential
from plugin.verification.resolver import lookup
from plugin.web.context import db, services

bp = Blueprint("public", __name__)

SLUG = "<string(maxlength=64):slug>"
PUBLIC_ID = "<string(length=36):public_id>"


def _json(document, mimetype: str, max_age: int) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2)
    resp = Response(body, mimetype=mimetype)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    resp.headers["Access-Control-Allow-Origin"] = "*"  # verifiers run in browsers too
    return resp


def _found(url: str, what: str):
    document = lookup(db(), services(), url)
    if document is None:
        abort(404, description=f"There is no {what} here. Check the address.")
    db().commit()  # a status list credential may just have been signed and cached
    return document


def _url(path: str) -> str:
    return services().settings.base_url.rstrip("/") + path


@bp.get(f"/issuers/{SLUG}/did.json")
def did_json(slug):
    doc = _found(_url(f"/issuers/{slug}/did.json"), "issuer")
    return _json(doc, "application/did+json", 300)


@bp.get(f"/issuers/{SLUG}")
def issuer_profile(slug):
    doc = _found(_url(f"/issuers/{slug}"), "issuer")
    best = request.accept_mimetypes.best_match(["application/ld+json", "application/json", "text/html"])
    if best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/ld+json"]:
        issuer = issuance.issuer_by_slug(db(), slug)
        resp = Response(render_template("public/issuer.html", issuer=issuer, profile=doc,
                                        did=issuance.did_document_for(db(), services(), issuer)["id"]))
        resp.headers["Vary"] = "Accept"
        return resp
    resp = _json(doc, "application/ld+json", 300)
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get(ctx.EXTENSION_PATH)
def extension_context():
    resp = Response(ctx.extension_context_bytes(), mimetype="application/ld+json")
    # The context is pinned by digest and never changes under this URL: cache for a year.
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get(f"/status/{PUBLIC_ID}")
def status_list(public_id):
    doc = _found(_url(f"/status/{public_id}"), "status list")
    # Verifiers may cache briefly; a revocation shows within a minute.
    return _json(doc, "application/vc+ld+json", 60)


@bp.get(f"/status/{PUBLIC_ID}/states")
def status_states(public_id):
    """The 2-bit state list beside a revocation list (suspended, superseded: read by our verifier)."""
    doc = _found(_url(f"/status/{public_id}/states"), "state list")
    return _json(doc, "application/vc+ld+json", 60)


@bp.get(f"/credentials/{PUBLIC_ID}")
def credential(public_id):
    shown = db().scalars(select(IssuedCredential.public_name).where(IssuedCredential.public_id == public_id)).first()
    if shown is False:  # the holder keeps it (and their name) off the public web; their file still verifies
        abort(404, description="The holder of this credential has not made it public. Ask them for the file "
                               "or its verification link.")
    doc = _found(_url(f"/credentials/{public_id}"), "credential")
    from plugin.web.verify.routes import count_visit  # a verifier or wallet fetching the credential by its id
    row_id = db().scalars(select(IssuedCredential.id).where(IssuedCredential.public_id == public_id)).first()
    if row_id is not None:
        count_visit(row_id, "verifications")
    return _json(doc, "application/vc+ld+json", 60)


# The picture changes when its drawing code or the awarding body's design does (the ETag
# then changes too): cache for a day, revalidate cheaply after that.
IMAGE_MAX_AGE = 24 * 3600


@bp.get(f"/credentials/{PUBLIC_ID}/image.png")
def credential_image(public_id):
    from plugin.delivery.badge_image import badge_facts, badge_logo, picture_etag, picture_png
    from plugin.storage.branding import load_branding
    found = db().execute(select(IssuedCredential.document, IssuedCredential.issuer_id)
                         .where(IssuedCredential.public_id == public_id)).first()
    if found is None:
        abort(404, description="There is no credential here. Check the address.")
    document, issuer_id = found
    facts, logo = badge_facts(document), badge_logo(document)
    design = load_branding(db(), issuer_id).branding.design  # the awarding body's current design
    resp = Response(mimetype="image/png")
    resp.set_etag(picture_etag(facts, design, logo))
    resp.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}"
    resp.headers["Access-Control-Allow-Origin"] = "*"  # wallets and verifiers draw it in web views
    resp.headers["Content-Disposition"] = f'inline; filename="badge-{public_id}.png"'
    if request.if_none_match.contains(resp.get_etag()[0]):
        resp.status_code = 304
        return resp
    resp.set_data(picture_png(facts, design, logo))
    return resp
