"""The tool's LTI keys: created once, sealed at rest, published without the private half, rotated."""
from __future__ import annotations

import jwt
from jwcrypto.jwk import JWK
from sqlalchemy import select

from lti.keys import active_key, jwks, rotate
from plugin.storage.models import ToolKey


def test_key_is_created_once_and_sealed(services):
    with services.session() as s:
        first = active_key(s, services.secrets)
    with services.session() as s:
        again = active_key(s, services.secrets)
        (row,) = s.scalars(select(ToolKey)).all()
    assert first.kid == again.kid == row.kid
    assert "PRIVATE KEY" not in row.private_sealed and row.private_sealed.startswith("kek1:")
    published = jwks(services.sessions())["keys"]
    assert [k["kid"] for k in published] == [first.kid]
    assert "d" not in published[0] and published[0]["alg"] == "RS256" and published[0]["use"] == "sig"
    token = jwt.encode({"x": 1}, first.private_pem, algorithm="RS256", headers={"kid": first.kid})
    assert jwt.decode(token, JWK(**published[0]).export_to_pem(), algorithms=["RS256"]) == {"x": 1}


def test_sealed_key_is_bound_to_its_row(services):
    import pytest

    from plugin.storage.secrets import KeyEncryptionError, tool_key_context
    with services.session() as s:
        key = active_key(s, services.secrets)
        row = s.scalars(select(ToolKey)).one()
        with pytest.raises(KeyEncryptionError):
            services.secrets.open(row.private_sealed, tool_key_context("another-kid"))
    assert key.kid


def test_rotation_keeps_the_old_public_key(services):
    with services.session() as s:
        old = active_key(s, services.secrets)
        new = rotate(s, services.secrets)
    with services.session() as s:
        assert active_key(s, services.secrets).kid == new.kid != old.kid
        assert [k["kid"] for k in jwks(s)["keys"]] == [new.kid, old.kid]


def test_a_later_rotation_or_retire_previous_stops_publishing_the_replaced_key(services):
    from lti.keys import retire_previous
    with services.session() as s:
        first = active_key(s, services.secrets)
        second = rotate(s, services.secrets)
        third = rotate(s, services.secrets)
    with services.session() as s:
        assert [k["kid"] for k in jwks(s)["keys"]] == [third.kid, second.kid]  # first is gone
        assert first.kid not in {r.kid for r in s.scalars(select(ToolKey))}
        assert retire_previous(s) == [second.kid]
    with services.session() as s:
        assert [k["kid"] for k in jwks(s)["keys"]] == [third.kid]


def test_rotation_with_retire_old_publishes_only_the_new_key(services):
    with services.session() as s:
        active_key(s, services.secrets)
        new = rotate(s, services.secrets, retire_old=True)
    with services.session() as s:
        assert [k["kid"] for k in jwks(s)["keys"]] == [new.kid]
