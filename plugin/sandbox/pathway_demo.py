"""The demo's pathway: two courses on the sandbox platform and one on a second sandbox platform
stack into a 15-ECTS certificate, awarded automatically when the third part is issued.

The second sandbox platform is a running platform of its own (its issuer, keys, port; see
:func:`second_sandbox_config`), registered in the tool like the first. :func:`prepare_pathway`
is demo data (what an admin and, earlier in the year, the learner did): the second course on
the first platform, the course on the second platform, the pathway (enabled), and Grace's
earlier credential of the second course on the first platform. The story then has Grace, over
HTTP, open the course on the second platform and pass it there (its signed webhook: the tool
issues that credential), link her two accounts herself (:func:`link_accounts`), and pass the
demo course: the tool issues that course's credential and, at once, the pathway's.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

# The second platform keeps this LTI issuer whatever its port, so the tool keeps one registration
# (and Grace one identity) for it from one run to the next.
SECOND_ISSUER = "http://127.0.0.1/microcred-second-sandbox"
SECOND_CLIENT_ID = "microcred-second-sandbox"
SECOND_NAME = "Second sandbox LMS"
SECOND_LEARNER = "grace-on-second-sandbox"
SECOND_COURSE = ("second-sandbox-open-data", "Open Data Foundations")
PATHWAY_NAME = "Certificate in Data for Public Policy"
DEMO_LEARNER = "sandbox-learner-1"
PART_POLICY = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 50, "issuance": "automatic"}


def second_sandbox_config(base_url: str, tool_url: str, folder, *, headless: bool = False, run: int | None = None):
    """The second sandbox platform: its own issuer (:data:`SECOND_ISSUER`), client id, RSA and
    webhook keys (kept in ``folder`` across runs), one course and Grace's account there.
    ``run``: the headless demo's run number, so each run has a course of its own there too."""
    from pathlib import Path

    from plugin.sandbox.platform import SandboxConfig
    folder = Path(folder)
    course_id, title = SECOND_COURSE
    if run is not None:
        course_id, title = f"{course_id}-{run}", f"{title} (headless demo run {run})"
    return SandboxConfig(
        base_url=base_url, tool_base_url=tool_url, client_id=SECOND_CLIENT_ID, issuer=SECOND_ISSUER,
        name=SECOND_NAME, course_id=course_id, course_title=title,
        key_file=folder / "second-platform-key.pem", webhook_key_file=folder / "second-webhook-key.pem",
        links_file=None if headless else folder / "second-links.json",
        users={SECOND_LEARNER: {"name": "Grace Hopper", "given_name": "Grace", "family_name": "Hopper",
                                "email": "grace.hopper@second-sandbox.example", "role": "learner"}})


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


def prepare_pathway(session, services, platform, platform_row, issuer, definition, second) -> dict | None:
    """The demo pathway around ``definition`` (the story's course credential) and the course of the
    ``second`` sandbox platform (registered already), idempotent; ``None`` (and a warning on
    stderr) when it cannot be set up, e.g. when nothing can be signed: the main story then runs
    without it and stops at the step that fails, naming the cause."""
    import sys
    savepoint = session.begin_nested()
    try:
        info = _prepare_pathway(session, services, platform, platform_row, issuer, definition, second)
    except Exception as exc:  # the demo's own data: the story names the real cause further on
        savepoint.rollback()
        sys.stderr.write(f"demo pathway not set up: {exc}\n")
        return None
    savepoint.commit()
    return info


def _prepare_pathway(session, services, platform, platform_row, issuer, definition, second) -> dict:
    from plugin.domain.definition import DefinitionData
    from plugin.domain.pathways import target_from_parts
    from plugin.evidence.bridge_config import set_openedx_webhook_key
    from plugin.issuance import pathways
    from plugin.storage.models import IssuerPlatform, Platform
    second_row = session.scalars(select(Platform).where(Platform.issuer == second.issuer,
                                                        Platform.client_id == second.config.client_id)).one()
    set_openedx_webhook_key(second_row, second.webhook_public_pem())  # its course-passing webhooks are accepted
    if not session.scalars(select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id,
                                                        IssuerPlatform.platform_id == second_row.id)).first():
        session.add(IssuerPlatform(issuer_id=issuer.id, platform_id=second_row.id))
    statistics = _course(session, issuer, platform.issuer, platform_row.id, "sandbox-statistics",
                         "Sandbox course: Statistics for Public Policy",
                         _part("Statistics for Public Policy", "Descriptive statistics and charts for policy questions."))
    open_data = _course(session, issuer, second.issuer, second_row.id, second.course["id"], second.course["title"],
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
        pathways.set_pathway_enabled(session, pathway, True, actor="admin:demo", services=services)
    _earned(session, services, statistics, platform.issuer, DEMO_LEARNER, days_ago=60, email=None)
    return {"pathway_public_id": pathway.public_id, "pathway_definition_id": pathway.target_definition_id,
            "second_definition_id": open_data.id, "second_learner": SECOND_LEARNER}


def link_accounts(services, learner, credential_page, lti_launch, lms: str, link: str, info: dict) -> str:
    """Grace links her account on the second platform, herself: on the credential page she has
    open there (``credential_page``), she asks to link, then opens the tool from the first
    sandbox course and confirms. Returns what happened, in words."""
    from plugin.issuance import pathways
    from plugin.sandbox.story import StoryError, _ok, find_form, forms
    from plugin.storage.models import IssuedCredential
    start = find_form(credential_page, lambda f: f.attrs.get("id") == "link-start-form",
                      "the 'link an account' button")
    _ok(learner.post(start.action, data=start.fields, timeout=60), "learner starts linking her accounts")
    home = lti_launch(learner, lms, DEMO_LEARNER, link)
    if not any("/learner/link/confirm" in f.action for f in forms(home.text)):
        with services.session() as s:
            held = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == start.fields.get("credential"))).first()
            if held is not None and len(pathways.identities(s, held.learner_id)) > 1:
                return "already linked (an earlier run of the demo)"
        raise StoryError("the launch from the sandbox course did not offer to link the accounts")
    confirm = find_form(home, lambda f: "/learner/link/confirm" in f.action, "the link confirmation")
    confirm.fields["decision"] = "link"
    _ok(learner.post(confirm.action, data=confirm.fields, timeout=60), "learner confirms the link")
    return "linked"
