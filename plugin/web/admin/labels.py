"""The label profiles instructors can claim (``/admin/labels``); a local admin uploads new ones."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField

from plugin.paths import DATA_DIR
from plugin.web.audit import record
from plugin.web.auth import launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.admin import bp, platform_scope


# --------------------------------------------------------------------------- label profiles
class LabelUploadForm(FlaskForm):
    launch = HiddenField()
    file = FileField(_l("Label profile (JSON)"))


@bp.route("/labels", methods=["GET", "POST"])
@require_roles("admin")
def labels():
    """The label profiles instructors can claim; a local admin adds one by uploading its JSON file."""
    import json
    from plugin.domain.labels import LabelError, LabelProfile, load_profiles
    folder = services().settings.instance_dir / "labels"
    form = LabelUploadForm(launch=request.values.get("launch", ""))
    status = 200
    if request.method == "POST":
        if platform_scope() is not None:
            abort(403, description=_("Add label profiles with a local administrator account."))
        if not form.validate():
            abort(400, description=_("The form expired; reload the page and try again."))
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise LabelError(_("Choose a JSON file."))
            raw = upload.read(256 * 1024 + 1)
            if len(raw) > 256 * 1024:
                raise LabelError(_("The file is larger than 256 KB."))
            try:
                profile = LabelProfile.model_validate(json.loads(raw.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as exc:
                raise LabelError(str(exc)) from None
        except LabelError as exc:
            form.file.errors = [str(exc)]
            status = 400
        else:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{profile.id}.json").write_text(json.dumps(profile.model_dump(by_alias=True, exclude_none=True),
                                                                  ensure_ascii=False, indent=1), encoding="utf-8")
            record("label_profile.saved", "label_profile", profile.id, version=profile.version,
                   rules=[r.id for r in profile.rules])
            db().commit()
            flash(_("Label profile “%(name)s” saved.", name=profile.display_name()), "ok")
            return redirect(launch_url("admin.labels"))
    from flask_babel import get_locale
    try:
        profiles = load_profiles([folder])
        error = None
    except LabelError as exc:  # a hand-edited file is broken: say which, keep the page usable
        profiles, error = load_profiles(), str(exc)
    shipped = {p.stem for p in (DATA_DIR / "labels").glob("*.json")}
    return render_template("admin/labels.html", profiles=profiles.values(), locale=str(get_locale() or "en"),
                           form=form, folder=folder, error=error, shipped=shipped), status
