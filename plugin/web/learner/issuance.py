"""What the learner page says when issuing their credential failed (helpers for :mod:`plugin.web.learner.routes`).

The pass is recorded and the credential owed: the learner reads that it is being issued
and retried automatically, or, once automatic retries are exhausted, that the course
staff have been told. Never "not yet passed", and never the technical reason (that is
for staff: the instructor's issued list and the admin overview).
"""
from __future__ import annotations

from datetime import datetime, timezone

from plugin.domain.i18n import N_
from plugin.issuance.pending import award_or_defer, open_pending
from plugin.storage.models import CredentialDefinition, IssuedCredential, Learner
from plugin.web.context import services

BEING_ISSUED = N_("You passed. The first try at issuing your credential did not work; it will appear here "
                  "once it is issued. You do not need to do anything.")
STAFF_TOLD = N_("You passed, and your result is kept. The staff will fix the problem and issue your credential; "
                "you do not need to do anything.")


class IssuingPending(RuntimeError):
    """Issuing failed; the claim is kept with the pending issuance and retried."""


def pending_state(session, definition: CredentialDefinition, learner: Learner) -> dict | None:
    """The learner page's state when an issuance of this credential failed: ``pending`` or ``issue_failed``."""
    row = open_pending(session, definition.id, learner.id)
    if row is None:
        return None
    if row.state == "failed":
        return {"state": "issue_failed", "credential": None, "reason": STAFF_TOLD}
    return {"state": "pending", "credential": None, "reason": BEING_ISSUED}


def claim_award(session, definition: CredentialDefinition, learner: Learner, *, evidence_id: int | None,
                display_name: str | None, actor_label: str) -> IssuedCredential:
    """The learner claims: issue now, or keep the claim (name, consent) with a pending issuance
    and raise :class:`IssuingPending`."""
    claim = {"display_name": display_name, "actor": actor_label, "at": datetime.now(timezone.utc).isoformat()}
    attempt = award_or_defer(session, services(), definition_id=definition.id, learner_id=learner.id,
                             evidence_id=evidence_id, display_name=display_name, actor=actor_label,
                             origin="claim", claim=claim)
    if attempt.pending is not None:
        raise IssuingPending(str(attempt.failure.reason))
    return attempt.credential
