"""The OpenID4VCI endpoints share one rate-limit budget per client address
(MICROCRED_RATELIMIT_OID4VCI); the metadata is not limited."""
from __future__ import annotations

from tests.engine_helpers import make_world
from tests.web.test_ratelimits import _assert_429


def test_wallet_requests_share_one_budget_per_address(client, services):
    make_world(services)
    services.settings.ratelimit_oid4vci = "3 per minute"
    assert client.post("/oid4vci/acme/nonce").status_code == 200
    assert client.post("/oid4vci/acme/token", data={"grant_type": "x"}).status_code == 400
    assert client.post("/oid4vci/acme/credential", json={}).status_code == 401
    limited = client.post("/oid4vci/acme/nonce", headers={"Accept": "application/json"})
    _assert_429(limited, "Too many wallet requests from this address")
    _assert_429(client.post("/oid4vci/acme/token", data={"grant_type": "x"}))
    assert client.post("/oid4vci/acme/nonce", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    assert client.get("/.well-known/openid-credential-issuer/oid4vci/acme").status_code == 200
