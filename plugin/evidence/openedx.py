"""Open edX: the signed "course passing status" webhook and the grades REST API.

**Webhook.** The microcred Open edX plugin (``microcred_openedx``, ``integrations/openedx``, installed in
edx-platform) sends ``POST /api/webhooks/openedx`` with a compact JWT signed by a key the
admin registered for that platform (``Platform.bridge_settings["openedx"]``:
``webhook_jwks_url`` or an inline ``webhook_jwks``). Claims: ``iss`` (the platform issuer
as in its LTI launches), ``aud`` (the tool's webhook URL), ``iat``, ``exp`` (at most
:data:`MAX_LIFETIME` after ``iat``), ``jti`` (accepted once), ``event_type`` and ``data``
(``is_passing``, ``course_key``, ``user.external_id`` = the ``sub`` of the learner's
launches, ``user.username``, ``grade`` when edx-platform knows it).

**Grades API.** ``GET {api}/api/grades/v1/courses/{course_id}/?username=...`` (one
learner, a one-element list) and ``GET {api}/api/grades/v1/courses/{course_id}/``
(everyone, paginated ``{"next", "previous", "results"}``), authenticated with an OAuth2
client-credentials token from ``{api}/oauth2/access_token``. Used for catching up
(``microcred sync``) and for checking at claim time.
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import quote

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from plugin.domain.i18n import N_
from plugin.domain.policy import CoursePolicy, Observation
from plugin.evidence.base import BridgeError, BridgeNotConfigured, LearnerResult, PullSource, bridge_settings
from plugin.evidence.bridge_config import open_secret
from plugin.net import AddressRefused, OutboundPolicy, describe_error, outbound_session
from plugin.net.jwks import KeySets
from plugin.evidence.signed_webhook import (ALGORITHMS, CLOCK_SKEW, MAX_LIFETIME, WebhookRejected,  # noqa: F401
                                            verify_signed_webhook, webhook_key_sets, webhook_keys)  # noqa: F401
from plugin.storage.models import Course, Learner, Platform

log = logging.getLogger("microcred.evidence.openedx")

EVENT_PASSING = "org.openedx.learning.course.passing.status.updated.v1"
WEBHOOK_PATH = "/api/webhooks/openedx"
BRIDGE = "openedx"


class WebhookUser(BaseModel):
    model_config = ConfigDict(extra="ignore")
    external_id: str = Field(min_length=1, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)


class WebhookGrade(BaseModel):
    model_config = ConfigDict(extra="ignore")
    percent: float | None = Field(default=None, ge=0, le=1)
    letter_grade: str | None = None
    passed: bool | None = None


class PassingEventData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    is_passing: bool
    course_key: str = Field(min_length=1, max_length=255)
    user: WebhookUser
    grade: WebhookGrade | None = None


def verify_webhook(session: Session, token: str, *, audience: str, now: float | None = None,
                   key_sets: KeySets | None = None) -> tuple[Platform, dict[str, Any]]:
    """Check an Open edX webhook JWT completely and consume its ``jti`` (see
    :func:`plugin.evidence.signed_webhook.verify_signed_webhook`)."""
    return verify_signed_webhook(session, token, audience=audience, bridge=BRIDGE, now=now, key_sets=key_sets)


def parse_event(claims: dict[str, Any]) -> PassingEventData:
    event_type = claims.get("event_type")
    if event_type != EVENT_PASSING:
        raise WebhookRejected(400, "unsupported_event", f"unsupported event_type {event_type!r}; expected {EVENT_PASSING}")
    try:
        return PassingEventData.model_validate(claims.get("data"))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise WebhookRejected(400, "invalid_payload", f"the event data is not valid: {problems}") from None


def observation_from_event(event: PassingEventData, claims: dict[str, Any], source: str = "openedx_webhook") -> Observation:
    grade = event.grade
    observed = claims.get("event_time")
    try:
        observed_at = datetime.fromisoformat(observed) if isinstance(observed, str) else None
    except ValueError:
        observed_at = None
    details = {"platform": claims["iss"], "course_key": event.course_key, "event_type": claims.get("event_type"),
               "jti": claims["jti"], "is_passing": event.is_passing}
    if grade is not None and grade.letter_grade:
        details["letter_grade"] = grade.letter_grade
    return Observation(
        source=source, passed=event.is_passing,
        score=round(grade.percent * 100, 4) if grade is not None and grade.percent is not None else None,
        observed_at=observed_at or datetime.fromtimestamp(claims["iat"], timezone.utc),
        details=details)


# --------------------------------------------------------------------------- grades API
class OpenEdxGradesClient:
    """The Open edX grades REST API with an OAuth2 client-credentials token."""

    def __init__(self, api_url: str, client_id: str, client_secret: str, *, http: requests.Session | None = None,
                 timeout: float = 20.0):
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http or outbound_session(OutboundPolicy())  # public addresses only, unless given
        self.timeout = timeout
        self._token: str | None = None
        self._token_type = "JWT"
        self._token_expires = 0.0

    def _fetch_token(self) -> None:
        url = f"{self.api_url}/oauth2/access_token"
        try:
            resp = self.http.post(url, data={"grant_type": "client_credentials", "client_id": self.client_id,
                                             "client_secret": self.client_secret, "token_type": "jwt"},
                                  timeout=self.timeout)
        except requests.RequestException as exc:
            raise BridgeError(N_("Open edX at %(url)s could not be reached: %(error)s",
                                 url=self.api_url, error=describe_error(exc)),
                              code="unreachable", retryable=not isinstance(exc, AddressRefused)) from None
        body = _json(resp)
        if resp.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            err = body.get("error") if isinstance(body, dict) else None
            desc = body.get("error_description") if isinstance(body, dict) else None
            if err == "invalid_client" or resp.status_code == 401:
                raise BridgeError(N_("Open edX refused the OAuth2 client id or secret (invalid_client): check the "
                                     "application in /admin/oauth2_provider/application/"), code="invalid_client")
            raise BridgeError(N_("Open edX token endpoint answered HTTP %(status)s (%(error)s: %(detail)s)",
                                 status=resp.status_code, error=err, detail=desc) if err else
                              N_("Open edX token endpoint answered HTTP %(status)s", status=resp.status_code),
                              code="token_error",
                              retryable=resp.status_code >= 500)
        self._token = body["access_token"]
        self._token_type = body.get("token_type") or "JWT"
        self._token_expires = time.time() + float(body.get("expires_in") or 3600) - 30

    def _get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        if self._token is None or time.time() >= self._token_expires:
            self._fetch_token()
        try:
            resp = self.http.get(url, params=params, timeout=self.timeout,
                                 headers={"Authorization": f"{self._token_type} {self._token}",
                                          "Accept": "application/json"})
        except requests.RequestException as exc:
            raise BridgeError(N_("Open edX at %(url)s could not be reached: %(error)s",
                                 url=self.api_url, error=describe_error(exc)),
                              code="unreachable", retryable=not isinstance(exc, AddressRefused)) from None
        body = _json(resp)
        if resp.status_code == 200:
            return body
        code = body.get("error_code") if isinstance(body, dict) else None
        message = (body.get("developer_message") or body.get("detail")) if isinstance(body, dict) else None
        if code == "course_does_not_exist" or (resp.status_code == 404 and code is None):
            raise BridgeError(N_("Open edX does not know this course (course_does_not_exist)"), code="unknown_course")
        if code == "invalid_course_key":
            raise BridgeError(N_("Open edX says the course id is not a valid course key (invalid_course_key)"),
                              code="unknown_course")
        if code in ("user_does_not_exist", "user_not_enrolled"):
            raise BridgeError(f"Open edX: {message or code} ({code})", code=code)
        if resp.status_code in (401, 403):
            raise BridgeError(N_("Open edX refused access to the grades API (HTTP %(status)s: %(detail)s); the OAuth2 "
                                 "application's user must be global staff or staff of the course",
                                 status=resp.status_code, detail=message) if message else
                              N_("Open edX refused access to the grades API (HTTP %(status)s); the OAuth2 "
                                 "application's user must be global staff or staff of the course",
                                 status=resp.status_code), code="forbidden")
        raise BridgeError(N_("Open edX grades API answered HTTP %(status)s: %(detail)s", status=resp.status_code,
                             detail=message) if message else
                          N_("Open edX grades API answered HTTP %(status)s", status=resp.status_code),
                          code="http_error", retryable=resp.status_code >= 500)

    def course_url(self, course_id: str) -> str:
        return f"{self.api_url}/api/grades/v1/courses/{quote(course_id, safe=':+@')}/"

    def user_grade(self, course_id: str, username: str) -> dict[str, Any]:
        body = self._get(self.course_url(course_id), {"username": username})
        rows = body if isinstance(body, list) else [body]
        if not rows or not isinstance(rows[0], dict):
            raise BridgeError("Open edX returned no grade for this learner", code="no_grade")
        return rows[0]

    def course_grades(self, course_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        url: str | None = self.course_url(course_id)
        params: dict[str, Any] | None = {"page_size": page_size}
        while url:
            body = self._get(url, params)
            params = None  # the next link carries the cursor and page size
            if not isinstance(body, dict) or "results" not in body:
                raise BridgeError("Open edX returned an unexpected grades page", code="bad_reply")
            yield from body["results"]
            url = body.get("next")


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def observation_from_grade(row: dict[str, Any], source: str) -> Observation:
    percent = row.get("percent")
    details = {"via": "openedx_grades_api", "course_key": row.get("course_id"), "username": row.get("username")}
    if row.get("letter_grade"):
        details["letter_grade"] = row["letter_grade"]
    return Observation(source=source, passed=row.get("passed"),
                       score=round(float(percent) * 100, 4) if percent is not None else None, details=details)


class OpenEdxGradesSource(PullSource):
    """Pulls Open edX course grades. Answers for ``openedx_grades`` and (catch-up) ``openedx_webhook`` policies."""

    source = "openedx_grades"

    def __init__(self, client: OpenEdxGradesClient, platform_issuer: str):
        self.client = client
        self.platform_issuer = platform_issuer

    @classmethod
    def for_platform(cls, services, platform: Platform, *, http: requests.Session | None = None) -> "OpenEdxGradesSource":
        conf = bridge_settings(platform, "openedx")
        if not (conf.get("api_url") and conf.get("client_id") and conf.get("client_secret_sealed")):
            raise BridgeNotConfigured(
                f"the Open edX grades API is not configured for {platform.issuer} "
                "(microcred bridge set --openedx-api-url URL --openedx-client-id ID --openedx-client-secret S)")
        secret = open_secret(services, platform, "openedx", "client_secret_sealed")
        return cls(OpenEdxGradesClient(conf["api_url"], conf["client_id"], secret, http=http or services.http()),
                   platform.issuer)

    def observe_learner(self, course: Course, learner: Learner, policy: CoursePolicy) -> Observation:
        username = (learner.external_ids or {}).get("openedx_username")
        if not username:
            raise BridgeError("this learner's Open edX username is not known yet (it arrives with the Open edX "
                              "plugin's webhook, or with launches that share the username)", code="no_username")
        return observation_from_grade(self.client.user_grade(course.context_id, username), policy.source)

    def observe_course(self, course: Course, policy: CoursePolicy) -> Iterator[LearnerResult]:
        for row in self.client.course_grades(course.context_id):
            yield LearnerResult(observation=observation_from_grade(row, policy.source),
                                username=row.get("username"), email=row.get("email") or None)

    def check(self, course_id: str | None = None) -> str:
        self.client._fetch_token()
        if course_id:
            first = next(iter(self.client.course_grades(course_id, page_size=1)), None)
            return (N_("Open edX grades API OK: token issued, course %(course)s readable", course=course_id) if first
                    else N_("Open edX grades API OK: token issued, course %(course)s readable (no enrolled learner "
                            "yet)", course=course_id))
        return N_("Open edX OAuth2 OK: %(url)s issued a token to client %(client)s", url=self.client.api_url,
                  client=self.client.client_id)


# --------------------------------------------------------------------------- processing
def handle_passing_event(session: Session, services, claims: dict[str, Any]) -> dict[str, Any]:
    """Record a verified passing event for every definition of the course that listens to it
    (issued at once by the enabled ones; the others keep it for when they are enabled)."""
    from plugin.evidence.base import definitions_for_course, ensure_learner, find_course
    from plugin.issuance.auto import process_observation

    event = parse_event(claims)
    issuer = claims["iss"]
    course = find_course(session, issuer, event.course_key)
    if course is None:
        return {"accepted": True, "course": None, "results": [],
                "message": "no course with this key has used the tool yet; nothing to do"}
    # Disabled definitions too: the pass is a fact the platform told us once; it is recorded
    # (action "disabled") and enabling the credential later issues or offers it.
    definitions = definitions_for_course(session, course.id, "openedx_webhook", enabled_only=False)
    if not definitions:
        return {"accepted": True, "course": course.id, "results": [],
                "message": "no credential of this course listens to Open edX passing events"}
    user = event.user
    external_ids = {"openedx_username": user.username} if user.username else {}
    learner = ensure_learner(session, issuer, user.external_id, external_ids=external_ids,
                             name=user.name, email=user.email)
    results = []
    jti_hash = hashlib.sha256(f"{issuer}|{claims['jti']}".encode()).hexdigest()[:40]
    for definition, policy in definitions:
        outcome = process_observation(session, services, definition=definition, learner=learner,
                                      observation=observation_from_event(event, claims), policy=policy,
                                      dedup_key=f"webhook:{definition.id}:{jti_hash}")
        results.append(outcome.as_dict())
    return {"accepted": True, "course": course.id, "learner": learner.id, "results": results}
