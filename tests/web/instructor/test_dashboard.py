"""The course dashboard, fed by the sandbox platform's roster over real HTTP (NRPS)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from plugin.storage.models import CredentialDefinition, Job, Learner, PassEvidence
from tests.lti.fixtures import live  # noqa: F401 - the fixture


def _counts(html: str) -> dict[str, int]:
    return {k: int(v.replace(",", "")) for k, v in
            re.findall(r'data-count="(\w+)"><span class="stat-label">[^<]*</span> <strong[^>]*>([\d,]+)</strong>', html)}


def _course_with_passes(live):
    """The sandbox course's credential, enabled; Grace passed (issued on the pass), Alan passed
    (to claim), Katherine has not passed yet."""
    from plugin.issuance.pending import award_or_defer
    from plugin.issuance.service import set_enabled
    from plugin.sandbox.demo import prepare_demo
    ids = prepare_demo(live.services, live.platform)
    people = {}
    with live.services.session() as s:
        definition = s.get(CredentialDefinition, ids["definition_id"])
        definition.policy = {**definition.policy, "issuance": "on_claim"}
        set_enabled(s, definition, True, actor="test")
        for sub, name, passed in (("sandbox-learner-1", "Grace Hopper", True), ("sandbox-learner-2", "Alan Turing", True),
                                  ("sandbox-learner-3", "Katherine Johnson", False)):
            # the demo may know Grace already (its pathway's earlier credentials)
            learner = s.scalars(select(Learner).where(Learner.platform_issuer == live.platform.issuer,
                                                      Learner.sub == sub)).first()
            if learner is None:
                learner = Learner(platform_issuer=live.platform.issuer, sub=sub)
                s.add(learner)
            learner.name, learner.email = name, sub.replace("sandbox-", "") + "@sandbox.invalid"
            s.flush()
            ev = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="openedx_webhook",
                              dedup_key=f"t:{sub}", passed=passed, score=82.0 if passed else 30.0,
                              details={"score_max": 100}, observed_at=datetime.now(timezone.utc))
            s.add(ev)
            s.flush()
            people[sub] = learner.public_id
            if sub == "sandbox-learner-1":
                cred = award_or_defer(s, live.services, definition_id=definition.id, learner_id=learner.id,
                                      evidence_id=ev.id).credential
                people["grace_credential"] = cred.public_id
    return people


def test_dashboard_counts_the_roster_and_reminds_who_has_not_claimed(live):
    people = _course_with_passes(live)
    browser = live.browser()
    base = live.tool.url
    public = people["grace_credential"]
    for _ in range(2):  # an employer opens the shared link twice, a program verifies once
        assert browser.get(f"{base}/verify/{public}").status_code == 200
    assert browser.s.get(f"{base}/verify/{public}", headers={"Accept": "application/json"}).status_code == 200
    page = browser.launch(live.platform, "sandbox-instructor")
    launch = parse_qs(urlsplit(page.url).query)["launch"][0]
    dash = browser.get(f"{base}/instructor/dashboard?launch={launch}")
    assert dash.status_code == 200, dash.text[:1000]
    assert _counts(dash.text) == {"enrolled": 3, "passed": 2, "issued": 1, "claimed": 0, "shared": 2,
                                  "verifications": 1, "pending": 0, "failed": 0}
    waiting = re.findall(r'class="waiting-row wrap" data-learner="([^"]+)"', dash.text)
    assert sorted(waiting) == sorted([people["sandbox-learner-1"], people["sandbox-learner-2"]])
    assert "issued, not claimed" in dash.text and "ready to claim" in dash.text

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', dash.text).group(1)
    resp = browser.s.post(f"{base}/instructor/dashboard/remind?launch={launch}",
                          data={"csrf_token": token, "launch": launch, "learner": waiting}, timeout=30)
    assert resp.status_code == 200 and "Reminders are on their way to 2 learners" in resp.text
    from plugin.jobs.queue import execute_job
    with live.services.session() as s:
        jobs = s.scalars(select(Job).where(Job.kind == "notify_claim_reminder")).all()
        job_ids = [j.id for j in jobs]
    assert len(job_ids) == 2
    for job_id in job_ids:
        assert execute_job(live.services, job_id) == "done"
    mails = sorted((live.services.settings.instance_dir / "mail").glob("*.eml"))
    texts = [m.read_text() for m in mails]
    assert any("To: learner-2@sandbox.invalid" in t and "waiting for you" in t for t in texts)

    export = browser.get(f"{base}/instructor/dashboard.csv?launch={launch}")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["name"] for r in rows] == ["Alan Turing", "Grace Hopper", "Katherine Johnson"]
    assert [(r["passed"], r["credential_status"], r["page_views"]) for r in rows] == [
        ("yes", "", "0"), ("yes", "active", "2"), ("no", "", "0")]


def test_without_a_roster_the_dashboard_says_so_and_counts_the_learners_it_knows(client, services):
    from tests.web.learner_support import story
    from tests.web.helpers import launch
    st = story(services)
    with services.session() as s:
        course = s.get(CredentialDefinition, st.world.definition_id).course
        from plugin.storage.models import Platform
        p = Platform(issuer=course.platform_issuer, client_id="c", name="LMS", auth_login_url="https://lms.example/a",
                     auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k", bridge_settings={})
        s.add(p)
        s.flush()
        pid, context = p.id, course.context_id
    lid = launch(services, ["instructor"], platform_id=pid, context_id=context)
    html = client.get(f"/instructor/dashboard?launch={lid}").get_data(as_text=True)
    assert "did not offer its roster" in html and "no longer in the course roster" not in html
    assert _counts(html)["enrolled"] == 1 and _counts(html)["passed"] == 1


def _reminder_mail(services, *, learner_locale, instructor_locale):
    """Send the reminder of a learner who passed and has not claimed, through the job the dashboard queues."""
    from plugin.delivery.notify import run_claim_reminder_job
    from tests.web.learner_support import story
    st = story(services)
    with services.session() as s:
        learner = s.get(Learner, st.world.learner_id)
        learner.locale, learner.email, learner.given_name = learner_locale, "ada@example.org", "Ada"
    result = run_claim_reminder_job(services, {"definition_id": st.world.definition_id,
                                               "learner_id": st.world.learner_id, "locale": instructor_locale}, None)
    assert result["sent"], result
    import email
    msg = email.message_from_bytes(open(result["file"], "rb").read(), policy=email.policy.default)
    return str(msg["Subject"]).strip(), msg.get_content()


def test_the_reminder_is_in_the_learners_language(services):
    subject, text = _reminder_mail(services, learner_locale="fr-FR", instructor_locale="en")
    assert subject.startswith("Votre microcertification vous attend : ")
    assert text.startswith("Bonjour Ada,\n\nVous avez réussi « ")
    assert "confirmez le nom qui y figurera" in text and "waiting" not in text


def test_the_reminder_falls_back_to_the_instructors_language(services):
    subject, text = _reminder_mail(services, learner_locale=None, instructor_locale="fr")
    assert subject.startswith("Votre microcertification vous attend") and "Bonjour Ada," in text


def test_a_learner_who_reads_english_gets_it_in_english_from_a_french_instructor(services):
    subject, text = _reminder_mail(services, learner_locale="en", instructor_locale="fr")
    assert subject.startswith("Your micro-credential is waiting: ") and text.startswith("Hello Ada,")
