"""What the learner's credential page and the public verification page share: the badge,
the earner, the plain-language verdict, the grouped Annex I elements, sharing links; and
the learner's choice to show their name on the public page.

* ``POST /learner/credentials/<id>/visibility`` (learner access + CSRF): ``public_name`` =
  ``show`` or ``hide``. Hiding it changes what the public page (HTML and JSON) and
  ``/credentials/<id>`` show; the signed credential the learner holds is unchanged.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_date, get_locale, gettext as _, lazy_gettext as _l

from plugin.delivery import badge_image
from plugin.delivery.present import CredentialSummary, summarize
from plugin.delivery.readable import annex_groups, course_description, markdown_html, missing_mandatory
from plugin.delivery.share import email_url, embed_snippet, linkedin_add_url, linkedin_post_url
from plugin.storage.branding import load_branding
from plugin.storage.models import IssuedCredential
from plugin.web.context import db
from plugin.web.urls import public_url

bp = Blueprint("credential_page", __name__)

# Reasons the tool itself writes in ``status_reason`` (people's own words are shown as typed).
SYSTEM_REASONS = {
    "reissued": _l("re-issued: a newer version replaces it"),
    "carried over from the replaced credential": _l("carried over from the credential it replaces"),
}


def reason_text(reason: str | None) -> str:
    if not reason:
        return ""
    known = SYSTEM_REASONS.get(reason.strip())
    return str(known) if known is not None else reason


def long_date(when: datetime | None) -> str:
    return format_date(when, "long") if when else ""


def summary_of(document: dict) -> CredentialSummary:
    """The credential in the request's language, dates written out ("3 December 2026")."""
    return summarize(document or {}, locale=str(get_locale() or "en"), gettext=_, date_format=long_date)


def page_context(summary: CredentialSummary, document: dict | None, *, row: IssuedCredential | None = None,
                 show_name: bool = True) -> dict:
    """Everything the hero, the verdict and the Annex I sections need."""
    image = public_url("public.credential_image", public_id=row.public_id) if row is not None else None
    src = url_for("public.credential_image", public_id=row.public_id) if row is not None else None
    logo = badge_image.badge_logo(document or {})
    earner = summary.learner if show_name and not summary.learner_is_hashed else None
    return {
        "summary": summary,
        "groups": annex_groups(summary, _),
        "missing_mandatory": missing_mandatory(summary),
        "description_html": markdown_html(course_description(summary.description)),
        "badge_url": image,   # absolute: og:image, twitter:image
        "badge_src": src,     # the page's own <img>
        "issuer_logo": logo,
        "earner": earner,
        "name_hidden": not show_name,
        "issued_long": long_date(summary.issued),
    }


def share_context(row: IssuedCredential, summary: CredentialSummary, verify_url: str) -> dict:
    """The learner's ways to share: LinkedIn (profile and post), e-mail, link, QR, embed."""
    image = public_url("public.credential_image", public_id=row.public_id)
    subject = _("My micro-credential: %(title)s", title=summary.title)
    body = _("I earned the micro-credential “%(title)s” from %(issuer)s. Anyone can check it here: %(url)s",
             title=summary.title, issuer=summary.issuer_name, url=verify_url)
    return {
        "linkedin": linkedin_add_url(name=summary.title, organization_name=summary.issuer_name,
                                     issued=summary.issued, expires=summary.valid_until, cert_url=verify_url,
                                     cert_id=row.public_id,
                                     organization_id=(row.issuer.profile or {}).get("linkedin_organization_id")),
        "linkedin_post": linkedin_post_url(verify_url),
        "email": email_url(subject=subject, body=body),
        "embed": embed_snippet(verify_url=verify_url, image_url=image, title=summary.title,
                               issuer=summary.issuer_name,
                               alt=_("Badge: %(title)s, awarded by %(issuer)s", title=summary.title,
                                     issuer=summary.issuer_name)),
    }


def baked_badge(row: IssuedCredential, kind: str) -> tuple[bytes, str]:
    """The badge picture with the credential baked in, in the awarding body's design."""
    from plugin.delivery.baking import bake_png, bake_svg
    title, issuer, level = badge_image.badge_facts(row.document)
    design = load_branding(db(), row.issuer_id).branding.design
    logo = badge_image.badge_logo(row.document)
    if kind == "png":
        return bake_png(badge_image.picture_png((title, issuer, level), design, logo), row.document), "image/png"
    return (bake_svg(badge_image.render_svg(title, issuer, level, design=design, logo=logo), row.document)
            .encode("utf-8"), "image/svg+xml")


def pdf_bytes(row: IssuedCredential, *, verify_url: str, status_note: str | None, paper: str) -> bytes:
    from plugin.delivery.pdf import certificate_pdf
    summary = summary_of(row.document)
    look = load_branding(db(), row.issuer_id)
    title, issuer, level = badge_image.badge_facts(row.document)
    badge = badge_image.picture_png((title, issuer, level), look.branding.design, badge_image.badge_logo(row.document))
    return certificate_pdf(summary, verify_url=verify_url, status_note=status_note, gettext=_, paper=paper,
                           badge_png=badge, logo=badge_image.badge_logo(row.document), signatory_name=look.branding.signatory_name,
                           signatory_role=look.branding.signatory_role, signature_png=look.signature,
                           accent=look.branding.design.background,
                           locale=str(get_locale() or "en"))


def paper_for_request() -> str:
    """``?paper=letter`` or ``a4``; by default US Letter for the United States and Canada."""
    chosen = request.args.get("paper", "")
    if chosen in ("a4", "letter"):
        return chosen
    best = request.accept_languages.best_match(["en-US", "en-CA", "fr-CA", "en", "fr"]) or ""
    return "letter" if re.search(r"-(US|CA)$", best) else "a4"


@bp.post("/learner/credentials/<public_id>/visibility")
def visibility(public_id: str):
    from plugin.web.learner.routes import keep, own_credential, require_learner
    from plugin.web.audit import record
    learner = require_learner()
    row = own_credential(public_id, learner)
    choice = request.form.get("public_name")
    if choice not in ("show", "hide"):
        abort(400, description=_("Choose whether the public page shows your name."))
    row.public_name = choice == "show"
    record("credential.public_name", "credential", row.public_id, shown=row.public_name)
    db().commit()
    flash(_("The public page now shows your name.") if row.public_name else
          _("The public page no longer shows your name."), "ok")
    return redirect(keep("learner.credential", public_id=row.public_id) + "#share"), 303


def _to_whom(earner: str | None, name_hidden: bool, hashed: bool) -> str:
    if earner:
        return earner
    if name_hidden:
        return _("a learner who chose not to show their name here")
    return _("a learner identified by a hashed e-mail address") if hashed else _("a learner")


def verdict(*, status: str, authentic: bool, summary: CredentialSummary, earner: str | None, name_hidden: bool,
            reason: str | None = None, replaced: dict | None = None) -> dict:
    """The plain-language verdict at the top of a credential's page (GOV.UK "panel" style):
    one headline a person can repeat, then what to do about it."""
    issuer = summary.issuer_name or _("an unknown awarding body")
    when = long_date(summary.issued)
    whom = _to_whom(earner, name_hidden, summary.learner_is_hashed)
    out = {"cls": "bad", "icon": "✗", "headline": "", "sentence": "", "more": [], "link": None}
    if not authentic:
        out.update(headline=_("Not authentic"),
                   sentence=_("This credential failed verification: it was changed after it was signed, or it was "
                              "not signed by the awarding body it names. Do not rely on what it says."))
        return out
    issued = _("Issued by %(issuer)s to %(learner)s on %(date)s.", issuer=issuer, learner=whom, date=when) if when \
        else _("Issued by %(issuer)s to %(learner)s.", issuer=issuer, learner=whom)
    if status == "valid":
        out.update(cls="ok", icon="✓", headline=_("Verified: valid and authentic"), sentence=issued)
    elif status == "revoked":
        out.update(headline=_("Revoked: no longer valid"), sentence=issued,
                   more=[_("The awarding body has revoked this credential. It is no longer valid.")])
    elif status == "suspended":
        out.update(cls="warn", icon="!", headline=_("Suspended"), sentence=issued,
                   more=[_("The awarding body has suspended this credential for now.")])
    elif status == "superseded":
        out.update(cls="warn", icon="!", headline=_("Replaced by a newer version"), sentence=issued,
                   more=[_("The awarding body issued a newer version of this credential, for example after a change "
                           "of name. This version is authentic but no longer the current one, and it is not "
                           "revoked.")])
        if replaced:
            out.update(link=replaced["url"], link_id="replaced-by",
                       link_text=_("See the newer version, issued on %(date)s", date=replaced["date"]))
    elif status == "expired":
        out.update(cls="warn", icon="!", headline=_("Expired"), sentence=issued,
                   more=[_("This credential has passed its expiry date.")])
    elif status in ("not-yet-valid", "not_yet_valid"):
        out.update(cls="warn", icon="!", headline=_("Not yet valid"), sentence=issued)
    else:
        out.update(cls="warn", icon="!", headline=_("Authentic, but it could not be fully checked"), sentence=issued)
    if reason:
        out["more"].append(_("Reason: %(reason)s", reason=reason_text(reason)))
    return out


def without_name(report: dict) -> dict:
    """The report without the learner's name (the holder hid it from the public page); the
    rest, and every check, stays. Returns a copy: the cached report is shared."""
    import copy
    out = copy.deepcopy(report)
    subject = (out.get("credential") or {}).get("credentialSubject")
    names = set()
    for s in subject if isinstance(subject, list) else [subject]:
        if isinstance(s, dict):
            if isinstance(s.get("name"), str):
                names.add(s.pop("name"))
            if isinstance(s.get("identifier"), list):
                names |= {i.get("identityHash") for i in s["identifier"] if isinstance(i, dict)
                          and i.get("identityType") == "name" and isinstance(i.get("identityHash"), str)}
                s["identifier"] = [i for i in s["identifier"]
                                   if not (isinstance(i, dict) and i.get("identityType") == "name")]
    names = sorted((n for n in names if len(n.strip()) > 1), key=len, reverse=True)

    def scrub(value):  # the description repeats the name (its Annex I block)
        if isinstance(value, str):
            for name in names:
                value = value.replace(name, "—")
            return value
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value
    if names and out.get("credential"):
        out["credential"] = scrub(out["credential"])
    out["name_hidden"] = True
    return out


def learner_page(row: IssuedCredential, verify_url: str) -> dict:
    """The learner's own credential page: what the public page shows (their name always,
    to them), the verdict for its current state, and the ways to share it."""
    from datetime import datetime, timezone
    summary = summary_of(row.document)
    ctx = page_context(summary, row.document, row=row, show_name=True)
    status = {"active": "valid"}.get(row.status, row.status)
    if status == "valid" and row.valid_until and row.valid_until < datetime.now(timezone.utc):
        status = "expired"
    replaced = None
    if row.status == "superseded":
        from plugin.issuance.service import replacement_of
        from plugin.web.learner.routes import keep
        newer = replacement_of(db(), row)
        if newer is not None:
            replaced = {"url": keep("learner.credential", public_id=newer.public_id), "date": long_date(newer.issued_at)}
    shown = verdict(status=status, authentic=True, summary=summary, earner=ctx["earner"], name_hidden=False,
                    reason=row.status_reason if row.status in ("revoked", "suspended") else None, replaced=replaced)
    if replaced:
        shown["link_id"], shown["link_text"] = "open-replacement", _("Open the new credential")
    return {**ctx, "row": row, "verdict": shown, "verify_url": verify_url,
            "share": share_context(row, summary, verify_url)}
