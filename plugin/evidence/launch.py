"""What the bridges take from each validated LTI launch (the LTI layer calls :func:`on_launch`).

After a launch is validated and its ``Learner``/``Course`` rows upserted, the LTI layer calls
``on_launch(session, services, actor, claims)`` with the :class:`plugin.web.auth.Actor` and
the id_token's claims. It:

* remembers the learner's Open edX username (``preferred_username``, sent when the course
  shares it) so the grades API can be matched to the learner;
* records the tool's own AGS line item in the policy of ``ags`` credentials, from an
  instructor's launch (AGS claim ``lineitem``), or from a learner's launch of the link made
  for that credential while none is recorded, unless its address is one the tool does not
  call (:mod:`plugin.net`);
* turns a learner's launch into evidence for ``gated_launch`` credentials
  (:mod:`plugin.evidence.gated_launch`), issuing when the policy is automatic.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from plugin.evidence.base import definitions_for_course
from plugin.logging import log_event
from plugin.evidence.gated_launch import evidence_from_launch
from plugin.issuance.auto import Outcome
from plugin.storage.models import Learner, Platform

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
log = logging.getLogger("microcred.evidence.launch")


def has_work(session: Session, actor: Any, claims: dict[str, Any] | None = None) -> bool:
    """Whether :func:`on_launch` would do anything for this launch, from the sources of the
    course's definitions (kept by :mod:`plugin.storage.config_cache`), so that most launches
    skip the bridges (and their savepoint) altogether."""
    claims = claims or {}
    username = claims.get("preferred_username")
    learner_id = getattr(actor, "learner_id", None)
    if learner_id and isinstance(username, str) and username:
        learner = session.get(Learner, learner_id)
        if learner is None or (learner.external_ids or {}).get("openedx_username") != username:
            return True
    course_id = getattr(actor, "course_id", None)
    if not course_id:
        return False
    lineitem = (claims.get(AGS_CLAIM) or {}).get("lineitem") if isinstance(claims.get(AGS_CLAIM), dict) else None
    roles = list(getattr(actor, "roles", None) or [])
    gated = "learner" in roles and "instructor" not in roles and "admin" not in roles and learner_id
    from plugin.storage import config_cache
    sources = config_cache.cached(session, ("course_sources", course_id), lambda: tuple(
        (definition.enabled, policy.source) for definition, policy in
        definitions_for_course(session, course_id, enabled_only=False)))
    for enabled, source in sources:
        if lineitem and source == "ags":
            return True
        if gated and enabled and source == "gated_launch":
            return True
    return False


def on_launch(session: Session, services, actor: Any, claims: dict[str, Any] | None = None) -> list[Outcome]:
    claims = claims or {}
    roles = list(getattr(actor, "roles", None) or [])
    learner_id = getattr(actor, "learner_id", None)
    username = claims.get("preferred_username")
    if learner_id and isinstance(username, str) and username:
        platform = session.get(Platform, actor.platform_id) if getattr(actor, "platform_id", None) else None
        if platform is None or platform.product in ("openedx", "generic", "sandbox"):
            learner = session.get(Learner, learner_id)
            if learner is not None and (learner.external_ids or {}).get("openedx_username") != username:
                learner.external_ids = {**(learner.external_ids or {}), "openedx_username": username}
    course_id = getattr(actor, "course_id", None)
    lineitem = (claims.get(AGS_CLAIM) or {}).get("lineitem") if isinstance(claims.get(AGS_CLAIM), dict) else None
    if course_id and lineitem:
        from lti.service import check_service_url
        problem = check_service_url(services, lineitem, "AGS line item")
        if problem:
            # The tool would send its access token there when a learner opens the page: never an
            # internal address, whoever registered the platform (Dynamic Registration is open).
            log_event(log, "AGS line item not recorded", logging.WARNING, course_id=course_id, problem=problem)
            lineitem = None
    if course_id and lineitem:
        staff = "instructor" in roles or "admin" in roles
        linked = getattr(actor, "definition_public_id", None)
        for definition, policy in definitions_for_course(session, course_id, "ags", enabled_only=False):
            # An instructor's launch sets (or moves) the column; a learner's launch of the link
            # made for this very credential fills it in when no instructor has launched since.
            if policy.ags_lineitem != lineitem and (
                    staff or (not policy.ags_lineitem and linked == definition.public_id)):
                definition.policy = {**(definition.policy or {}), "ags_lineitem": lineitem}
    return evidence_from_launch(session, services, actor)
