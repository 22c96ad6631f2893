"""/metrics: off by default, behind a token or an address allow-list, parsed with
prometheus_client's own parser, and counting what the tool really did."""
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from plugin.jobs.queue import enqueue
from plugin.status.service import set_status
from plugin.storage.models import IssuedCredential, Job
from tests.bridges_support import SigningKey, make_definition, make_platform, passing_claims

TOKEN = "metrics-token-0123456789abcdef"


def scrape(client, token=TOKEN) -> dict:
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain") and resp.headers["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_configured(client):
    resp = client.get("/metrics", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and "MICROCRED_METRICS_TOKEN" in resp.get_json()["message"]


def test_the_token_is_required_when_set(client, services):
    services.settings.metrics_token = TOKEN
    resp = client.get("/metrics", headers={"Accept": "application/json"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-000000000"}).status_code == 401
    assert scrape(client)  # the right one


def test_the_allow_list_admits_listed_addresses_only(client, services):
    services.settings.metrics_allow = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403  # the test client comes from 127.0.0.1
    services.settings.metrics_allow = ["10.0.0.0/8", "127.0.0.1"]
    resp = client.get("/metrics")
    assert resp.status_code == 200 and "microcred_jobs_queued" in resp.get_data(as_text=True)


def test_settings_refuse_a_short_token_and_a_bad_network():
    from plugin.settings import Settings, SettingsError
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({"MICROCRED_METRICS_TOKEN": "short"})
    with pytest.raises(SettingsError, match="not an IP address"):
        Settings.from_env({"MICROCRED_METRICS_ALLOW": "10.0.0.0/8,intranet"})


def test_issuance_webhook_verification_status_and_queue_are_counted(client, services):
    services.settings.metrics_token = TOKEN
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id,
                        services=services)
    before = scrape(client)
    resp = client.post("/api/webhooks/openedx", data=key.sign(passing_claims()), content_type="application/jwt")
    assert resp.get_json()["results"][0]["action"] == "issued"
    with services.session() as s:
        credential = s.scalar(select(IssuedCredential))
        public_id = credential.public_id
        set_status(s, credential, "revoked", "test")
        s.commit()
    assert client.get(f"/verify/{public_id}").status_code == 200
    with services.session() as s:  # a job due for five minutes that no worker took
        job_id = enqueue(services, "notify_credential_ready", {"credential_id": 0}, session=s)
        s.flush()
        s.get(Job, job_id).run_after = datetime.now(timezone.utc) - timedelta(minutes=5)
        s.commit()
    after = scrape(client)

    issued = dict(result="issued", source="openedx_webhook")
    assert value(after, "microcred_issuances_total", **issued) == value(before, "microcred_issuances_total", **issued) + 1
    webhooks = "microcred_webhook_duration_seconds_count"
    assert value(after, webhooks, bridge="openedx") == value(before, webhooks, bridge="openedx") + 1
    assert value(after, "microcred_webhook_duration_seconds_sum", bridge="openedx") > value(
        before, "microcred_webhook_duration_seconds_sum", bridge="openedx")
    views = "microcred_verification_views_total"
    assert value(after, views, view="link") == value(before, views, view="link") + 1
    writes = "microcred_status_list_writes_total"
    assert value(after, writes, purpose="revocation") == value(before, writes, purpose="revocation") + 1
    assert value(after, "microcred_jobs_queued") >= 1
    assert value(after, "microcred_jobs_oldest_queued_age_seconds") >= 290


def test_launch_latency_is_observed(client, services):
    services.settings.metrics_token = TOKEN
    before = scrape(client)
    client.post("/lti/launch", data={})  # refused (no id_token), still a launch answered
    after = scrape(client)
    name = "microcred_launch_duration_seconds_count"
    assert value(after, name, kind="launch") == value(before, name, kind="launch") + 1


def test_multiprocess_mode_adds_up_every_process(client, services, tmp_path, monkeypatch):
    """Under gunicorn (several worker processes) with PROMETHEUS_MULTIPROC_DIR, one scrape
    reports what every process counted."""
    services.settings.metrics_token = TOKEN
    code = "from plugin.metrics import count_issuance; count_issuance('issued', 'moodle')"
    folder = tmp_path / "not-yet-made"  # a new container's folder: the first count makes it
    for _ in range(3):
        subprocess.run([sys.executable, "-c", code], check=True, env={**__import__("os").environ,
                                                                      "PROMETHEUS_MULTIPROC_DIR": str(folder)})
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    samples = scrape(client)
    assert value(samples, "microcred_issuances_total", result="issued", source="moodle") == 3
