"""The Open edX webhook receiver: accepted once, everything else a 4xx naming the problem."""
import json
import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from plugin.issuance import auto
from plugin.storage.models import CredentialDefinition, Learner, OneTimeToken, PassEvidence, PendingIssuance
from tests.bridges_support import ISSUER, Issued, SigningKey, make_definition, make_platform, passing_claims

URL = "/api/webhooks/openedx"


@pytest.fixture
def issued(services):
    """Credentials the real engine issued."""
    return Issued(services)


@pytest.fixture
def key():
    return SigningKey()


@pytest.fixture
def setup(services, key):
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        # course grade >= 70 %: the pass mark the credential's evidence cites
        definition = make_definition(s, policy={"source": "openedx_webhook", "rule": "course_grade", "threshold": 70,
                                                "issuance": "automatic"},
                                     platform_id=platform.id, services=services)
        return {"definition_id": definition.id, "platform_id": platform.id}


def post(client, token, content_type="application/jwt"):
    return client.post(URL, data=token, content_type=content_type)


def count(services, model):
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_signed_passing_event_is_recorded_and_issues(client, services, setup, key, issued):
    resp = post(client, key.sign(passing_claims()))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["results"][0]["action"] == "issued"
    (credential,) = issued.all()
    assert credential["definition_id"] == setup["definition_id"]
    with services.session() as s:
        learner = s.scalar(select(Learner))
        assert (learner.platform_issuer, learner.sub) == (ISSUER, "ext-7f3a")
        assert learner.external_ids == {"openedx_username": "ada"}
        evidence = s.scalar(select(PassEvidence))
        assert evidence.passed and evidence.score == 82.0 and evidence.source == "openedx_webhook"
        assert evidence.details["letter_grade"] == "Pass"
        assert credential["evidence_id"] == evidence.id


def test_json_body_with_token_field_is_accepted(client, setup, key, issued):
    resp = client.post(URL, json={"token": key.sign(passing_claims())})
    assert resp.status_code == 200


def test_failing_grade_records_evidence_without_issuing(client, services, setup, key, issued):
    resp = post(client, key.sign(passing_claims(is_passing=False, percent=0.41)))
    assert resp.status_code == 200
    assert resp.get_json()["results"][0]["action"] == "not_passed"
    assert issued.all() == []
    with services.session() as s:
        assert "41 %" in s.scalar(select(PassEvidence)).details["reason"]


def test_on_claim_policy_does_not_issue(client, services, key, issued):
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "on_claim"}, platform_id=platform.id, services=services)
    resp = post(client, key.sign(passing_claims()))
    assert resp.get_json()["results"][0]["action"] == "ready_to_claim"
    assert issued.all() == []


def test_unknown_course_is_accepted_and_ignored(client, setup, key, issued):
    resp = post(client, key.sign(passing_claims(course_key="course-v1:Other+X+1")))
    assert resp.status_code == 200 and resp.get_json()["results"] == []


@pytest.mark.parametrize("make_token, status, code", [
    (lambda k: SigningKey(kid=k.kid).sign(passing_claims()), 401, "bad_signature"),
    (lambda k: k.sign(passing_claims(iat=int(time.time()) - 900)), 401, "expired"),
    (lambda k: k.sign(passing_claims(iat=int(time.time()) + 900)), 401, "not_yet_valid"),
    (lambda k: k.sign(passing_claims(aud="https://evil.example/hook")), 401, "wrong_audience"),
    (lambda k: k.sign(passing_claims(iss="https://unknown.example")), 401, "unknown_issuer"),
    (lambda k: k.sign(passing_claims(lifetime=86400)), 400, "lifetime_too_long"),
    (lambda k: k.sign({key: v for key, v in passing_claims().items() if key != "jti"}), 400, "missing_claim"),
    (lambda k: k.sign(passing_claims(event_type="org.openedx.other.v1")), 400, "unsupported_event"),
    (lambda k: k.sign(passing_claims(data={"is_passing": "maybe"})), 400, "invalid_payload"),
    (lambda k: SigningKey().sign(passing_claims()), 401, "unknown_key"),
    (lambda k: "not-a-jwt", 400, "malformed"),
    (lambda k: "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", 400, "bad_algorithm"),
    (lambda k: "a.b.c", 400, "malformed"),
])
def test_bad_webhooks_are_rejected_with_a_named_problem_and_logged(
        client, services, setup, key, issued, caplog, make_token, status, code):
    token = make_token(key)
    with caplog.at_level(logging.WARNING, logger="microcred.webhooks"):
        resp = post(client, token)
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert body["error"] == code and body["message"]
    assert issued.all() == [] and count(services, PassEvidence) == 0
    lines = [r for r in caplog.records if r.getMessage() == "openedx webhook rejected"]
    assert lines and lines[0].fields["code"] == code
    from plugin.logging import JsonFormatter
    assert token not in JsonFormatter().format(lines[0]) or len(token) < 10


def test_replayed_webhook_is_rejected(client, services, setup, key, issued):
    token = key.sign(passing_claims())
    assert post(client, token).status_code == 200
    again = post(client, token)
    assert again.status_code == 409 and again.get_json()["error"] == "replayed"
    assert len(issued.all()) == 1 and count(services, PassEvidence) == 1


def test_when_nothing_can_be_recorded_the_answer_is_503_and_the_jti_is_freed(client, services, setup, key,
                                                                             monkeypatch):
    """503 only when even the pass cannot be recorded (here: the database refuses the evidence)."""
    from sqlalchemy.exc import OperationalError

    def broken_storage(*args, **kwargs):
        raise OperationalError("INSERT INTO pass_evidence ...", {}, Exception("database is locked"))
    monkeypatch.setattr(auto, "record_evidence", broken_storage)
    token = key.sign(passing_claims())
    resp = post(client, token)
    assert resp.status_code == 503 and resp.get_json()["error"] == "processing_failed"
    assert count(services, OneTimeToken) == 0 and count(services, PassEvidence) == 0
    assert count(services, PendingIssuance) == 0
    monkeypatch.undo()  # the database is back: the same token is accepted
    assert post(client, token).status_code == 200 and len(Issued(services).all()) == 1


def test_issuing_failure_keeps_the_pass_answers_200_pending_and_the_retry_issues_once(client, services, setup,
                                                                                     key, issued):
    """The issuer's key does not open: the valid event is accepted (no re-sending), the pass is
    kept, the reason is named; the admin rotates the keys and the retry job issues exactly one."""
    from tests.issuance.failure_support import break_signing_key, rotate_keys, run_due_retries
    with services.session() as s:
        issuer_id = s.get(CredentialDefinition, setup["definition_id"]).issuer_id
    break_signing_key(services, issuer_id)
    token = key.sign(passing_claims())
    resp = post(client, token)
    assert resp.status_code == 200, resp.get_json()
    (result,) = resp.get_json()["results"]
    # the existing keys are all there, unchanged; the new ones say why and what happens next
    assert {"definition_id", "learner_id", "evidence_id", "evidence_created", "passed", "reason", "action",
            "credential_id"} <= set(result)
    assert result["action"] == "pending" and result["passed"] is True and result["credential_id"] is None
    assert result["issue_error_code"] == "signing_key"
    assert result["issue_error"].startswith("the issuer's signing key could not be used: ")
    assert "MICROCRED_KEK" in result["issue_error"] and result["job_id"] and result["next_attempt_at"]
    assert issued.all() == [] and count(services, PassEvidence) == 1
    assert post(client, token).status_code == 409  # the event was taken: the plugin does not re-send it

    rotate_keys(services, issuer_id)
    run_due_retries(services)
    _assert_one_valid_credential_citing_the_webhook(services, issued)
    with services.session() as s:
        row = s.scalar(select(PendingIssuance))
        resolved = (row.state, row.resolution, row.credential_id)
    assert resolved == ("resolved", "issued", issued.all()[0]["id"])
    # a second delivery of the same pass (new jti) and another run of the jobs change nothing
    assert post(client, key.sign(passing_claims())).get_json()["results"][0]["action"] == "already_issued"
    run_due_retries(services)
    assert len(issued.all()) == 1


def _deliver_concurrently(app, tokens):
    results = [None] * len(tokens)
    barrier = threading.Barrier(len(tokens))

    def deliver(i):
        client = app.test_client()
        barrier.wait()
        resp = client.post(URL, data=tokens[i], content_type="application/jwt")
        results[i] = (resp.status_code, resp.get_json())
    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_same_webhook_delivered_five_times_concurrently_is_processed_once(app, services, setup, key, issued):
    token = key.sign(passing_claims())
    results = _deliver_concurrently(app, [token] * 5)
    statuses = sorted(code for code, _ in results)
    assert statuses == [200, 409, 409, 409, 409], results
    assert count(services, PassEvidence) == 1 and count(services, OneTimeToken) == 1
    _assert_one_valid_credential_citing_the_webhook(services, issued)


def _assert_one_valid_credential_citing_the_webhook(services, issued, percent=82):
    """Exactly one credential, signed by the real engine, verifying, and citing the webhook's evidence."""
    credentials = issued.all()
    assert len(credentials) == 1, credentials
    credential = credentials[0]
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok, (json_report.summary(), jwt_report.summary())
    with services.session() as s:
        evidence = s.get(PassEvidence, credential["evidence_id"])
        assert evidence.passed and evidence.source == "openedx_webhook"
        observed = evidence.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    (cited,) = credential["document"]["evidence"]
    assert cited["assessmentSource"].startswith("Open edX (course passing event")
    assert cited["assessmentScore"] == f"{percent}/100"
    assert cited["assessmentDate"] == observed
    assert f"Score: {percent} % (pass mark 70 %)." in cited["narrative"]


def test_concurrent_events_about_a_new_learner_create_one_learner(app, services, setup, key, issued):
    tokens = [key.sign(passing_claims()) for _ in range(5)]
    results = _deliver_concurrently(app, tokens)
    assert [code for code, _ in results] == [200] * 5, results
    assert count(services, Learner) == 1
    assert {c["learner_id"] for c in issued.all()} == {results[0][1]["learner"]}
    assert count(services, PassEvidence) == 5  # five events (five jti), each recorded; one credential
    _assert_one_valid_credential_citing_the_webhook(services, issued)


def test_key_registered_as_a_jwks_url_is_fetched_and_used(client, services, issued):
    from tests.evidence.fake_platforms import _Server
    key = SigningKey()
    jwks_server = _Server(lambda method, path, query, form, headers: (200, key.jwks))
    try:
        with services.session() as s:
            platform = make_platform(s, bridge={"openedx": {"webhook_jwks_url": jwks_server.url + "/microcred/webhook-jwks.json"}})
            make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id, services=services)
        assert post(client, key.sign(passing_claims())).status_code == 200
        forged = post(client, SigningKey(kid=key.kid).sign(passing_claims()))
        assert forged.status_code == 401 and forged.get_json()["error"] == "bad_signature"
        assert jwks_server.requests[0][1] == "/microcred/webhook-jwks.json"
    finally:
        jwks_server.close()


def test_rsa_key_and_kid_less_registration_verify(client, services, issued):
    from cryptography.hazmat.primitives.asymmetric import rsa
    import jwt as pyjwt
    import json as _json
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = _json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))  # no kid
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": {"keys": [public_jwk]}}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id, services=services)
    token = pyjwt.encode(passing_claims(), private, algorithm="RS256", headers={"kid": "whatever"})
    assert post(client, token).status_code == 200
    # An EdDSA token against this RSA key is a signature failure, not a crash.
    wrong_type = SigningKey().sign(passing_claims())
    resp = post(client, wrong_type)
    assert resp.status_code == 401 and resp.get_json()["error"] == "bad_signature"


def test_pass_reported_before_the_credential_is_enabled_is_recorded(client, services, key, issued):
    from plugin.issuance import service as issuance
    from plugin.jobs.worker import EmbeddedWorker
    from plugin.storage.models import CredentialDefinition
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        definition_id = make_definition(s, policy={"source": "openedx_webhook", "rule": "course_grade",
                                                   "threshold": 70, "issuance": "automatic"},
                                        platform_id=platform.id, services=services, enabled=False).id
    resp = post(client, key.sign(passing_claims()))
    assert resp.status_code == 200
    assert resp.get_json()["results"][0]["action"] == "disabled"
    assert issued.all() == []
    with services.session() as s:
        evidence = s.scalar(select(PassEvidence))
        assert evidence.passed and evidence.definition_id == definition_id
        queued = issuance.set_enabled(s, s.get(CredentialDefinition, definition_id), True, actor="test",
                                      services=services)
    assert queued == 1
    EmbeddedWorker(services).run_until_empty()
    (credential,) = issued.all()
    assert credential["evidence_id"] == evidence.id


def test_ec_token_is_checked_against_each_registration_of_the_issuer(client, services, issued):
    """Two registrations of one issuer, one with an RSA webhook key, one with an EC (ES256) key:
    the RSA key does not fit an ES256 token, which must be a mismatch to skip, not a crash (503)."""
    import json as _json

    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    rsa_jwk = _json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))  # no kid
    ec_private = ec.generate_private_key(ec.SECP256R1())
    ec_jwk = _json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(ec_private.public_key()))  # no kid
    with services.session() as s:
        make_platform(s, client_id="rsa-registration", bridge={"openedx": {"webhook_jwks": {"keys": [rsa_jwk]}}})
        platform = make_platform(s, client_id="ec-registration", bridge={"openedx": {"webhook_jwks": {"keys": [ec_jwk]}}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id,
                        services=services)
    resp = post(client, pyjwt.encode(passing_claims(), ec_private, algorithm="ES256"))
    assert resp.status_code == 200, resp.get_json()
    forged = post(client, pyjwt.encode(passing_claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"))
    assert forged.status_code == 401 and forged.get_json()["error"] == "bad_signature"


# ------------------------------------------------ input that can never succeed: a 4xx, never a 503
# (issue 11, defect 6: the Open edX plugin retries a 503 four times)
MOODLE_URL = "/api/webhooks/moodle"


def moodle_claims(*, name="Ada Lovelace", courseid="2", grade=80.0, **extra) -> dict:
    iat = int(time.time())
    claims = {"iss": ISSUER, "aud": "http://tool.test" + MOODLE_URL, "iat": iat, "exp": iat + 120,
              "jti": __import__("uuid").uuid4().hex, "event_type": "local_microcred.course_status.v1",
              "data": {"courseid": courseid, "trigger": "course_completed",
                       "user": {"id": "4", "name": name, "email": "ada@example.org"},
                       "completion": {"enabled": True, "completed": True, "missing": []},
                       "course_total": {"grade": grade, "grademin": 0, "grademax": 100, "gradepass": 50}}}
    claims.update(extra)
    return claims


@pytest.fixture
def both(services, key):
    """A platform with a webhook key for each bridge and a credential for each."""
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}, "moodle": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "rule": "course_grade", "threshold": 70,
                                   "issuance": "automatic"}, platform_id=platform.id)
        make_definition(s, policy={"source": "moodle", "rule": "completion", "issuance": "automatic"},
                        context_id="2", platform_id=platform.id)


def _nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def _signed_raw(key, payload: str) -> str:
    """A token whose payload is this exact text (json.dumps cannot write 5,000 levels)."""
    import jwt
    return jwt.api_jws.PyJWS().encode(payload.encode(), key.private, algorithm="EdDSA", headers={"kid": key.kid})


def _deep_claims(depth):
    claims = json.dumps(passing_claims())
    return claims[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"


def _openedx_claims(**data):
    claims = passing_claims()
    for dotted, value in data.items():
        target = claims["data"]
        *path, last = dotted.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return claims


HOPELESS = [
    # (url, what is sent, status, error code)
    (URL, lambda k: k.sign(_openedx_claims(**{"user.external_id": "ext\x00-7f3a"})), 400, "unusable_value"),
    (URL, lambda k: k.sign(_openedx_claims(course_key="course-v1:\x00X+1")), 400, "unusable_value"),
    (URL, lambda k: k.sign(_openedx_claims(**{"grade.percent": float("nan")})), 400, "malformed"),
    (URL, lambda k: k.sign(_openedx_claims(**{"grade.percent": float("inf")})), 400, "malformed"),
    (URL, lambda k: k.sign(passing_claims(iat=float("nan"))), 400, "malformed"),
    (URL, lambda k: k.sign(_openedx_claims(extra=_nested(300))), 400, "malformed"),
    (URL, lambda k: _signed_raw(k, _deep_claims(5000)), 400, "malformed"),
    (MOODLE_URL, lambda k: k.sign(moodle_claims(name="Ada\x00")), 400, "unusable_value"),
    (MOODLE_URL, lambda k: k.sign(moodle_claims(grade=float("-inf"))), 400, "malformed"),
    (MOODLE_URL, lambda k: k.sign(moodle_claims(grade=float("nan"))), 400, "malformed"),
    (MOODLE_URL, lambda k: k.sign(moodle_claims(courseid=_nested(300))), 400, "malformed"),
]


@pytest.mark.parametrize("url, make_token, status, code", HOPELESS)
def test_an_event_that_can_never_succeed_is_a_400_not_a_503(client, services, both, key, url, make_token, status, code):
    resp = client.post(url, data=make_token(key), content_type="application/jwt")
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert body["error"] == code and body["message"]
    assert count(services, PassEvidence) == 0 and count(services, OneTimeToken) == 0


@pytest.mark.parametrize("url", [URL, MOODLE_URL])
def test_a_body_over_the_size_limit_is_a_413(client, both, url):
    resp = client.post(url, data=b"e" * (3 * 1024 * 1024), content_type="application/jwt")
    assert resp.status_code == 413
    assert resp.get_json()["message"]


@pytest.mark.parametrize("url", [URL, MOODLE_URL])
@pytest.mark.parametrize("body, why", [
    ('{"token": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than 64 levels"),
    ('{"token": ' + "[" * 100 + "]" * 100 + "}", "nested deeper than 64 levels"),
    ('{"token": NaN}', "NaN is not a JSON number"),
    ('{"token": "a.b.c", "x": -Infinity}', "-Infinity is not a JSON number"),
    ('{"token": "a.b.\\u0000"}', "NUL character"),
])
def test_a_json_body_that_is_not_json_is_a_400_saying_why(client, both, url, body, why):
    resp = client.post(url, data=body, content_type="application/json")
    assert resp.status_code == 400, resp.get_json()
    assert why in resp.get_json()["message"]
