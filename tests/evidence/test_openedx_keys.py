"""The webhook's keys and timestamps: what only a hostile sender would send is a 4xx."""
from __future__ import annotations

import math

import pytest

from tests.bridges_support import SigningKey, make_platform, passing_claims

URL = "/api/webhooks/openedx"


@pytest.mark.parametrize("field, value", [("iat", math.nan), ("exp", math.nan), ("exp", math.inf),
                                          ("iat", -math.inf), ("exp", True)])
def test_nan_and_infinity_timestamps_are_refused(client, services, field, value):
    # PyJWT reads NaN and Infinity; every comparison with NaN is false, so they passed the
    # expiry and lifetime checks and reached the database as a timestamp.
    key = SigningKey()
    with services.session() as s:
        make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
    token = key.sign(passing_claims(**{field: value}))
    response = client.post(URL, data=token, content_type="application/jwt")
    assert response.status_code == 400, response.get_json()
    if isinstance(value, bool):
        assert response.get_json()["error"] == "bad_timestamps"
    else:  # not JSON at all: the payload is refused as it is read (plugin.strict_json)
        assert response.get_json()["error"] == "malformed"
        assert "is not a JSON number" in response.get_json()["message"]


def test_an_overlong_kid_is_refused_before_any_key_is_looked_up(client, services):
    key = SigningKey()
    with services.session() as s:
        make_platform(s, bridge={"openedx": {"webhook_jwks_url": "http://127.0.0.1:9/jwks"}})
    response = client.post(URL, data=key.sign(passing_claims(), kid="k" * 300), content_type="application/jwt")
    assert response.status_code == 400 and response.get_json()["error"] == "malformed"
