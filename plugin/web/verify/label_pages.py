"""``GET /labels/<id>``: what a label profile requires, public (the ``targetUrl`` of the
alignment a credential carries when it meets the label, :func:`plugin.domain.frameworks.label_alignment`)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify

from plugin.web.context import services

bp = Blueprint("label_pages", __name__)


@bp.get("/labels/<label_id>")
def label(label_id: str):
    from plugin.domain.labels import load_profiles
    profile = load_profiles([services().settings.instance_dir / "labels"]).get(label_id[:64])
    if profile is None:
        abort(404, description="No label profile has this address.")
    resp = jsonify({"id": profile.id, "version": profile.version, "name": profile.name,
                    "description": profile.description, "awarded_by": profile.awarded_by,
                    "rules": [{"id": r.id, "requirement": r.message} for r in profile.rules]})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
