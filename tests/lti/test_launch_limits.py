"""Defect 11 of issue 11 on launches: ``exp`` has an upper bound, and an unknown ``kid`` makes
the tool fetch the platform's key set again only as often as the refetch limit allows."""
from __future__ import annotations

import time

import pytest

from tests.lti.fixtures import TOOL, claims_for, do_login, launch, post_launch, register, start_sandbox


def _refused(r, status, *words):
    assert r.status_code == status, (r.status_code, r.data[:300])
    text = r.get_json()["message"]
    for w in words:
        assert w in text, (w, text)


def test_an_id_token_valid_for_hours_is_refused(client, sandbox, registered):
    now = int(time.time())
    _refused(launch(client, sandbox, exp=now + 5 * 3600), 400, "more than 4 hours away")
    _refused(launch(client, sandbox, exp=1e308), 400, "more than 4 hours away")
    assert launch(client, sandbox, exp=now + 3 * 3600).status_code == 303  # long, but not absurd


@pytest.fixture
def counted_sandbox():
    """A sandbox platform of its own whose key-set downloads are counted."""
    platform, server = start_sandbox(TOOL)
    app = server.app
    fetches: list[str] = []

    def counting(environ, start_response):
        if environ["PATH_INFO"].endswith("/jwks"):
            fetches.append(environ["PATH_INFO"])
        return app(environ, start_response)
    server.app = counting
    yield platform, fetches
    server.close()


def _with_kid(client, platform, kid):
    q = do_login(client, platform)
    token = platform.sign(claims_for(platform, q["nonce"]), headers={"kid": kid})
    return post_launch(client, token, q["state"], json_errors=True)


def test_unknown_kids_refetch_the_key_set_once_per_minute_per_platform(client, services, counted_sandbox):
    platform, fetches = counted_sandbox
    register(services, platform)
    assert _with_kid(client, platform, platform.kid).status_code == 303
    assert len(fetches) == 1  # fetched once, cached
    assert _with_kid(client, platform, platform.kid).status_code == 303
    assert len(fetches) == 1

    # A kid the cached set lacks: perhaps a key rotation, so the set is fetched again at once.
    _refused(_with_kid(client, platform, "rotated-key-1"), 400, "'rotated-key-1' is not in the platform's key set")
    assert len(fetches) == 2
    # Another made-up kid within the minute: no fetch, a 429 that says when to try again.
    r = _with_kid(client, platform, "rotated-key-2")
    _refused(r, 429, "fetched again moments ago", "try again in")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert len(fetches) == 2
    # Launches signed with the known key are not held up meanwhile.
    assert _with_kid(client, platform, platform.kid).status_code == 303
    assert len(fetches) == 2
