"""The instructor sees failed and pending issuances with the reason, and the Retry button issues once.

A real failure (the tool's context store refuses the W3C credentials context, or the issuer's
key does not open) on a pass delivered by the real Open edX webhook; the cause is fixed; the
button (CSRF-protected, audited) and the retry job issue exactly one credential."""
from __future__ import annotations

from sqlalchemy import select

from plugin.issuance import pending
from plugin.storage.models import AuditLog, PendingIssuance
from tests.bridges_support import Issued
from tests.issuance.failure_support import break_signing_key, refuse_context, rotate_keys, run_due_retries
from tests.web.issuance_support import csrf, deliver_pass, instructor_launch, openedx_course, text_of


def _open_row(services):
    with services.session() as s:
        row = s.scalar(select(PendingIssuance).where(PendingIssuance.state != "resolved"))
        return None if row is None else {"id": row.id, "state": row.state, "attempts": row.attempts}


def test_failed_issuance_is_listed_with_its_reason_and_the_retry_button_issues_it_once(client, services):
    course = openedx_course(services)
    lid = instructor_launch(services, course)
    issued = Issued(services)
    with refuse_context(services):
        result = deliver_pass(client, course).get_json()["results"][0]
        assert result["action"] == "pending"
        overview = text_of(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
        assert "Not issued yet 1 being retried, 0 failed" in overview
        page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
        words = text_of(page)
        assert "Passed, but not issued yet" in words and "Pending: retried automatically" in words
        assert ("the credential could not be signed: JSON-LD context https://www.w3.org/ns/credentials/v2 "
                "is not pinned") in words
        assert "1 try since" in words and "Next automatic try:" in words
        row = _open_row(services)
        action = f"/instructor/issuance/{row['id']}/retry?launch={lid}"
        assert f'action="{action}"'.replace("&", "&amp;") in page or f'action="{action}"' in page
        # without the form's token: refused, nothing tried
        assert client.post(action, data={"launch": lid}).status_code == 400
        assert _open_row(services)["attempts"] == 1
        # pressed while the cause is still there: said so, and counted
        still = client.post(action, data={"launch": lid, "csrf_token": csrf(page)}, follow_redirects=True)
        assert "Still not issued to ext-7f3a: the credential could not be signed" in text_of(still.get_data(as_text=True))
        assert _open_row(services)["attempts"] == 2 and issued.all() == []
    # the admin fixed the context store: one press issues the credential
    page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    done = client.post(action, data={"launch": lid, "csrf_token": csrf(page)}, follow_redirects=True)
    words = text_of(done.get_data(as_text=True))
    assert "Issued to ext-7f3a." in words and "Passed, but not issued yet" not in words
    assert "1 learner holds or held this credential" in words
    assert len(issued.all()) == 1 and _open_row(services) is None
    with services.session() as s:
        (retry,) = s.scalars(select(AuditLog).where(AuditLog.action == "credential.issue_retry")
                             .order_by(AuditLog.id.desc()).limit(1))
        assert retry.actor.startswith("lti:") and retry.details["result"] == "issued"
        assert retry.target_id == course.definition_public_id
    # the retry job, when its time comes, finds it issued; a second press finds nothing open
    run_due_retries(services)
    assert client.post(action, data={"launch": lid, "csrf_token": csrf(page)}).status_code == 302
    assert len(issued.all()) == 1
    overview = text_of(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
    assert "Not issued yet" not in overview and "1 active" in overview


def test_after_the_last_automatic_try_it_is_failed_and_the_button_still_works(client, services):
    course = openedx_course(services)
    lid = instructor_launch(services, course)
    break_signing_key(services, course.issuer_id)
    assert deliver_pass(client, course).get_json()["results"][0]["action"] == "pending"
    run_due_retries(services, rounds=pending.RETRY_ATTEMPTS)
    assert _open_row(services)["state"] == "failed"
    words = text_of(client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True))
    assert "Failed: automatic retries have stopped" in words and "Next automatic try" not in words
    assert "the issuer's signing key could not be used" in words and "MICROCRED_KEK" in words
    assert "0 being retried, 1 failed" in text_of(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
    rotate_keys(services, course.issuer_id)
    page = client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True)
    row = _open_row(services)
    client.post(f"/instructor/issuance/{row['id']}/retry?launch={lid}", data={"launch": lid, "csrf_token": csrf(page)})
    assert len(Issued(services).all()) == 1 and _open_row(services) is None


def test_another_courses_issuance_cannot_be_retried_from_this_course(client, services):
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course)
    from tests.bridges_support import make_definition
    from tests.web.helpers import launch
    with services.session() as s:  # another course, with a credential of its own
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, services=services,
                        context_id="course-v1:Other+X+1", platform_id=course.platform_id)
    other = launch(services, ["instructor"], platform_id=course.platform_id, context_id="course-v1:Other+X+1")
    row = _open_row(services)
    page = client.get(f"/instructor/?launch={other}").get_data(as_text=True)
    resp = client.post(f"/instructor/issuance/{row['id']}/retry?launch={other}",
                       data={"launch": other, "csrf_token": csrf(page)})
    assert resp.status_code == 404 and "No such issuance in this course" in resp.get_data(as_text=True)
    assert _open_row(services)["attempts"] == 1


def test_the_issued_list_and_overview_in_french(client, services):
    course = openedx_course(services)
    lid = instructor_launch(services, course, locale="fr")
    with refuse_context(services):
        deliver_pass(client, course)
    words = text_of(client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True))
    assert "Réussi, mais certification pas encore délivrée" in words and "Réessayer" in words
    assert "la certification n’a pas pu être signée : JSON-LD context" in words
    overview = text_of(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
    assert "1 en cours de nouvel essai, 0 en échec" in overview


def test_a_bulk_upload_row_that_cannot_be_signed_says_so_and_joins_the_list(client, services):
    import io
    import re

    from plugin.jobs.queue import execute_job
    course = openedx_course(services)
    lid = instructor_launch(services, course)
    page = client.get(f"/instructor/bulk?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/instructor/bulk?launch={lid}", data={
        "csrf_token": csrf(page), "launch": lid, "file": (io.BytesIO(b"sub,name\nbulk-1,Grace Hopper\n"), "passed.csv")},
        content_type="multipart/form-data")
    job_id = int(re.search(r"/bulk/(\d+)", resp.headers["Location"]).group(1))
    with refuse_context(services):
        assert execute_job(services, job_id) == "done"
    status = client.get(f"/instructor/bulk/{job_id}?launch={lid}&format=json").get_json()
    assert status["counts"] == {"issued": 0, "skipped": 0, "failed": 0, "pending": 1}
    words = text_of(client.get(f"/instructor/bulk/{job_id}?launch={lid}").get_data(as_text=True))
    assert "1 not issued yet: retried automatically" in words
    assert ("Passed, but not issued yet (retried automatically; see the issued list): the credential could not be "
            "signed: JSON-LD context") in words
    words = text_of(client.get(f"/instructor/issued?launch={lid}").get_data(as_text=True))
    assert "Grace Hopper" in words and "Pending: retried automatically" in words
    run_due_retries(services)
    assert len(Issued(services).all()) == 1
