"""Scale-out: two ``microcred serve`` processes and two RQ workers share one PostgreSQL and one
Redis. Open edX passing events for every learner arrive at both servers while two bulk jobs
(the same file uploaded twice) issue the same learners: each learner ends with exactly one
credential, whoever issued it, and every status index is used once.

PostgreSQL only (SQLite is one machine's file); a Redis queue of this test's own.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from plugin.issuance import bulk
from plugin.storage.models import CredentialDefinition, IssuedCredential, Job, StatusListSlot
from tests.bridges_support import AUDIENCE, SigningKey, make_definition, make_platform, passing_claims
from tests.jobs.workers import WorkerProcess, drop_rq_queue, use_rq, wait_for

pytestmark = pytest.mark.slow
LEARNERS = 200


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``microcred serve`` (gunicorn) on a port of its own, the base URL of the deployment shared."""

    def __init__(self, log_path):
        self.port = _free_port()
        self._log = open(log_path, "ab")
        self.log_path = log_path
        self.proc = subprocess.Popen([sys.executable, "-m", "plugin", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port), "--workers", "1", "--threads", "4"],
                                     env=dict(os.environ), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"microcred serve exited ({self.proc.returncode}):\n{self.output()}")
        try:
            return requests.get(self.url + "/healthz", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        import signal
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def test_two_servers_and_two_workers_issue_exactly_once_per_learner(services, database_url, monkeypatch,
                                                                      tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out shares a PostgreSQL server between machines")
    queue = use_rq(services, monkeypatch)
    monkeypatch.setenv("MICROCRED_BULK_WORKERS", "1")
    monkeypatch.setattr(bulk, "BATCH_SIZE", 70)  # batches of 64+ are signed by the pool
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        definition_id = make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"},
                                        platform_id=platform.id, services=services).id
    servers = [Server(tmp_path / f"serve{n}.log") for n in (1, 2)]
    workers = []
    try:
        for server in servers:
            wait_for(server.healthy, 90, interval=0.3, what=f"microcred serve on port {server.port}")
        workers = [WorkerProcess(tmp_path / f"worker{n}.log") for n in (1, 2)]
        csv_text = "sub,name\n" + "".join(f"ext-{i},Learner {i}\n" for i in range(LEARNERS))
        with services.session() as s:  # the instructor uploads the list twice (two jobs, one per worker)
            definition = s.get(CredentialDefinition, definition_id)
            jobs = [bulk.start_bulk_issue(s, services, definition, csv_text.encode(), actor="lti:teacher",
                                          filename=f"passed-{n}.csv") for n in (1, 2)]

        def send(i: int) -> str:
            server = servers[i % 2]
            token = key.sign(passing_claims(sub=f"ext-{i}", username=f"u{i}", aud=AUDIENCE))
            resp = requests.post(server.url + "/api/webhooks/openedx", data=token,
                                 headers={"Content-Type": "application/jwt"}, timeout=120)
            assert resp.status_code == 200, resp.text
            return resp.json()["results"][0]["action"]
        def started():
            with services.session() as s:
                return any(((s.get(Job, j).result or {}).get("progress") or {}).get("done") for j in jobs)
        wait_for(started, 120, interval=0.2, what="the first batch of a bulk job", worker=workers[0])
        with ThreadPoolExecutor(6) as pool:  # while the jobs run, from the other end of the list
            actions = list(pool.map(send, reversed(range(LEARNERS))))

        def jobs_done():
            with services.session() as s:
                return all(s.get(Job, j).status in ("done", "failed") for j in jobs)
        wait_for(jobs_done, 300, interval=0.5, what="the end of both bulk jobs", worker=workers[0])
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            worker.stop()
        drop_rq_queue(queue)

    assert set(actions) <= {"issued", "already_issued"}, actions
    with services.session() as s:
        results = [s.get(Job, j) for j in jobs]
        assert [j.status for j in results] == ["done", "done"], [j.last_error for j in results]
        for job in results:
            counts = job.result["counts"]
            assert counts["issued"] + counts["skipped"] == LEARNERS and not counts["failed"], counts
            assert {r["code"] for r in job.result["rows"]} <= {"issued", "already_active"}
        learners = s.scalars(select(IssuedCredential.learner_id)
                             .where(IssuedCredential.definition_id == definition_id)).all()
        assert len(learners) == len(set(learners)) == LEARNERS  # none lost, none doubled
        by_webhook = actions.count("issued")
        by_jobs = sum(j.result["counts"]["issued"] for j in results)
        assert by_webhook + by_jobs == LEARNERS, (by_webhook, by_jobs)
        slots = s.scalars(select(StatusListSlot.index)).all()
        assert len(slots) == len(set(slots)) == LEARNERS
    logs = "".join(server.output() for server in servers)
    assert "Traceback" not in logs, logs
    print(f"\nissued by webhooks: {by_webhook}, by the bulk jobs: {by_jobs}")
