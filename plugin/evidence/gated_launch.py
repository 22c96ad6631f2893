"""Gated launch: the launch itself is the evidence (off by default).

The platform releases the tool's link only to learners who passed (Moodle "Restrict
access", Open edX prerequisites); a learner's launch of that link is taken as "passed".
It trusts the platform's access rules entirely: see
:data:`plugin.domain.policy.GATED_LAUNCH_WARNING`, shown to the instructor on enabling
(the policy refuses ``gated_launch`` unless ``gated_launch_acknowledged``).

The LTI layer calls :func:`evidence_from_launch` after a validated learner launch.
One evidence per (definition, learner): concurrent or repeated launches record it once,
and the engine's ``award`` issues at most one credential.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plugin.domain.policy import Observation
from plugin.evidence.base import definitions_for_course
from plugin.issuance.auto import Outcome, process_observation
from plugin.storage.models import CredentialDefinition, Learner

TRUSTS = "the platform's access restriction on the tool link (no score was seen)"


def observation_for_launch(*, platform_issuer: str | None, context_id: str | None,
                           resource_link_id: str | None, deployment_id: str | None = None) -> Observation:
    return Observation(source="gated_launch", passed=True, details={
        "platform": platform_issuer, "context_id": context_id, "resource_link_id": resource_link_id,
        "deployment_id": deployment_id, "trusts": TRUSTS})


def evidence_from_launch(session: Session, services, actor: Any) -> list[Outcome]:
    """Record a learner's launch as evidence for every enabled gated-launch definition it targets.

    ``actor`` is the LTI layer's :class:`plugin.web.auth.Actor` (only its attributes are used:
    roles, course_id, learner_id, platform_issuer, context_id, resource_link_id,
    deployment_id, definition_public_id). Instructors' launches are never evidence.
    """
    roles = list(getattr(actor, "roles", None) or [])
    if "learner" not in roles or "instructor" in roles or "admin" in roles:
        return []
    if not getattr(actor, "course_id", None) or not getattr(actor, "learner_id", None):
        return []
    targets = definitions_for_course(session, actor.course_id, "gated_launch")
    wanted = getattr(actor, "definition_public_id", None)
    if wanted:  # the link was deep-linked to one definition: only that one is gated by it
        targets = [(d, p) for d, p in targets if d.public_id == wanted]
    if not targets:
        return []
    learner = session.get(Learner, actor.learner_id)
    outcomes = []
    for definition, policy in targets:
        obs = observation_for_launch(platform_issuer=actor.platform_issuer, context_id=actor.context_id,
                                     resource_link_id=actor.resource_link_id,
                                     deployment_id=getattr(actor, "deployment_id", None))
        outcomes.append(process_observation(session, services, definition=definition, learner=learner,
                                            observation=obs, policy=policy,
                                            dedup_key=f"launch:{definition.id}:{learner.id}"))
        # No display name: the learner's name goes into a credential only when they claim it.
    return outcomes


def evidence_for_definition(session: Session, services, definition: CredentialDefinition, learner: Learner,
                            **launch: Any) -> Outcome:
    """Same as :func:`evidence_from_launch` for one known definition (tests, the sandbox)."""
    return process_observation(session, services, definition=definition, learner=learner,
                               observation=observation_for_launch(**launch),
                               dedup_key=f"launch:{definition.id}:{learner.id}")
