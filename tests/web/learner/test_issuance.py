"""What a learner whose pass is recorded reads when issuing failed: being issued and retried,
then (after the last automatic try) that staff have been told; never "not yet passed"."""
from __future__ import annotations

import re

from sqlalchemy import select

from plugin.issuance import pending
from plugin.storage.models import IssuedCredential, PendingIssuance
from tests.bridges_support import Issued
from tests.issuance.failure_support import break_signing_key, refuse_context, rotate_keys, run_due_retries
from tests.web.issuance_support import deliver_pass, learner_launch, openedx_course, text_of

ON_CLAIM = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 70, "issuance": "on_claim"}


def _home(client, launch_id):
    return text_of(client.get(f"/learner/?launch={launch_id}").get_data(as_text=True))


def test_the_learner_reads_being_issued_then_staff_told_then_gets_the_credential(client, services):
    course = openedx_course(services)
    with refuse_context(services):
        assert deliver_pass(client, course).get_json()["results"][0]["action"] == "pending"
        lid = learner_launch(services, course)
        words = _home(client, lid)
        assert "Your credential is being issued; we will retry automatically." in words
        assert "You do not need to do anything." in words
        assert "Not yet passed" not in words and "Claim my credential" not in words
        assert "JSON-LD" not in words  # the technical reason is for staff
        run_due_retries(services, rounds=pending.RETRY_ATTEMPTS)
        words = _home(client, lid)
        assert "Your credential could not be issued yet; the course staff have been told." in words
        assert "Not yet passed" not in words
    run_due_retries(services)  # failed: no automatic retry any more, even with the cause gone
    assert Issued(services).all() == []
    with services.session() as s:
        row_id = s.scalar(select(PendingIssuance.id))
        row = s.get(PendingIssuance, row_id)
        pending.retry_now(s, services, row, actor="admin:root")
    words = _home(client, lid)
    assert "You passed. Your credential is ready to claim." in words


def test_the_french_page_says_the_same(client, services):
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course)
        words = _home(client, learner_launch(services, course, locale="fr"))
    assert "Votre certification est en cours de délivrance ; nous réessaierons automatiquement." in words
    assert "Pas encore réussi" not in words


def test_a_claim_that_cannot_be_signed_is_kept_and_issued_later_under_the_confirmed_name(client, services):
    course = openedx_course(services, policy=ON_CLAIM)
    assert deliver_pass(client, course).get_json()["results"][0]["action"] == "ready_to_claim"
    lid = learner_launch(services, course)
    page = client.get(f"/learner/?launch={lid}").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "launch": lid, "definition": course.definition_public_id, "identify": "name",
            "display_name": "Ada Lovelace", "consent": "y"}
    break_signing_key(services, course.issuer_id)
    resp = client.post("/learner/claim", data=form, follow_redirects=True)
    words = text_of(resp.get_data(as_text=True))
    assert resp.status_code == 200 and "Your credential is being issued; we will retry automatically." in words
    with services.session() as s:
        row = s.scalar(select(PendingIssuance))
        assert row.origin == "claim" and row.claim["display_name"] == "Ada Lovelace"
    rotate_keys(services, course.issuer_id)
    run_due_retries(services)
    with services.session() as s:
        (credential,) = s.scalars(select(IssuedCredential)).all()
        assert credential.display_name == "Ada Lovelace" and credential.claimed_at and credential.consent_at
        assert credential.document["credentialSubject"]["name"] == "Ada Lovelace"
    words = _home(client, lid)
    assert "Claimed." in words
