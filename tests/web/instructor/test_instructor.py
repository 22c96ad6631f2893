"""Instructor pages: describe (every Annex I element), validate, preview, enable, version, manage, bulk."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from plugin.storage.models import (AuditLog, CredentialDefinition, DefinitionVersion, IssuedCredential, Issuer,
                                   IssuerPlatform, Job, Learner)
from tests.web.helpers import launch, make_platform


def _csrf(html):
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def make_issuer(services, platform_id, slug="univ-lille"):
    from plugin.issuance.service import create_issuer
    with services.session() as s:
        issuer = create_issuer(s, services, slug, {
            "legal_name": "Université de Lille", "url": "https://www.univ-lille.fr", "country_code": "FR",
            "region": "Hauts-de-France", "quality_assurance": "Hcéres external evaluation",
            # what its European Digital Credential needs: an eIDAS legal identifier and a QA type
            "legal_identifiers": [{"scheme": "SIREN", "value": "130 029 747"}], "qa_type": "institutional-qa"},
            actor="test")
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=platform_id))
        s.flush()
        return issuer.id


GOOD = {
    "title": "Data science with Python", "description": "Cleaning and analysing data.",
    "learning_outcomes-0-text": "Clean a tabular dataset with pandas",
    "learning_outcomes-0-esco_uri": "http://data.europa.eu/esco/skill/abc",
    "learning_outcomes-1-text": "Explain a regression model", "learning_outcomes-1-esco_uri": "",
    "criteria": "Pass the final exam", "workload_hours": "125", "ects_credits": "5", "eqf_level": "6",
    "qf_ehea_cycle": "first", "field_of_study": "0613", "languages": ["en", "fr"],
    "assessment_kind": "summative-proctored-exam", "assessment_details": "2-hour exam",
    "participation": "online", "supervision": "supervised-online-id", "grading_scheme": "0-100",
    "pass_mark": "70", "quality_assurance": "Reviewed by the pedagogical board", "prerequisites": "",
    "stackability": "stackable", "stackable_towards": "Master in Data Science", "validity_months": "",
    "further_information": "", "further_information_url": "https://example.edu/ds",
    "policy_source": "moodle", "policy_rule": "course_grade", "policy_threshold": "70",
    "policy_assessment": "", "policy_issuance": "automatic", "labels": ["gradeo"],
}


@pytest.fixture
def course(services):
    pid = make_platform(services)
    issuer_id = make_issuer(services, pid)
    lid = launch(services, ["instructor"], platform_id=pid)
    return {"platform": pid, "issuer": issuer_id, "launch": lid}


def _post_definition(client, course, **changes):
    lid = course["launch"]
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    data = dict(GOOD, issuer=str(course["issuer"]), launch=lid, csrf_token=_csrf(page), action="save")
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/instructor/definition?launch={lid}", data=data)


def test_first_launch_shows_an_empty_overview(client, course):
    html = client.get(f"/instructor/?launch={course['launch']}").get_data(as_text=True)
    assert "no credential yet" in html and "Describe the credential" in html


def test_form_offers_every_annex_element_and_controlled_choices(client, course):
    html = client.get(f"/instructor/definition?launch={course['launch']}").get_data(as_text=True)
    for name in ("title", "learning_outcomes-0-text", "learning_outcomes-0-esco_uri", "workload_hours",
                 "ects_credits", "eqf_level", "qf_ehea_cycle", "field_of_study", "languages", "assessment_kind",
                 "participation", "supervision", "grading_scheme", "pass_mark", "quality_assurance",
                 "prerequisites", "stackability", "stackable_towards", "validity_months", "further_information",
                 "issuer", "policy_source", "policy_rule", "policy_threshold", "policy_issuance", "labels"):
        assert f'name="{name}"' in html, name
    assert 'value="supervised-onsite-id"' in html and 'value="0613"' in html and 'value="8"' in html
    assert "Université de Lille" in html  # the allowed issuer
    assert 'selected value="moodle"' in html  # the platform's product decides the default source
    assert "Gated launch trusts" in html or "gated launch" in html.lower()


def test_save_preview_enable_then_edit_makes_a_new_version(client, services, course):
    lid = course["launch"]
    resp = _post_definition(client, course)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        assert d.labels == ["gradeo"] and d.policy["source"] == "moodle" and d.policy["threshold"] == 70
        v = s.scalar(select(DefinitionVersion))
        assert v.data["assessment_type"] == "Summative: proctored final exam — 2-hour exam"
        assert v.data["learning_outcomes"][0]["esco_uri"] == "http://data.europa.eu/esco/skill/abc"
        assert v.data["languages"] == ["en", "fr"] and v.data["field_of_study"] == "0613"
    preview = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert "What the learner sees" in preview and "What a verifier sees" in preview
    assert "OpenBadgeCredential" in preview and "MicroCredential" in preview
    assert "every rule is met" in preview
    badge = client.get(f"/instructor/preview/badge.svg?launch={lid}")
    assert badge.mimetype == "image/svg+xml" and b'role="img"' in badge.data and b"<path" in badge.data
    enable = client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(preview), "launch": lid})
    assert enable.status_code == 302
    with services.session() as s:
        assert s.scalar(select(CredentialDefinition)).enabled
    # an award under version 1, then an edit: version 2; the issued credential keeps version 1
    learner_id = _learner(services)
    cred_id = _award(services, learner_id)
    resp = _post_definition(client, course, title="Data science with Python, 2nd edition")
    assert resp.status_code == 302
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        assert d.current_version == 2
        cred = s.get(IssuedCredential, cred_id)
        assert cred.version.version == 1 and cred.document["name"] == "Data science with Python"


def _learner(services, sub="learner-1", name="Grace Hopper", email="grace@example.edu"):
    with services.session() as s:
        learner = Learner(platform_issuer="https://lms.example.edu", sub=sub, name=name, email=email)
        s.add(learner)
        s.flush()
        return learner.id


def _award(services, learner_id):
    from plugin.issuance.service import award
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        cred, created = award(s, services, definition_id=d.id, learner_id=learner_id, actor="test")
        assert created
        return cred.id


def test_errors_are_shown_next_to_each_field_and_nothing_is_saved(client, services, course):
    resp = _post_definition(client, course, **{
        "learning_outcomes-0-esco_uri": "https://not-esco.example/skill", "workload_hours": "abc",
        "languages": ["xx"], "policy_rule": "course_grade", "policy_threshold": "",
        "further_information_url": "ftp://nope"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="learning_outcomes-0-esco_uri-error"' in html and "ESCO" in html
    assert 'id="workload_hours-error"' in html
    assert 'id="policy_threshold-error"' in html and "pass mark" in html
    assert 'id="further_information_url-error"' in html
    assert "Nothing was saved" in html
    with services.session() as s:
        assert s.scalar(select(func.count(CredentialDefinition.id))) == 0
        assert s.scalar(select(func.count(DefinitionVersion.id))) == 0


def test_gated_launch_needs_the_warning_acknowledged(client, services, course):
    resp = _post_definition(client, course, policy_source="gated_launch", policy_rule="course_passed",
                            policy_threshold="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="policy_gated_ack-error"' in html
    resp = _post_definition(client, course, policy_source="gated_launch", policy_rule="course_passed",
                            policy_threshold="", policy_gated_ack="y")
    assert resp.status_code == 302


def test_french_decimal_input(client, services, course):
    from tests.web.helpers import launch as make_launch
    lid = make_launch(services, ["instructor"], platform_id=course["platform"], locale="fr-FR", sub="prof-fr")
    resp = _post_definition(client, dict(course, launch=lid), ects_credits="4,5", workload_hours="112,5")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        v = s.scalar(select(DefinitionVersion))
        assert v.data["ects_credits"] == 4.5 and v.data["workload_hours"] == 112.5
    html = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    assert 'value="4,5"' in html


def test_add_and_remove_outcome_rows_without_saving(client, services, course):
    lid = course["launch"]
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    base = dict(GOOD, issuer=str(course["issuer"]), launch=lid, csrf_token=_csrf(page))
    html = client.post(f"/instructor/definition?launch={lid}", data=dict(base, action="add_outcome")).get_data(as_text=True)
    assert 'name="learning_outcomes-2-text"' in html
    html = client.post(f"/instructor/definition?launch={lid}", data=dict(base, action="remove_outcome:0")).get_data(as_text=True)
    assert "Clean a tabular dataset" not in html and "Explain a regression model" in html
    with services.session() as s:
        assert s.scalar(select(func.count(DefinitionVersion.id))) == 0


def test_gradeo_check_names_the_failing_rule_and_blocks_enabling(client, services, course):
    lid = course["launch"]
    _post_definition(client, course, workload_hours="30", supervision="unsupervised-no-id")
    preview = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert 'data-rule="study-hours"' in preview and 'data-rule="identity-verification"' in preview
    assert "between 100 and 150 hours" in preview
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(preview), "launch": lid})
    with services.session() as s:
        assert not s.scalar(select(CredentialDefinition)).enabled
    html = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert "Not enabled" in html


def test_incomplete_definition_cannot_be_enabled(client, services, course):
    lid = course["launch"]
    _post_definition(client, course, title="", labels=None)
    preview = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert "Title: give the micro-credential a title" in preview
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(preview), "launch": lid})
    with services.session() as s:
        assert not s.scalar(select(CredentialDefinition)).enabled


def _enabled(client, services, course):
    lid = course["launch"]
    _post_definition(client, course)
    page = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid})
    return lid


def test_revoke_needs_a_reason_then_suspend_reinstate_reissue(client, services, course):
    lid = _enabled(client, services, course)
    cred_id = _award(services, _learner(services))
    with services.session() as s:
        public_id = s.get(IssuedCredential, cred_id).public_id
    page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    assert "Grace Hopper" in page and "active" in page
    token = _csrf(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))

    def act(action, reason=""):
        return client.post(f"/instructor/issued/{public_id}/{action}?launch={lid}",
                           data={"csrf_token": token, "launch": lid, "reason": reason})
    act("revoke")
    with services.session() as s:
        assert s.get(IssuedCredential, cred_id).status == "active"
    assert "Say why" in client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    act("suspend", "under review")
    with services.session() as s:
        assert s.get(IssuedCredential, cred_id).status == "suspended"
    act("reinstate")
    act("reissue")
    with services.session() as s:
        old = s.get(IssuedCredential, cred_id)
        assert old.status == "superseded"
        new = s.scalar(select(IssuedCredential).where(IssuedCredential.replaces_id == cred_id))
        new_public = new.public_id
    public_id = new_public
    act("revoke", "exam fraud")
    with services.session() as s:
        new = s.scalar(select(IssuedCredential).where(IssuedCredential.public_id == new_public))
        assert new.status == "revoked" and new.status_reason == "exam fraud"
        actions = {a.action for a in s.scalars(select(AuditLog))}
        assert {"credential.revoke", "credential.suspend", "credential.reinstate", "credential.supersede"} <= actions


def test_issued_list_filters_pages_and_exports_thousands_of_rows(client, services, course):
    lid = _enabled(client, services, course)
    _bulk_rows(services, 3000)
    html = client.get(f"/instructor/issued?launch={lid}&per_page=50").get_data(as_text=True)
    assert "3,000 learners hold or held this credential" in html and "Page 1 of 60" in html
    assert html.count('class="issued-row"') == 50
    html = client.get(f"/instructor/issued?launch={lid}&page=60&per_page=50").get_data(as_text=True)
    assert html.count('class="issued-row"') == 50
    html = client.get(f"/instructor/issued?launch={lid}&q=learner-2999").get_data(as_text=True)
    assert html.count('class="issued-row"') == 1 and "Learner 2999" in html
    html = client.get(f"/instructor/issued?launch={lid}&status=revoked").get_data(as_text=True)
    assert "100 learners hold or held this credential" in html
    resp = client.get(f"/instructor/issued.csv?launch={lid}")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][0] == "credential_id" and len(rows) == 3001
    rows = list(csv.reader(io.StringIO(client.get(f"/instructor/issued.csv?launch={lid}&status=revoked").get_data(as_text=True))))
    assert len(rows) == 101 and all(r[5] == "revoked" for r in rows[1:])


def _bulk_rows(services, n):
    """n issued rows inserted directly (signing 3000 credentials is not what this test measures)."""
    from datetime import datetime, timedelta, timezone
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        v = s.scalar(select(DefinitionVersion).where(DefinitionVersion.definition_id == d.id))
        key_id = s.scalar(select(Issuer)).keys[0].id
        learners = [Learner(platform_issuer="https://lms.example.edu", sub=f"learner-{i}", name=f"Learner {i}",
                            email=f"l{i}@example.edu") for i in range(n)]
        s.add_all(learners)
        s.flush()
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        s.add_all([IssuedCredential(credential_id=f"https://tool.test/credentials/c{i}", definition_id=d.id,
                                    definition_version_id=v.id, learner_id=l.id, issuer_id=d.issuer_id,
                                    issuer_key_id=key_id, status="revoked" if i % 30 == 0 else "active",
                                    issued_at=t0 + timedelta(minutes=i), document={}, jwt="")
                   for i, l in enumerate(learners)])


def test_bulk_issue_reports_each_row(client, services, course):
    from plugin.jobs.queue import execute_job
    lid = _enabled(client, services, course)
    _learner(services, sub="known-1", name="Known Learner", email="known@example.edu")
    existing = _learner(services, sub="has-one", name="Has One", email="has@example.edu")
    _award(services, existing)
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    body = "email,sub,name\nknown@example.edu,,Known Learner\n,new-sub-7,New Person\nnobody@example.edu,,Nobody\nhas@example.edu,,Has One\n"
    resp = client.post(f"/instructor/bulk?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid,
                       "file": (io.BytesIO(body.encode()), "passed.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    job_id = int(re.search(r"/bulk/(\d+)", resp.headers["Location"]).group(1))
    status = client.get(f"/instructor/bulk/{job_id}?launch={lid}&format=json").get_json()
    assert status["status"] == "queued"
    assert execute_job(services, job_id) == "done"
    status = client.get(f"/instructor/bulk/{job_id}?launch={lid}&format=json").get_json()
    assert status["counts"] == {"issued": 2, "skipped": 2, "failed": 0, "pending": 0}
    assert status["progress"] == {"done": 4, "total": 4}
    html = client.get(f"/instructor/bulk/{job_id}?launch={lid}").get_data(as_text=True)
    assert "2 issued, 2 skipped" in html
    assert "No learner with this e-mail" in html and "Already holds this credential" in html
    with services.session() as s:
        assert s.scalar(select(func.count(IssuedCredential.id))) == 3
        assert s.scalar(select(Learner).where(Learner.sub == "new-sub-7")).name == "New Person"


def test_a_large_bulk_report_lists_only_the_rows_not_issued(client, services, course, monkeypatch):
    """Above the report limit (20,000 rows) the page lists what needs the instructor's eye, not every success."""
    from plugin.issuance import bulk
    from plugin.jobs.queue import execute_job
    monkeypatch.setattr(bulk, "REPORT_ALL_ROWS", 2)
    lid = _enabled(client, services, course)
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    body = "sub,email,name\nbig-1,,Ada\nbig-2,,Grace\n,nobody@example.edu,Nobody\n"
    resp = client.post(f"/instructor/bulk?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid,
                       "file": (io.BytesIO(body.encode()), "big.csv")}, content_type="multipart/form-data")
    job_id = int(re.search(r"/bulk/(\d+)", resp.headers["Location"]).group(1))
    assert execute_job(services, job_id) == "done"
    html = client.get(f"/instructor/bulk/{job_id}?launch={lid}").get_data(as_text=True)
    assert "2 issued, 1 skipped" in html and "only the rows that were not issued" in html
    assert html.count('class="bulk-row') == 1 and "Nobody" in html and "Grace" not in html


def test_bulk_refuses_a_file_without_identity_columns(client, course, services):
    lid = _enabled(client, services, course)
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/instructor/bulk?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid,
                       "file": (io.BytesIO(b"first,last\nA,B\n"), "x.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "“email” or “sub”" in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.scalar(select(func.count(Job.id))) == 0


@pytest.mark.parametrize("body, says", [
    # issue 11, defect 7: Python's csv module raised _csv.Error past 131,072 characters (a 500)
    ("email,sub,name\nada@example.edu,ada,Ada\nbob@example.edu,bob," + "B" * 140000 + "\n",
     "Line 3 has a field longer than 131,072 characters"),
    ("email,sub," + "n" * 140000 + "\nada@example.edu,ada,Ada\n", "Line 1 has a field longer than 131,072 characters"),
    ("email,sub,name\nada@example.edu,ada,Ada\nbob@example.edu,bo\x00b,Bob\n", "Line 3 contains a NUL character"),
])
def test_bulk_refuses_a_file_it_cannot_read_naming_the_line(client, course, services, body, says):
    lid = _enabled(client, services, course)
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/instructor/bulk?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid,
                       "file": (io.BytesIO(body.encode()), "x.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert says in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.scalar(select(func.count(Job.id))) == 0


def test_bulk_errors_in_french(client, course, services):
    lid = _enabled(client, services, course)
    page = client.get(f"/instructor/bulk?launch={lid}&lang=fr").get_data(as_text=True)
    body = "email,sub,name\nada@example.edu,ada," + "A" * 140000 + "\n"
    resp = client.post(f"/instructor/bulk?launch={lid}&lang=fr", data={"csrf_token": _csrf(page), "launch": lid,
                       "file": (io.BytesIO(body.encode()), "x.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "La ligne 2 a un champ de plus de 131" in resp.get_data(as_text=True)


def test_other_course_credentials_are_not_reachable(client, services, course):
    lid = _enabled(client, services, course)
    cred_id = _award(services, _learner(services))
    with services.session() as s:
        public_id = s.get(IssuedCredential, cred_id).public_id
    other = launch(services, ["instructor"], platform_id=course["platform"], context_id="other-course", sub="prof-2")
    page = client.get(f"/instructor/?launch={other}").get_data(as_text=True)
    assert "no credential yet" in page
    assert _post_definition(client, dict(course, launch=other), title="Other course").status_code == 302
    page = client.get(f"/instructor/issued?launch={other}").get_data(as_text=True)
    assert "Grace Hopper" not in page
    page = client.get(f"/instructor/definition?launch={other}").get_data(as_text=True)
    resp = client.post(f"/instructor/issued/{public_id}/revoke?launch={other}",
                       data={"csrf_token": _csrf(page), "launch": other, "reason": "x"})
    assert resp.status_code == 404 and "No such credential in this course" in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.get(IssuedCredential, cred_id).status == "active"


def test_catch_up_sync_runs_the_bridges_job_and_reports(client, services, course):
    from plugin.jobs.queue import execute_job
    lid = _enabled(client, services, course)  # policy: Moodle web services, but no Moodle bridge configured
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    assert 'id="sync-start"' in page
    resp = client.post(f"/instructor/sync?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid})
    assert resp.status_code == 302
    job_id = int(re.search(r"/sync/(\d+)", resp.headers["Location"]).group(1))
    again = client.post(f"/instructor/sync?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid})
    assert again.headers["Location"] == resp.headers["Location"]  # one catch-up at a time
    assert "refresh" in client.get(f"/instructor/sync/{job_id}?launch={lid}").get_data(as_text=True)
    assert execute_job(services, job_id) == "failed"  # not configured: permanent, said plainly
    html = client.get(f"/instructor/sync/{job_id}?launch={lid}").get_data(as_text=True)
    assert 'id="sync-error"' in html and "moodle" in html.lower()


def test_instructor_launch_without_a_course_gets_a_plain_explanation(client, services):
    from plugin.web.auth import Actor, store_launch
    with services.session() as s:
        lid = store_launch(s, Actor(kind="lti", roles=["instructor"], platform_issuer="https://lms.example.edu",
                                    sub="prof", locale="fr"))
    resp = client.get(f"/instructor/?launch={lid}")
    assert resp.status_code == 200 and 'id="no-course"' in resp.get_data(as_text=True)
    assert "Ouvrez l" in resp.get_data(as_text=True)
    assert client.get(f"/instructor/definition?launch={lid}").status_code == 400


def _record(services, learner_id, score):
    """What a platform reported about the learner (kept even while the credential is disabled)."""
    from plugin.domain.policy import Observation
    from plugin.issuance.auto import process_observation
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        outcome = process_observation(s, services, definition=d, learner=s.get(Learner, learner_id),
                                      observation=Observation(source="moodle", score=score))
        return outcome.action


def test_passes_recorded_before_enabling_are_issued_by_a_job_when_enabled(client, services, course):
    from plugin.jobs.queue import execute_job
    from plugin.jobs.worker import EmbeddedWorker
    lid = course["launch"]
    assert _post_definition(client, course).status_code == 302  # automatic, pass mark 70, not enabled yet
    passed, failed = _learner(services), _learner(services, sub="learner-2", email="b@example.edu")
    assert _record(services, passed, 82) == "disabled" and _record(services, failed, 41) == "not_passed"
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 0

    page = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid},
                       follow_redirects=True)
    assert "1 learner had already passed" in resp.get_data(as_text=True)
    with services.session() as s:
        (job,) = s.scalars(select(Job).where(Job.kind == "issue_from_evidence"))
        assert job.payload["learner_id"] == passed
        job_id, payload = job.id, dict(job.payload)
    assert EmbeddedWorker(services).run_until_empty() >= 1
    with services.session() as s:
        (cred,) = s.scalars(select(IssuedCredential))
        assert cred.learner_id == passed and cred.status == "active"
        assert s.get(Job, job_id).status == "done"

    from plugin.jobs.queue import enqueue  # the same job again (a retry, a second enable) issues nothing more
    assert execute_job(services, enqueue(services, "issue_from_evidence", payload)) == "done"
    disable_page = client.get(f"/instructor/?launch={lid}").get_data(as_text=True)
    client.post(f"/instructor/disable?launch={lid}", data={"csrf_token": _csrf(disable_page), "launch": lid})
    page = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    again = client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid},
                        follow_redirects=True)
    assert "already passed" not in again.get_data(as_text=True)  # holders are not queued again
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 1


def test_on_claim_passes_recorded_before_enabling_are_ready_to_claim(client, services, course):
    from plugin.issuance.explain import explain_status
    lid = course["launch"]
    assert _post_definition(client, course, policy_issuance="on_claim").status_code == 302
    learner_id = _learner(services)
    assert _record(services, learner_id, 90) == "disabled"
    page = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(page), "launch": lid})
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "issue_from_evidence")) == 0
        status = explain_status(s, s.scalar(select(CredentialDefinition)), s.get(Learner, learner_id))
        assert status.state == "ready_to_claim"
def _french(services, course):
    """The same course, launched by an instructor whose LMS speaks French (fr-FR)."""
    fr = launch(services, ["instructor"], platform_id=course["platform"], locale="fr-FR", sub="prof-fr")
    return dict(course, launch=fr)


def test_french_instructor_is_told_in_french_what_is_missing(client, services, course):
    fr = _french(services, course)
    lid = fr["launch"]
    _post_definition(client, fr, title="", quality_assurance="", labels=None)
    preview = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(preview), "launch": lid})
    with services.session() as s:
        assert not s.scalar(select(CredentialDefinition)).enabled
    html = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    flash = re.search(r"Non activée : impossible d.activer cette certification : ([^<]*)", html)
    assert flash, html
    assert "Titre : donnez un titre à la micro-certification" in flash.group(1)
    assert "Assurance qualité" in flash.group(1)
    assert "Title: give" not in html and "cannot enable" not in html


def test_french_instructor_reads_the_failing_gradeo_rule_in_french(client, services, course):
    fr = _french(services, course)
    lid = fr["launch"]
    _post_definition(client, fr, workload_hours="30", supervision="unsupervised-no-id")
    preview = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert "compris entre 100 et 150 heures" in preview and "between 100 and 150 hours" not in preview
    client.post(f"/instructor/enable?launch={lid}", data={"csrf_token": _csrf(preview), "launch": lid})
    html = client.get(f"/instructor/preview?launch={lid}").get_data(as_text=True)
    assert "Non activée : la certification revendique" in html
    assert "L&#39;identité de l&#39;apprenant doit être vérifiée" in html or \
        "L'identité de l'apprenant doit être vérifiée" in html


def _issuer_for_courses(services, platform_id, slug, course_ids):
    """An issuer allowed on the platform and restricted to ``course_ids`` there."""
    from plugin.storage.models import IssuerCourse
    issuer_id = make_issuer(services, platform_id, slug=slug)
    with services.session() as s:
        s.get(Issuer, issuer_id).name = slug
        s.add_all([IssuerCourse(issuer_id=issuer_id, course_id=c) for c in course_ids])
    return issuer_id


def test_issuer_choices_honour_the_per_course_allow_list(client, services, course):
    from plugin.storage.models import Course
    pid = course["platform"]
    other_lid = launch(services, ["instructor"], platform_id=pid, context_id="course-2", title="Other course",
                       sub="prof-2")
    with services.session() as s:
        here = s.scalar(select(Course.id).where(Course.context_id == "course-1"))
        there = s.scalar(select(Course.id).where(Course.context_id == "course-2"))
    _issuer_for_courses(services, pid, "only-course-1", [here])
    _issuer_for_courses(services, pid, "only-course-2", [there])
    mine = client.get(f"/instructor/definition?launch={course['launch']}").get_data(as_text=True)
    theirs = client.get(f"/instructor/definition?launch={other_lid}").get_data(as_text=True)
    # the unrestricted issuer (Université de Lille) is offered to every course of its platform
    assert "Université de Lille" in mine and "Université de Lille" in theirs
    assert "only-course-1" in mine and "only-course-2" not in mine
    assert "only-course-2" in theirs and "only-course-1" not in theirs


def test_a_course_restriction_on_one_platform_does_not_hide_the_issuer_elsewhere(client, services, course):
    from plugin.storage.models import Course
    other = make_platform(services, issuer="https://other.example.edu", client_id="client-2", name="Other LMS")
    elsewhere = launch(services, ["instructor"], platform_id=other, context_id="x-1", sub="prof-x")
    with services.session() as s:
        here = s.scalar(select(Course.id).where(Course.context_id == "course-1"))
        s.add(IssuerPlatform(issuer_id=course["issuer"], platform_id=other))
    from plugin.storage.models import IssuerCourse
    with services.session() as s:
        s.add(IssuerCourse(issuer_id=course["issuer"], course_id=here))
    assert "Université de Lille" in client.get(f"/instructor/definition?launch={elsewhere}").get_data(as_text=True)


def test_a_forged_post_choosing_a_disallowed_issuer_is_refused_next_to_the_field(client, services, course):
    from plugin.storage.models import Course
    pid = course["platform"]
    launch(services, ["instructor"], platform_id=pid, context_id="course-2", sub="prof-2")
    with services.session() as s:
        there = s.scalar(select(Course.id).where(Course.context_id == "course-2"))
    forbidden = _issuer_for_courses(services, pid, "only-course-2", [there])
    resp = _post_definition(client, course, issuer=str(forbidden))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    field = re.search(r'<div class="field\s+has-error" id="field-issuer">.*?</div>', html, re.S)
    assert field, "the issuer field is not marked as wrong"
    assert "Choose one of the awarding bodies your administrator allowed." in field.group(0)
    assert "only-course-2" not in field.group(0)
    with services.session() as s:
        assert s.scalar(select(CredentialDefinition)) is None
