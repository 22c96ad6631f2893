"""Real ``microcred worker`` processes for the tests: started like an operator starts them,
killed with SIGKILL like a machine that dies (the whole process group: RQ's work horse too)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("MICROCRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("MICROCRED_REQUIRE_REDIS") == "1"


def redis_or_skip():
    from redis import Redis
    conn = Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except Exception:
        if REQUIRE_REDIS:
            pytest.fail(f"MICROCRED_REQUIRE_REDIS=1 but Redis at {REDIS_URL} is not reachable")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return conn


def use_rq(services, monkeypatch) -> str:
    """Switch ``services`` and the environment the workers inherit to RQ on a queue of this test's own."""
    redis_or_skip()
    name = f"microcred-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("MICROCRED_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("MICROCRED_RQ_QUEUE", name)
    services.settings.redis_url = REDIS_URL
    services.settings.rq_queue = name
    services.extras.pop("job_queue", None)
    return name


def drop_rq_queue(name: str) -> None:
    from redis import Redis
    from rq import Queue
    Queue(name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


class WorkerProcess:
    """``microcred worker`` in a process group of its own, its output kept in a file."""

    def __init__(self, log_path: Path, *extra_args: str, **env: str):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        environ = {**os.environ, **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "plugin", "worker", "--poll", "0.2", *extra_args],
                                     env=environ, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def _session(self) -> list[int]:
        """Every process of the worker's session: the worker and its children (RQ's work horse
        puts itself in a process group of its own, but stays in the session)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid:  # field 6 of stat: the session id
                pids.append(int(entry.name))
        return pids

    def kill9(self) -> None:
        """SIGKILL to every process of the worker: nothing gets to clean up, as when the machine dies."""
        for pid in self._session():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill9()  # and whatever it left behind (a work horse)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "the condition", worker=None):
    """Poll ``predicate`` until it returns something true; fail with the worker's output after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.proc.poll() is not None:
            pytest.fail(f"the worker exited ({worker.proc.returncode}) before {what}:\n{worker.output()}")
        time.sleep(interval)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s" + (f":\n{worker.output()}" if worker else ""))
