"""Every receiver the app connects, called by emitting the real signal with openedx-events'
own data classes; the webhook it sends is checked with the public key the LMS publishes."""
import jwt
import pytest
from ccx_keys.locator import CCXLocator
from django.conf import settings
from django.test import Client, override_settings
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning.data import (CcxCourseData, CcxCoursePassingStatusData, CertificateData, CourseData,
                                          CoursePassingStatusData, UserData, UserPersonalData)
from openedx_events.learning.signals import (CCX_COURSE_PASSING_STATUS_UPDATED, CERTIFICATE_CREATED,
                                             COURSE_PASSING_STATUS_UPDATED)

from microcred_openedx.apps import MicrocredOpenedxConfig
from microcred_openedx.tokens import EVENT_PASSING

COURSE = CourseKey.from_string("course-v1:DemoX+MC101+2026")
CCX = CCXLocator.from_course_locator(COURSE, "7")


def _user(user_id=42):
    return UserData(id=user_id, is_active=True,
                    pii=UserPersonalData(username="ada", email="ada@example.org", name="Ada Lovelace"))


def _claims(tool):
    (sent,) = tool.tokens
    assert sent["content_type"] == "application/jwt"
    jwks = Client().get("/microcred/webhook-jwks.json").json()
    (jwk,) = jwks["keys"]
    header = jwt.get_unverified_header(sent["token"])
    assert header["kid"] == jwk["kid"] and header["alg"] == "EdDSA"
    public = jwt.PyJWK(jwk).key
    return jwt.decode(sent["token"], public, algorithms=["EdDSA"], audience=settings.MICROCRED_WEBHOOK_URL,
                      issuer="https://lms.test")


def test_every_connected_signal_exists_in_openedx_events():
    import openedx_events.learning.signals as signals
    receivers = MicrocredOpenedxConfig.plugin_app["signals_config"]["lms.djangoapp"]["receivers"]
    assert {r["signal_path"].rsplit(".", 1)[1] for r in receivers} == {
        "COURSE_PASSING_STATUS_UPDATED", "CCX_COURSE_PASSING_STATUS_UPDATED", "CERTIFICATE_CREATED"}
    for receiver in receivers:
        assert hasattr(signals, receiver["signal_path"].rsplit(".", 1)[1])


@pytest.mark.parametrize("passing", [True, False])
def test_course_passing_status_sends_a_signed_webhook(tool, passing):
    status = CoursePassingStatusData(is_passing=passing, user=_user(), course=CourseData(course_key=COURSE))
    responses = COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=status)
    assert [(r.__name__, v) for r, v in responses] == [("on_course_passing_status_updated", "accepted")]
    claims = _claims(tool)
    assert claims["event_type"] == EVENT_PASSING and claims["exp"] - claims["iat"] == 300
    assert claims["data"] == {"is_passing": passing, "course_key": str(COURSE), "grade": None,
                              "user": {"external_id": "ext-42", "username": "ada"}}


def test_a_ccx_pass_names_the_ccx_and_its_master_course(tool):
    ccx = CcxCourseData(ccx_course_key=CCX, master_course_key=COURSE, display_name="Coached",
                        coach_email="coach@example.org")
    status = CcxCoursePassingStatusData(is_passing=True, user=_user(), course=ccx)
    responses = CCX_COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=status)
    assert [(r.__name__, v) for r, v in responses] == [("on_course_passing_status_updated", "accepted")]
    data = _claims(tool)["data"]
    assert data["course_key"] == "ccx-v1:DemoX+MC101+2026+ccx@7" and data["master_course_key"] == str(COURSE)
    assert data["is_passing"] is True


def _certificate(status="downloadable", grade="0.87", user_id=42):
    return CertificateData(user=_user(user_id), course=CourseData(course_key=COURSE), mode="verified", grade=grade,
                           download_url="", name="Ada Lovelace", current_status=status)


def test_a_downloadable_certificate_is_sent_as_a_pass_with_its_grade(tool):
    responses = CERTIFICATE_CREATED.send_event(certificate=_certificate())
    assert [(r.__name__, v) for r, v in responses] == [("on_certificate_created", "accepted")]
    data = _claims(tool)["data"]
    assert data["is_passing"] is True and data["course_key"] == str(COURSE)
    assert data["grade"] == {"percent": 0.87, "letter_grade": None, "passed": True}


@pytest.mark.parametrize("certificate", [_certificate(status="notpassing"), _certificate(user_id=13)],
                         ids=["not-downloadable", "no-lti-identity"])
def test_nothing_is_sent_without_a_downloadable_certificate_or_an_lti_identity(tool, certificate):
    responses = CERTIFICATE_CREATED.send_event(certificate=certificate)
    assert [(r.__name__, v) for r, v in responses] == [("on_certificate_created", None)]
    assert tool.tokens == []


def test_a_certificate_without_a_readable_grade_is_a_pass_without_grade(tool):
    CERTIFICATE_CREATED.send_event(certificate=_certificate(grade=""))
    assert _claims(tool)["data"]["grade"] is None


def test_pii_is_sent_only_when_the_site_says_so(tool):
    with override_settings(MICROCRED_WEBHOOK_SEND_PII=True):
        COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=CoursePassingStatusData(
            is_passing=True, user=_user(), course=CourseData(course_key=COURSE)))
    assert _claims(tool)["data"]["user"] == {"external_id": "ext-42", "username": "ada", "name": "Ada Lovelace",
                                             "email": "ada@example.org"}


def test_without_a_webhook_url_nothing_is_sent(tool):
    with override_settings(MICROCRED_WEBHOOK_URL=""):
        responses = COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=CoursePassingStatusData(
            is_passing=True, user=_user(), course=CourseData(course_key=COURSE)))
    assert [v for _r, v in responses] == [None] and tool.tokens == []
