"""The function RQ runs: execute one ``job`` row by id (see :mod:`plugin.jobs.queue`).

The RQ worker process binds its services once (``microcred worker`` calls :func:`bind`);
a process that did not bind builds them from the environment on first use.
"""
from __future__ import annotations

_SERVICES = None


def bind(services) -> None:
    global _SERVICES
    _SERVICES = services


def _services():
    global _SERVICES
    if _SERVICES is None:
        from plugin.services import build_services
        from plugin.settings import Settings
        _SERVICES = build_services(Settings.from_env())
    return _SERVICES


def run_job(job_id: int) -> str:
    from plugin.jobs.queue import execute_job
    return execute_job(_services(), job_id)
