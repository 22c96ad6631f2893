"""The holder-bound copy of a learner's credential, before signing.

``ldp_vc`` and ``jwt_vc_json``: the learner's Open Badges 3.0 credential with a new ``id``
(``urn:uuid:`` of the copy) and the wallet's DID as ``credentialSubject.id``; everything
else, the ``credentialStatus`` entry included, is the learner's credential's. Both forms
point at the same status-list index, so revoking the learner's credential revokes every
copy. (``dc+sd-jwt`` is in :mod:`.sdjwt`.)
"""
from __future__ import annotations

import copy
from typing import Any


def holder_bound_copy(document: dict[str, Any], holder_did: str, copy_id: str) -> dict[str, Any]:
    """The unsigned OB 3.0 copy for the wallet whose key is ``holder_did``."""
    doc = copy.deepcopy({k: v for k, v in document.items() if k != "proof"})
    doc["id"] = copy_id
    subject = doc.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
        doc["credentialSubject"] = subject
    if not isinstance(subject, dict):
        raise ValueError("the learner's credential has no credentialSubject")
    subject["id"] = holder_did
    return doc
