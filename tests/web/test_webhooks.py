"""The Open edX webhook receiver: accepted once, everything else a 4xx naming the problem."""
import json
import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from plugin.issuance import auto
from plugin.storage.models import Learner, OneTimeToken, PassEvidence
from tests.bridges_support import (ISSUER, RecordingAward, SigningKey, make_definition, make_platform,
                                   passing_claims)

URL = "/api/webhooks/openedx"


@pytest.fixture
def award(monkeypatch):
    recorder = RecordingAward()
    monkeypatch.setattr(auto, "engine_award", lambda: recorder)
    return recorder


@pytest.fixture
def key():
    return SigningKey()


@pytest.fixture
def setup(services, key):
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        definition = make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"},
                                     platform_id=platform.id)
        return {"definition_id": definition.id, "platform_id": platform.id}


def post(client, token, content_type="application/jwt"):
    return client.post(URL, data=token, content_type=content_type)


def count(services, model):
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_signed_passing_event_is_recorded_and_issues(client, services, setup, key, award):
    resp = post(client, key.sign(passing_claims()))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["results"][0]["action"] == "issued"
    assert len(award.calls) == 1 and award.calls[0]["definition_id"] == setup["definition_id"]
    with services.session() as s:
        learner = s.scalar(select(Learner))
        assert (learner.platform_issuer, learner.sub) == (ISSUER, "ext-7f3a")
        assert learner.external_ids == {"openedx_username": "ada"}
        evidence = s.scalar(select(PassEvidence))
        assert evidence.passed and evidence.score == 82.0 and evidence.source == "openedx_webhook"
        assert evidence.details["letter_grade"] == "Pass"
        assert award.calls[0]["evidence_id"] == evidence.id


def test_json_body_with_token_field_is_accepted(client, setup, key, award):
    resp = client.post(URL, json={"token": key.sign(passing_claims())})
    assert resp.status_code == 200


def test_failing_grade_records_evidence_without_issuing(client, services, setup, key, award):
    resp = post(client, key.sign(passing_claims(is_passing=False, percent=0.41)))
    assert resp.status_code == 200
    assert resp.get_json()["results"][0]["action"] == "not_passed"
    assert award.calls == []
    with services.session() as s:
        assert "41 %" in s.scalar(select(PassEvidence)).details["reason"]


def test_on_claim_policy_does_not_issue(client, services, key, award):
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "on_claim"}, platform_id=platform.id)
    resp = post(client, key.sign(passing_claims()))
    assert resp.get_json()["results"][0]["action"] == "ready_to_claim"
    assert award.calls == []


def test_unknown_course_is_accepted_and_ignored(client, setup, key, award):
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
        client, services, setup, key, award, caplog, make_token, status, code):
    token = make_token(key)
    with caplog.at_level(logging.WARNING, logger="microcred.webhooks"):
        resp = post(client, token)
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert body["error"] == code and body["message"]
    assert award.calls == [] and count(services, PassEvidence) == 0
    lines = [r for r in caplog.records if r.getMessage() == "openedx webhook rejected"]
    assert lines and lines[0].fields["code"] == code
    from plugin.logging import JsonFormatter
    assert token not in JsonFormatter().format(lines[0]) or len(token) < 10


def test_replayed_webhook_is_rejected(client, services, setup, key, award):
    token = key.sign(passing_claims())
    assert post(client, token).status_code == 200
    again = post(client, token)
    assert again.status_code == 409 and again.get_json()["error"] == "replayed"
    assert len(award.calls) == 1 and count(services, PassEvidence) == 1


def test_failed_processing_frees_the_jti_for_a_retry(client, services, setup, key, monkeypatch):
    def broken_engine(*args, **kwargs):
        raise RuntimeError("signing key unavailable")
    monkeypatch.setattr(auto, "engine_award", lambda: broken_engine)
    token = key.sign(passing_claims())
    assert post(client, token).status_code == 503
    assert count(services, OneTimeToken) == 0 and count(services, PassEvidence) == 0
    recorder = RecordingAward()
    monkeypatch.setattr(auto, "engine_award", lambda: recorder)
    assert post(client, token).status_code == 200 and len(recorder.calls) == 1


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


def test_same_webhook_delivered_five_times_concurrently_is_processed_once(app, services, setup, key, award):
    token = key.sign(passing_claims())
    results = _deliver_concurrently(app, [token] * 5)
    statuses = sorted(code for code, _ in results)
    assert statuses == [200, 409, 409, 409, 409], results
    assert len(award.calls) == 1
    assert count(services, PassEvidence) == 1 and count(services, OneTimeToken) == 1


def test_concurrent_events_about_a_new_learner_create_one_learner(app, services, setup, key, award):
    tokens = [key.sign(passing_claims()) for _ in range(5)]
    results = _deliver_concurrently(app, tokens)
    assert [code for code, _ in results] == [200] * 5, results
    assert count(services, Learner) == 1
    assert {c["learner_id"] for c in award.calls} == {results[0][1]["learner"]}


def test_key_registered_as_a_jwks_url_is_fetched_and_used(client, services, award):
    from tests.evidence.fake_platforms import _Server
    key = SigningKey()
    jwks_server = _Server(lambda method, path, query, form, headers: (200, key.jwks))
    try:
        with services.session() as s:
            platform = make_platform(s, bridge={"openedx": {"webhook_jwks_url": jwks_server.url + "/microcred/webhook-jwks.json"}})
            make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id)
        assert post(client, key.sign(passing_claims())).status_code == 200
        forged = post(client, SigningKey(kid=key.kid).sign(passing_claims()))
        assert forged.status_code == 401 and forged.get_json()["error"] == "bad_signature"
        assert jwks_server.requests[0][1] == "/microcred/webhook-jwks.json"
    finally:
        jwks_server.close()
