"""The issued list: one row per learner, readable evidence, confirmed (bulk) status changes."""
from __future__ import annotations

from sqlalchemy import select

from plugin.storage.models import AuditLog, CredentialDefinition, IssuedCredential
from tests.web.instructor.test_instructor import _award, _csrf, _enabled, _learner, course  # noqa: F401 - the fixture


def _reissue(services, cred_id, name):
    from plugin.issuance.service import reissue
    with services.session() as s:
        return reissue(s, services, s.get(IssuedCredential, cred_id), display_name=name, actor="test").id


def test_a_learner_whose_credential_was_reissued_is_one_row_with_the_history_folded(client, services, course):
    lid = _enabled(client, services, course)
    first = _award(services, _learner(services))
    _reissue(services, first, "Grace B. Hopper")
    _award(services, _learner(services, sub="learner-2", name="Alan Turing", email="alan@example.edu"))
    html = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    assert html.count('class="issued-row"') == 2 and "2 learners hold or held this credential" in html
    assert "1 earlier credential" in html and "superseded" in html and "Grace B. Hopper" in html
    overview = client.get(f"/instructor/?launch={lid}").get_data(as_text=True)
    assert "2 active, 0 suspended, 0 revoked" in overview  # the same learners the list shows


def test_evidence_reads_as_a_sentence_in_english_and_french(client, services, course):
    from datetime import datetime, timezone

    from plugin.storage.models import PassEvidence
    lid = _enabled(client, services, course)
    learner_id = _learner(services)
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        ev = PassEvidence(definition_id=d.id, learner_id=learner_id, source="openedx_webhook", dedup_key="t:1",
                          passed=True, score=82.0, details={"score_max": 100},
                          observed_at=datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc))
        s.add(ev)
        s.flush()
        from plugin.issuance.service import award
        award(s, services, definition_id=d.id, learner_id=learner_id, evidence_id=ev.id, actor="test")
    html = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    assert "Passed with 82/100 on Dec 3, 2026, Open edX" in html and "openedx_webhook" not in html
    from tests.web.helpers import launch
    fr = launch(services, ["instructor"], platform_id=course["platform"], locale="fr")
    html = client.get(f"/instructor/issued?launch={fr}").get_data(as_text=True)
    assert "Réussi avec 82/100 le 3 déc. 2026, Open edX" in html


def test_revoking_asks_for_confirmation_and_a_reason(client, services, course):
    lid = _enabled(client, services, course)
    cred_id = _award(services, _learner(services))
    with services.session() as s:
        public_id = s.get(IssuedCredential, cred_id).public_id
    page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    assert f"/instructor/issued/confirm?action=revoke&amp;id={public_id}" in page
    confirm = client.get(f"/instructor/issued/confirm?launch={lid}&action=revoke&id={public_id}")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Revoking is final" in html and "Grace Hopper" in html
    with services.session() as s:
        assert s.get(IssuedCredential, cred_id).status == "active"  # looking at the confirmation changes nothing
    data = {"csrf_token": _csrf(html), "launch": lid, "action": "revoke", "id": public_id, "reason": "  "}
    refused = client.post(f"/instructor/issued/apply?launch={lid}", data=data)
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    with services.session() as s:
        assert s.get(IssuedCredential, cred_id).status == "active"
    done = client.post(f"/instructor/issued/apply?launch={lid}", data=dict(data, reason="Exam fraud"))
    assert done.status_code == 303
    with services.session() as s:
        row = s.get(IssuedCredential, cred_id)
        assert row.status == "revoked" and row.status_reason == "Exam fraud"
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "credential.revoke"))
        assert audit.target_id == public_id and audit.details["reason"] == "Exam fraud"


def test_bulk_suspend_then_reinstate_a_selection(client, services, course):
    lid = _enabled(client, services, course)
    ids = [_award(services, _learner(services, sub=f"l-{i}", name=f"Learner {i}", email=f"l{i}@example.edu"))
           for i in range(3)]
    with services.session() as s:
        public = [s.get(IssuedCredential, i).public_id for i in ids]
    page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    assert page.count('type="checkbox" name="id"') == 3
    confirm = client.get(f"/instructor/issued/confirm?launch={lid}&action=suspend&id={public[0]}&id={public[1]}")
    html = confirm.get_data(as_text=True)
    assert "Suspend 2 credentials?" in html and "Learner 0" in html and "Learner 2" not in html
    data = {"csrf_token": _csrf(html), "launch": lid, "action": "suspend", "id": public[:2], "reason": "under review"}
    assert client.post(f"/instructor/issued/apply?launch={lid}", data=data).status_code == 303
    with services.session() as s:
        assert [s.get(IssuedCredential, i).status for i in ids] == ["suspended", "suspended", "active"]
    data.update(action="reinstate", reason="")
    client.post(f"/instructor/issued/apply?launch={lid}", data=data)
    with services.session() as s:
        assert [s.get(IssuedCredential, i).status for i in ids] == ["active", "active", "active"]


def test_nothing_selected_or_another_courses_credential_is_a_clear_error(client, services, course):
    lid = _enabled(client, services, course)
    resp = client.get(f"/instructor/issued/confirm?launch={lid}&action=revoke")
    assert resp.status_code == 400 and "Select at least one credential" in resp.get_data(as_text=True)
    resp = client.get(f"/instructor/issued/confirm?launch={lid}&action=revoke&id=not-in-this-course")
    assert resp.status_code == 404
    resp = client.get(f"/instructor/issued/confirm?launch={lid}&action=explode&id=x")
    assert resp.status_code == 400
