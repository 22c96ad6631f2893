"""Prometheus metrics (``prometheus_client``): what the tool counts and how ``/metrics`` reads it.

Counted where it happens, no Flask here:

- ``microcred_issuances_total{result, source}``: every issuance attempt
  (:func:`plugin.issuance.pending.award_or_defer`): ``result`` issued, already_issued,
  pending (failed, retried automatically) or failed (retries exhausted); ``source`` what
  asked (openedx_webhook, moodle, ags, claim, bulk…);
- ``microcred_webhook_duration_seconds{bridge}`` and ``microcred_launch_duration_seconds{kind}``:
  request latencies of the platform webhooks and of LTI launches (observed by the request
  log, :mod:`plugin.web.request_log`);
- ``microcred_status_list_writes_total{purpose}``: status-list bits changed (revocation,
  suspension, message);
- ``microcred_verification_views_total{view}``: verification pages and API calls;
- ``microcred_jobs_queued`` and ``microcred_jobs_oldest_queued_age_seconds``: jobs due and not
  yet taken, and how long the oldest has waited (read from the job table at each scrape:
  the same for the embedded queue and RQ, which only dispatches the table's jobs).

Under gunicorn each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(an empty folder, the same for the web workers and ``microcred worker``, set before they
start) ``/metrics`` adds up every process (prometheus_client's multiprocess mode); without
it, each scrape sees the counters of the one process that answers it.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus_client writes each process's values there from the first count on: a
    # missing folder would make that count fail, so a new container may start without it.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

ISSUANCES = Counter("microcred_issuances", "Issuance attempts by result and by what asked for them",
                    ["result", "source"], registry=None)
WEBHOOK_SECONDS = Histogram("microcred_webhook_duration_seconds", "Time to answer a platform webhook",
                            ["bridge"], registry=None)
LAUNCH_SECONDS = Histogram("microcred_launch_duration_seconds", "Time to answer an LTI launch",
                           ["kind"], registry=None)
STATUS_LIST_WRITES = Counter("microcred_status_list_writes", "Status-list bits changed",
                             ["purpose"], registry=None)
VERIFICATION_VIEWS = Counter("microcred_verification_views", "Verification pages and API calls answered",
                             ["view"], registry=None)
METRICS = (ISSUANCES, WEBHOOK_SECONDS, LAUNCH_SECONDS, STATUS_LIST_WRITES, VERIFICATION_VIEWS)

# Request endpoints (Flask endpoint names) observed by the request log.
WEBHOOK_ENDPOINTS = {"webhooks.openedx_webhook": "openedx", "webhooks.moodle_webhook": "moodle"}
VERIFICATION_ENDPOINTS = {"verify.public": "link", "verify.upload": "upload", "verify.api_verify": "api"}


def count_issuance(result: str, source: str | None) -> None:
    ISSUANCES.labels(result=result, source=source or "manual").inc()


def count_status_write(purpose: str) -> None:
    STATUS_LIST_WRITES.labels(purpose=purpose).inc()


def observe_request(endpoint: str | None, path: str, seconds: float) -> None:
    """Called once per request with its Flask endpoint name, path and duration."""
    if endpoint in WEBHOOK_ENDPOINTS:
        WEBHOOK_SECONDS.labels(bridge=WEBHOOK_ENDPOINTS[endpoint]).observe(seconds)
    elif endpoint == "lti.launch":  # /lti/launch and /lti/deep-link
        LAUNCH_SECONDS.labels(kind="deep_link" if path.rstrip("/").endswith("deep-link") else "launch").observe(seconds)
    elif endpoint in VERIFICATION_ENDPOINTS:
        VERIFICATION_VIEWS.labels(view=VERIFICATION_ENDPOINTS[endpoint]).inc()


class QueueCollector:
    """Queue depth and age, read from the job table at scrape time."""

    def __init__(self, services):
        self.services = services

    def collect(self):
        from sqlalchemy import func, select

        from plugin.evidence.base import as_utc
        from plugin.storage.models import Job
        now = datetime.now(timezone.utc)
        depth = GaugeMetricFamily("microcred_jobs_queued", "Background jobs due and not yet taken")
        age = GaugeMetricFamily("microcred_jobs_oldest_queued_age_seconds",
                                "How long the oldest due job has waited (0 when none)")
        with self.services.session() as s:
            due = (Job.status == "queued") & (Job.run_after <= now)
            count, oldest = s.execute(select(func.count(), func.min(Job.run_after)).where(due)).one()
        depth.add_metric([], count or 0)
        age.add_metric([], max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest else 0.0)
        yield depth
        yield age


def exposition(services) -> tuple[bytes, str]:
    """The text exposition format of every metric (all processes in multiprocess mode)."""
    from prometheus_client import CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in METRICS:
            registry.register(metric)
    registry.register(QueueCollector(services))
    return generate_latest(registry), CONTENT_TYPE_LATEST
