"""Signing keys: an issuer's keys and published documents (``/admin/issuers/<id>/keys``, rotation),
and the tool's own LTI key (rotate, retire the previous ones; instance administrators only)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from plugin.storage.models import AuditLog, Issuer
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.admin import bp, platform_scope
from plugin.web.admin.issuers import _get_issuer


class KeyActionForm(FlaskForm):
    launch = HiddenField()


@bp.get("/issuers/<int:issuer_id>/keys")
@require_roles("admin")
def issuer_keys(issuer_id: int):
    issuer = _get_issuer(issuer_id)
    document, error = _issuer_documents(issuer)
    form = KeyActionForm(launch=request.args.get("launch", ""))
    return render_template("admin/issuer_keys.html", issuer=issuer, keys=list(issuer.keys),
                           document=document, document_error=error, form=form)


def _issuer_documents(issuer: Issuer):
    """The did:web document and the issuer profile verifiers read, exactly as published."""
    import json
    from plugin.issuance.service import did_document_for, issuer_profile_document, issuer_profile_url
    from plugin.signing.did import did_web_url
    from plugin.issuance.keys import issuer_identifier
    try:
        did = issuer_identifier(services(), issuer)
        docs = {
            f"{did} ({did_web_url(did)})": did_document_for(db(), services(), issuer),
            issuer_profile_url(services(), issuer): issuer_profile_document(db(), services(), issuer),
        }
    except Exception as exc:  # shown to the admin, not a 500: the page must still let them rotate
        return None, f"{type(exc).__name__}: {exc}"
    return {name: json.dumps(doc, indent=2, ensure_ascii=False) for name, doc in docs.items()}, None


@bp.post("/issuers/<int:issuer_id>/keys/rotate")
@require_roles("admin")
def issuer_rotate(issuer_id: int):
    issuer = _get_issuer(issuer_id)
    form = KeyActionForm()
    if not form.validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    from plugin.issuance.service import rotate_keys
    had_keys = any(k.retired_at is None for k in issuer.keys)
    rotate_keys(db(), services(), issuer, actor=current_actor().label)  # audited by the engine
    db().commit()
    flash(_("New signing keys are active. Credentials signed with the previous keys still verify.")
          if had_keys else _("Signing keys generated."), "ok")
    return redirect(launch_url("admin.issuer_keys", issuer_id=issuer.id))


def _tool_key_action() -> None:
    if platform_scope() is not None:
        abort(403, description=_("The tool's key serves every platform: only an administrator of the "
                                 "whole instance can change it."))
    if not KeyActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))


@bp.post("/tool-key/rotate")
@require_roles("admin")
def tool_key_rotate():
    """New LTI signing key; the replaced one stays in /lti/jwks until the next rotation or retirement."""
    from lti.keys import active_key, previous_keys, rotate
    _tool_key_action()
    old = active_key(db(), services().secrets).kid
    earlier = [k.kid for k in previous_keys(db())]
    new = rotate(db(), services().secrets)
    db().add(AuditLog(actor=current_actor().label, action="tool_key.rotate", target_type="tool_key",
                      target_id=new.kid, details={"replaced": old, "retired": earlier}))
    db().commit()
    flash(_("The tool signs with a new key (%(kid)s). The previous key stays published until the next "
            "rotation, so platforms that cached it keep working.", kid=new.kid), "ok")
    return redirect(launch_url("admin.platforms"))


@bp.post("/tool-key/retire")
@require_roles("admin")
def tool_key_retire():
    """Stop publishing the keys that no longer sign."""
    from lti.keys import retire_previous
    _tool_key_action()
    dropped = retire_previous(db())
    if dropped:
        db().add(AuditLog(actor=current_actor().label, action="tool_key.retire", target_type="tool_key",
                          target_id=dropped[0], details={"retired": dropped}))
    db().commit()
    flash(_("The previous keys are no longer published.") if dropped else _("No previous key was published."), "ok")
    return redirect(launch_url("admin.platforms"))
