"""What a verifier gives the upload page (``/verify``): a link or an id, a file, or pasted text.

* a verification link (``…/verify/<id>``), a credential's own address (``…/credentials/<id>``)
  or just its id: the page of that credential (:func:`reference_target`);
* a file (chosen or dropped on the page) or pasted JSON/JWT: verified as before;
* nothing, an empty file, a link of another site: a sentence that says what to do.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from plugin.storage.models import IssuedCredential
from plugin.web.context import db, services

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class ReferenceError_(ValueError):
    """A link or id we cannot open; the message says why and what to do."""


def reference_target(text: str) -> str:
    """The verification page of the credential a link or id names; raises with a sentence."""
    text = (text or "").strip()
    if not text:
        raise ReferenceError_(_("Give the verification link or the credential's identifier."))
    if len(text) > 2048:
        raise ReferenceError_(_("This is too long to be a verification link."))
    ident = None
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        ours = urlsplit(services().settings.base_url)
        m = re.search(r"/(?:verify|credentials|learner/credentials)/(" + UUID.pattern + r")(?:[/?#]|$)", parts.path + "/")
        if parts.netloc.lower() != ours.netloc.lower():
            raise ReferenceError_(_("This link is not a verification page of this service (%(site)s). Open it "
                                    "directly, or download the credential file and upload it here.",
                                    site=ours.netloc))
        if m is None:
            raise ReferenceError_(_("This link does not point to a credential. A verification link looks like "
                                    "%(example)s.", example=url_for("verify.public", public_id="…", _external=False)))
        ident = m.group(1)
    elif text.startswith("urn:uuid:") or UUID.fullmatch(text):
        ident = text.removeprefix("urn:uuid:")
    else:
        raise ReferenceError_(_("This is neither a verification link nor a credential identifier. Paste the "
                                "whole link, or upload the credential file."))
    row = db().scalars(select(IssuedCredential.public_id).where(IssuedCredential.public_id == ident.lower())).first()
    if row is None:
        raise ReferenceError_(_("No credential of this service has the identifier %(id)s. Check the link, or "
                                "upload the credential file.", id=ident))
    return url_for("verify.public", public_id=row)


def upload_problem(filename: str | None, data: bytes, text: str) -> str | None:
    """A sentence when there is nothing to verify, before the verifier runs."""
    if filename and not data.strip():
        return _("The file “%(name)s” is empty. Choose the credential file you were given.", name=filename)
    if not filename and not text.strip():
        return _("Choose a credential file, paste its content, or give its verification link.")
    return None
