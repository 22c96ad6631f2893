"""Why a learner has, or has not yet, a credential: what the learner page shows.

:func:`explain_status` looks at the current credential, then at the latest evidence
re-evaluated under the *current* policy (an instructor may have changed the pass mark),
and says in one sentence what the learner sees ("Your course grade is 62 %; the pass
mark is 70 %.") or what is missing ("Moodle has not been asked about your grades yet.").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.i18n import N_
from plugin.domain.policy import SOURCE_LABELS, evaluate, parse_policy
from plugin.evidence.base import as_utc, evidence_observation, latest_evidence
from plugin.storage.models import CURRENT_STATUSES, CredentialDefinition, IssuedCredential, Learner

# state: issued | suspended | ready_to_claim | being_issued | not_passed | no_result | not_available
NO_RESULT = {
    "openedx_webhook": N_("Open edX has not reported a result for you yet; "
                          "it does as soon as your course grade changes."),
    "openedx_grades": N_("Your Open edX course grade has not been checked yet."),
    "moodle": N_("Your Moodle grades and completion have not been checked yet."),
    "ags": N_("No score has been posted for you on this activity yet."),
    "gated_launch": N_("Open this tool from the link your course shows once you have passed."),
}


@dataclass
class StatusExplanation:
    state: str
    message: str
    source: str | None = None
    source_label: str | None = None
    score: float | None = None
    pass_mark: float | None = None
    observed_at: datetime | None = None
    credential_id: int | None = None
    credential_public_id: str | None = None
    evidence_id: int | None = None
    can_claim: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.observed_at is not None:
            data["observed_at"] = self.observed_at.isoformat()
        return data


_UNKNOWN = object()


def explain_status(session: Session, definition: CredentialDefinition, learner: Learner,
                   *, current: IssuedCredential | None | object = _UNKNOWN) -> StatusExplanation:
    """``current``: the learner's current (active or suspended) credential when the caller has
    just read it (``None``: none), so it is not read again."""
    if current is _UNKNOWN:
        current = session.scalar(select(IssuedCredential).where(
            IssuedCredential.definition_id == definition.id, IssuedCredential.learner_id == learner.id,
            IssuedCredential.status.in_(CURRENT_STATUSES)).order_by(IssuedCredential.id.desc()).limit(1))
    if current is not None:
        if current.status == "suspended":
            return StatusExplanation(state="suspended", credential_id=current.id, credential_public_id=current.public_id,
                                     message=N_("Your credential was issued and is currently suspended by the issuer. "
                                                "Reason: %(reason)s", reason=current.status_reason)
                                     if current.status_reason else
                                     N_("Your credential was issued and is currently suspended by the issuer."))
        return StatusExplanation(state="issued", credential_id=current.id, credential_public_id=current.public_id,
                                 message=N_("Your credential has been issued."))
    policy = parse_policy(definition.policy)
    if policy is None or not definition.enabled:
        return StatusExplanation(state="not_available",
                                 message=N_("This credential is not open yet: your instructor has not enabled it."))
    base = {"source": policy.source, "source_label": SOURCE_LABELS[policy.source]}
    evidence = latest_evidence(session, definition.id, learner.id)
    if evidence is None:
        return StatusExplanation(state="no_result", message=NO_RESULT[policy.source], **base)
    decision = evaluate(policy, evidence_observation(evidence))
    info = dict(base, score=decision.score, pass_mark=decision.pass_mark, observed_at=as_utc(evidence.observed_at),
                evidence_id=evidence.id)
    if not decision.passed:
        return StatusExplanation(state="not_passed", message=decision.reason, **info)
    if policy.issuance == "automatic":
        return StatusExplanation(state="being_issued", message=N_(
            "%(reason)s Your credential is being issued; it will appear here shortly.", reason=decision.reason), **info)
    return StatusExplanation(state="ready_to_claim", can_claim=True,
                             message=N_("%(reason)s You can claim your credential now.", reason=decision.reason), **info)
