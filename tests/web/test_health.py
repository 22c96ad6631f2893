import pytest


def test_healthz_reports_database_and_keys(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["signing_keys"]["ok"] is True
    assert response.headers["X-Request-ID"]


def test_unknown_page_is_html_for_people_and_json_for_api_clients(client):
    html = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert html.status_code == 404
    assert html.mimetype == "text/html"
    assert b"Not Found" in html.data
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.get_json()["error"] == "Not Found"
    assert api.get_json()["request_id"]


def test_healthz_opens_every_active_signing_key(services, client):
    from tests.sealed import seed_sealed_keys
    seed_sealed_keys(services)
    body = client.get("/healthz").get_json()
    assert body["signing_keys"]["ok"] is True
    assert body["signing_keys"]["active"] == 1 and body["signing_keys"]["tool_keys"] == 1


def _store_key_sealed_with_another_kek(services, model: str):
    from plugin.storage.models import Issuer, IssuerKey, ToolKey
    from plugin.storage.secrets import SecretBox, generate_kek, issuer_key_context, tool_key_context
    stranger = SecretBox([generate_kek()])
    with services.session() as s:
        if model == "issuer":
            issuer = Issuer(slug="other", name="Other")
            s.add(issuer)
            s.flush()
            s.add(IssuerKey(issuer_id=issuer.id, key_id="k", algorithm="Ed25519", public_jwk={},
                            private_sealed=stranger.seal(b"pem", issuer_key_context(issuer.id, "k"))))
        else:
            s.add(ToolKey(kid="t", public_jwk={}, private_sealed=stranger.seal(b"pem", tool_key_context("t"))))



@pytest.mark.parametrize("model", ["issuer", "tool"])
def test_healthz_503_when_a_stored_key_cannot_be_opened(services, client, model):
    _store_key_sealed_with_another_kek(services, model)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["signing_keys"]["ok"] is False and "MICROCRED_KEK" in body["signing_keys"]["error"]


def test_healthz_503_when_the_database_is_unreachable(services, client):
    from sqlalchemy import create_engine
    working = services.engine
    services.engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                                    connect_args={"connect_timeout": 2})
    try:
        response = client.get("/healthz")
    finally:
        services.engine.dispose()
        services.engine = working
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == {"ok": False, "error": "OperationalError"}
    assert body["signing_keys"]["ok"] is False
    assert client.get("/healthz").status_code == 200  # and back when the database is


def test_healthz_reports_pending_and_failed_issuances_and_says_degraded_without_naming_anyone(services, client):
    from plugin.issuance import pending
    from tests.issuance.failure_support import break_signing_key, refuse_context, rotate_keys, run_due_retries
    from tests.web.issuance_support import deliver_pass, openedx_course
    course = openedx_course(services)
    with refuse_context(services):
        deliver_pass(client, course, sub="learner-7", username="grace")
    body = client.get("/healthz").get_json()
    # one pending issuance: retried automatically, nothing for a person to do yet
    assert body["status"] == "ok"
    assert body["issuance"]["pending"] == 1 and body["issuance"]["failed"] == 0
    assert body["issuance"]["reasons"] == {"signing": 1} and body["jobs"]["stuck"] == 0
    break_signing_key(services, course.issuer_id)
    run_due_retries(services, rounds=pending.RETRY_ATTEMPTS)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"  # a key does not open
    rotate_keys(services, course.issuer_id)
    response = client.get("/healthz")
    body = response.get_json()
    # the keys open again, but a learner still waits for a credential: degraded, still serving (200)
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["issuance"]["failed"] == 1 and body["issuance"]["oldest_open_seconds"] >= 0
    raw = response.get_data(as_text=True)
    assert "learner-7" not in raw and "grace" not in raw and "course-v1" not in raw


def test_healthz_says_degraded_when_jobs_wait_and_no_worker_takes_them(services, client):
    from datetime import datetime, timezone

    from plugin.jobs.queue import enqueue
    from plugin.storage.models import Job
    job_id = enqueue(services, "notify_credential_ready", {"credential_id": 1})
    with services.session() as s:
        s.get(Job, job_id).run_after = datetime(2020, 1, 1, tzinfo=timezone.utc)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["jobs"]["stuck"] == 1 and body["jobs"]["queued"] == 1
