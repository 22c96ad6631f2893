"""Admins see issuance failures on the overview (count, newest reasons, link to the course) and
in their list, scoped to their platform, and can retry them."""
from __future__ import annotations

from sqlalchemy import select

from plugin.issuance import pending
from plugin.storage.models import AuditLog, PendingIssuance
from tests.bridges_support import Issued
from tests.issuance.failure_support import break_signing_key, refuse_context, rotate_keys, run_due_retries
from tests.web.issuance_support import admin_launch, csrf, deliver_pass, openedx_course, text_of
from tests.web.helpers import launch, make_platform
from tests.web.admin.test_admin import admin_client  # noqa: F401 - the signed-in local admin (fixture)


def test_overview_counts_failures_with_the_newest_reasons_and_links_to_the_course(admin_client, services):
    client = admin_client
    course = openedx_course(services)
    break_signing_key(services, course.issuer_id)
    deliver_pass(client, course, sub="learner-a", username="a")
    run_due_retries(services, rounds=pending.RETRY_ATTEMPTS)  # failed for good
    with refuse_context(services):
        deliver_pass(client, course, sub="learner-b", username="b")  # still pending
    home = client.get("/admin/").get_data(as_text=True)
    words = text_of(home)
    assert "Issuance failures : 1 failed, 1 being retried." in words
    assert "the issuer's signing key could not be used" in words
    assert "Micro-credentials 101" in words
    assert f'href="/admin/issuance/?course={course.course_id}"' in home
    assert "learner-a" not in words  # the overview names courses and reasons, not learners

    listing = client.get(f"/admin/issuance/?course={course.course_id}").get_data(as_text=True)
    words = text_of(listing)
    assert "Course: Micro-credentials 101" in words and "1 failed, 1 being retried." in words
    assert "learner-a" in words and "learner-b" in words
    assert "Failed: automatic retries have stopped" in words and "Pending: retried automatically" in words

    rotate_keys(services, course.issuer_id)
    with services.session() as s:
        failed_id = s.scalar(select(PendingIssuance.id).where(PendingIssuance.state == "failed"))
    resp = client.post(f"/admin/issuance/{failed_id}/retry?course={course.course_id}",
                       data={"csrf_token": csrf(listing)}, follow_redirects=True)
    words = text_of(resp.get_data(as_text=True))
    assert "Issued to learner-a." in words and "0 failed, 1 being retried." in words
    with services.session() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "credential.issue_retry"))
        assert audit.actor == "admin:root"
    assert len(Issued(services).all()) == 1


def test_retry_without_the_form_token_is_refused(admin_client, services):
    client = admin_client
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course)
    with services.session() as s:
        row_id = s.scalar(select(PendingIssuance.id))
    assert client.post(f"/admin/issuance/{row_id}/retry").status_code == 400


def test_an_lti_administrator_sees_only_the_failures_of_their_platform(client, services):
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course)
    other_platform = make_platform(services, issuer="https://other-lms.example", client_id="other")
    outsider = launch(services, ["admin"], platform_id=other_platform, context_id="elsewhere")
    words = text_of(client.get(f"/admin/?launch={outsider}").get_data(as_text=True))
    assert "0 failed, 0 being retried." in words
    assert client.get(f"/admin/issuance/?launch={outsider}&course={course.course_id}").status_code == 404
    with services.session() as s:
        row_id = s.scalar(select(PendingIssuance.id))
    page = client.get(f"/admin/issuance/?launch={outsider}").get_data(as_text=True)
    assert "Every pass recorded has its credential" in text_of(page)
    form_page = client.get(f"/admin/issuers/new?launch={outsider}").get_data(as_text=True)
    resp = client.post(f"/admin/issuance/{row_id}/retry?launch={outsider}",
                       data={"launch": outsider, "csrf_token": csrf(form_page)})
    assert resp.status_code == 404

    insider = admin_launch(services, course)
    words = text_of(client.get(f"/admin/?launch={insider}").get_data(as_text=True))
    assert "0 failed, 1 being retried." in words


def test_the_admin_pages_in_french(client, services):
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course)
    lid = admin_launch(services, course, locale="fr")
    words = text_of(client.get(f"/admin/?launch={lid}").get_data(as_text=True))
    assert "Échecs de délivrance" in words and "0 en échec, 1 en cours de nouvel essai." in words
    words = text_of(client.get(f"/admin/issuance/?launch={lid}").get_data(as_text=True))
    assert "En attente : nouvel essai automatique" in words
