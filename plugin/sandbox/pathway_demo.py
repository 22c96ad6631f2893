"""The demo's pathway: two courses on the sandbox platform and one on a second sandbox platform
stack into a 15-ECTS certificate, awarded automatically when the third part is issued.

:func:`prepare_pathway` is demo data (what an admin and, earlier in the year, the learner did):
the second course on the sandbox platform, a second platform with its course, the pathway
(enabled), and Grace's two earlier credentials — one on each platform, under two identities.
The story then has Grace link her two accounts herself (:func:`link_accounts`, over HTTP) and
pass the demo course: the tool issues that course's credential and, at once, the pathway's.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

SECOND_ISSUER = "http://127.0.0.1/microcred-second-sandbox"
SECOND_LEARNER = "grace-on-second-sandbox"
PATHWAY_NAME = "Certificate in Data for Public Policy"
DEMO_LEARNER = "sandbox-learner-1"
PART_POLICY = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 50, "issuance": "automatic"}


def _part(title: str, description: str):
    from plugin.issuance.demo_data import demo_definition
    return demo_definition().model_copy(update={"title": title, "description": description})


def _course(session, issuer, platform_issuer: str, platform_id: int, context_id: str, title: str, definition):
    from plugin.evidence.base import find_course
    from plugin.issuance import service as issuance
    from plugin.storage.models import Course
    course = find_course(session, platform_issuer, context_id)
    if course is None:
        course = Course(platform_issuer=platform_issuer, context_id=context_id, platform_id=platform_id, title=title)
        session.add(course)
        session.flush()
    found = issuance.definition_for_course(session, course)
    if found is None or not found.enabled:
        version = issuance.save_definition(session, course, definition, "instructor:demo", issuer, definition=found,
                                           policy=dict(PART_POLICY))
        issuance.set_enabled(session, version.definition, True, actor="instructor:demo")
        found = version.definition
    return found


def _earned(session, services, definition, platform_issuer: str, sub: str, *, days_ago: int, email: str | None):
    """Grace's earlier credential of ``definition`` under the identity (platform, sub)."""
    from plugin.issuance import service as issuance
    from plugin.storage.models import Learner, PassEvidence
    learner = session.scalars(select(Learner).where(Learner.platform_issuer == platform_issuer,
                                                    Learner.sub == sub)).first()
    if learner is None:
        learner = Learner(platform_issuer=platform_issuer, sub=sub, name="Grace Hopper", email=email)
        session.add(learner)
        session.flush()
    if issuance.current_credential(session, definition.id, learner.id) is None:
        when = datetime.now(timezone.utc) - timedelta(days=days_ago)
        evidence = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="openedx_webhook",
                                dedup_key=f"demo-history:{definition.public_id}:{learner.public_id}", passed=True,
                                score=0.78, pass_mark=0.5,
                                details={"source_label": "Open edX (course passing event, demo history)"},
                                observed_at=when)
        session.add(evidence)
        session.flush()
        issuance.award(session, services, definition_id=definition.id, learner_id=learner.id, evidence_id=evidence.id,
                       actor="demo:history")
    return learner


def prepare_pathway(session, services, platform, platform_row, issuer, definition) -> dict | None:
    """The demo pathway around ``definition`` (the story's course credential), idempotent; ``None``
    (and a warning on stderr) when it cannot be set up, e.g. when nothing can be signed: the main
    story then runs without it and stops at the step that fails, naming the cause."""
    import sys
    savepoint = session.begin_nested()
    try:
        info = _prepare_pathway(session, services, platform, platform_row, issuer, definition)
    except Exception as exc:  # the demo's own data: the story names the real cause further on
        savepoint.rollback()
        sys.stderr.write(f"demo pathway not set up: {exc}\n")
        return None
    savepoint.commit()
    return info


def _prepare_pathway(session, services, platform, platform_row, issuer, definition) -> dict:
    from plugin.domain.definition import DefinitionData
    from plugin.domain.pathways import target_from_parts
    from plugin.issuance import pathways
    from plugin.storage.models import IssuerPlatform, Platform
    second = session.scalars(select(Platform).where(Platform.issuer == SECOND_ISSUER)).first()
    if second is None:
        second = Platform(issuer=SECOND_ISSUER, client_id="microcred-second-sandbox", name="Second sandbox LMS",
                          product="generic", auth_login_url=SECOND_ISSUER + "/auth",
                          auth_token_url=SECOND_ISSUER + "/token", key_set_url=SECOND_ISSUER + "/jwks")
        session.add(second)
        session.flush()
        session.add(IssuerPlatform(issuer_id=issuer.id, platform_id=second.id))
    statistics = _course(session, issuer, platform.issuer, platform_row.id, "sandbox-statistics",
                         "Sandbox course: Statistics for Public Policy",
                         _part("Statistics for Public Policy", "Descriptive statistics and charts for policy questions."))
    open_data = _course(session, issuer, SECOND_ISSUER, second.id, "second-sandbox-open-data",
                        "Open Data Foundations",
                        _part("Open Data Foundations", "Find, clean and combine open public datasets."))
    pathway = next((p for p in pathways.pathways_including(session, definition.id, enabled_only=False)), None)
    if pathway is None:
        parts = [open_data, statistics, definition]
        rules = {"name": PATHWAY_NAME, "min_ects": 15,
                 "requirements": {"all": [{"credential": d.public_id} for d in parts]}}
        datas = [DefinitionData.from_json(d.versions[-1].data) for d in parts]
        target = target_from_parts(datas, title=PATHWAY_NAME, description=(
            "Three stackable micro-credentials in data for public policy, taken on two platforms."),
            eqf_level=6)
        pathway = pathways.create_pathway(session, services, issuer, rules, target, actor="admin:demo")
        pathways.set_pathway_enabled(session, pathway, True, actor="admin:demo")
    _earned(session, services, statistics, platform.issuer, DEMO_LEARNER, days_ago=60, email=None)
    other = _earned(session, services, open_data, SECOND_ISSUER, SECOND_LEARNER, days_ago=30,
                    email="grace.hopper@second-sandbox.example")
    from plugin.issuance import service as issuance
    held = issuance.current_credential(session, open_data.id, other.id)
    return {"pathway_public_id": pathway.public_id, "pathway_definition_id": pathway.target_definition_id,
            "second_identity": other.public_id, "second_credential": held.public_id}


def link_accounts(services, learner, tool: str, lti_launch, lms: str, link: str, info: dict) -> str:
    """Grace links her account on the second platform, herself: she opens her credential from
    that platform (the link she received by e-mail), asks to link, then opens the tool from
    the sandbox course and confirms. Returns what happened, in words."""
    from plugin.delivery.access import make_access_token
    from plugin.issuance import pathways
    from plugin.sandbox.story import StoryError, _ok, find_form, forms
    from plugin.storage.models import Learner
    token = make_access_token(services.settings.secret_key, info["second_identity"])
    page = _ok(learner.get(f"{tool}/learner/credentials/{info['second_credential']}", params={"access": token},
                           timeout=60), "learner opens her credential from the second platform")
    start = find_form(page, lambda f: f.attrs.get("id") == "link-start-form", "the 'link an account' button")
    _ok(learner.post(start.action, data=start.fields, timeout=60), "learner starts linking her accounts")
    home = lti_launch(learner, lms, DEMO_LEARNER, link)
    if not any("/learner/link/confirm" in f.action for f in forms(home.text)):
        with services.session() as s:
            other = s.scalars(select(Learner).where(Learner.public_id == info["second_identity"])).one()
            if len(pathways.identities(s, other.id)) > 1:
                return "already linked (an earlier run of the demo)"
        raise StoryError("the launch from the sandbox course did not offer to link the accounts")
    confirm = find_form(home, lambda f: "/learner/link/confirm" in f.action, "the link confirmation")
    confirm.fields["decision"] = "link"
    _ok(learner.post(confirm.action, data=confirm.fields, timeout=60), "learner confirms the link")
    return "linked"
