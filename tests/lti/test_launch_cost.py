"""What one learner launch costs the database, and the per-process caches that keep it low.

A learner's launch is three requests: the platform's login initiation, the id_token form
post, and the status page it redirects to. Statements are counted with SQLAlchemy's
``before_cursor_execute`` event (transaction control, BEGIN/COMMIT, is not a statement on
either database). Platforms, deployments, the tool's keys and the courses' definitions
come from :mod:`plugin.storage.config_cache`; these tests also check that a change made by
an admin (in this process, or in another one) is seen by the next launch.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition, demo_profile
from plugin.storage.models import Course, Deployment, Platform
from tests.lti.fixtures import LEARNER, claims_for, do_login, post_launch

BUDGET = 10  # SQL statements for login + launch + status page


def _course_with_credential(services, platform_id, policy):
    with services.session() as s:
        p = s.get(Platform, platform_id)
        issuer = issuance.create_issuer(s, services, "acme", demo_profile(), actor="test")
        course = Course(platform_issuer=p.issuer, context_id="course-1", title="Course One", platform_id=p.id)
        s.add(course)
        s.flush()
        version = issuance.save_definition(s, course, demo_definition(), "test", issuer, policy=policy)
        issuance.set_enabled(s, version.definition, True, actor="test")


def _count(services):
    """Count from now on. The cache's look for other processes' changes (one small read at most
    every MICROCRED_CONFIG_CACHE_SECONDS per process) is left out: on a loaded machine it
    would fall inside a launch at random."""
    from plugin.storage import config_cache
    config_cache.configure(services.engine, 3600)
    statements: list[str] = []
    event.listen(services.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    return statements


def learner_launch(client, sandbox, sub: str) -> str:
    """Login, launch, status page; returns the page's HTML."""
    q = do_login(client, sandbox)
    r = post_launch(client, sandbox.sign(claims_for(sandbox, q["nonce"], role=LEARNER, sub=sub)), q["state"],
                    json_errors=True)
    assert r.status_code == 303, r.data[:300]
    page = client.get(r.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_learner_launch_runs_at_most_ten_statements(client, services, sandbox, registered):
    _course_with_credential(services, registered, {"source": "openedx_webhook", "issuance": "automatic"})
    learner_launch(client, sandbox, "someone-else")  # this process has now read the registration
    statements = _count(services)
    page = learner_launch(client, sandbox, "learner-new")
    assert "Data Analysis for Public Policy" in page
    first = len(statements)
    assert first <= BUDGET, "\n".join(statements)
    assert not any(s.lstrip().upper().startswith("DELETE") for s in statements)  # housekeeping: the worker's
    statements.clear()
    learner_launch(client, sandbox, "learner-new")  # the same learner comes back
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_with_a_page_refresh_period_the_status_page_asks_a_pull_source_once(client, services, sandbox, registered):
    services.settings.page_refresh_seconds = 600  # MICROCRED_PAGE_REFRESH_SECONDS=600
    _course_with_credential(services, registered, {"source": "ags", "rule": "course_grade", "threshold": 50,
                                                   "issuance": "on_claim"})
    learner_launch(client, sandbox, "learner-ags")  # first view: the claim-time check may run
    statements = _count(services)
    page = learner_launch(client, sandbox, "learner-ags")
    assert "Data Analysis for Public Policy" in page
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_a_deployment_removed_in_this_process_is_refused_at_once(client, services, sandbox, registered):
    do_login(client, sandbox)  # cached
    with services.session() as s:
        s.delete(s.scalars(select(Deployment).where(Deployment.platform_id == registered)).one())
    r = client.get("/lti/login", query_string={
        "iss": sandbox.issuer, "login_hint": "u", "target_link_uri": "http://tool.test/lti/launch",
        "client_id": sandbox.config.client_id, "lti_deployment_id": sandbox.config.deployment_id})
    assert r.status_code == 403 and b"is not registered" in r.data


@pytest.fixture
def other_process(settings):
    """Another process on the same database: its own engine, so its own cache."""
    from plugin.services import build_services
    other = build_services(settings)
    yield other
    other.engine.dispose()


def test_a_platform_removed_by_another_process_is_refused(client, services, sandbox, registered, other_process):
    from plugin.storage import config_cache
    config_cache.configure(services.engine, 0)  # look for other processes' changes in every request
    do_login(client, sandbox)  # this process has the registration cached
    with other_process.session() as s:
        platform = s.get(Platform, registered)
        for d in s.scalars(select(Deployment).where(Deployment.platform_id == registered)):
            s.delete(d)
        s.flush()
        s.delete(platform)
    r = client.get("/lti/login", query_string={
        "iss": sandbox.issuer, "login_hint": "u", "target_link_uri": "http://tool.test/lti/launch",
        "client_id": sandbox.config.client_id})
    assert r.status_code == 403 and b"is not registered with this tool" in r.data


def test_a_tool_key_rotated_by_another_process_is_published(client, services, other_process):
    from lti.keys import rotate
    from plugin.storage import config_cache
    config_cache.configure(services.engine, 0)
    before = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    with other_process.session() as s:
        new = rotate(s, other_process.secrets)
    keys = client.get("/lti/jwks").get_json()["keys"]
    assert keys[0]["kid"] == new.kid != before
    assert before in [k["kid"] for k in keys]  # the replaced key stays published


def test_a_definition_disabled_by_another_process_leaves_the_status_page(client, services, sandbox, registered,
                                                                         other_process):
    from plugin.storage import config_cache
    from plugin.storage.models import CredentialDefinition
    config_cache.configure(services.engine, 0)
    _course_with_credential(services, registered, {"source": "openedx_webhook", "issuance": "automatic"})
    assert "Data Analysis for Public Policy" in learner_launch(client, sandbox, "learner-x")
    with other_process.session() as s:
        issuance.set_enabled(s, s.scalars(select(CredentialDefinition)).one(), False, actor="test")
    assert "Data Analysis for Public Policy" not in learner_launch(client, sandbox, "learner-x")
