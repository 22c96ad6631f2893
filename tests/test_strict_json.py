"""Strict JSON for what arrives from outside: no NaN/Infinity, bounded nesting, NUL found."""
import math

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugin import strict_json


@pytest.mark.parametrize("text, why", [
    ("NaN", "NaN is not a JSON number"),
    ('{"a": [1, Infinity]}', "Infinity is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"),
    ("[" * 65 + "]" * 65, "nested deeper than 64 levels"),
    ("[" * 100000 + "]" * 100000, "nested deeper than 64 levels"),
    ('{"a": ', "Expecting value"),
])
def test_what_is_not_strict_json_is_a_value_error_saying_why(text, why):
    with pytest.raises(ValueError, match=why):
        strict_json.loads(text)


def test_json_within_the_limits_reads_as_usual():
    assert strict_json.loads("[" * 64 + "]" * 64) is not None
    assert strict_json.loads('{"a": 1.5e308, "b": "\\u00e9"}') == {"a": 1.5e308, "b": "é"}


def test_problem_names_what_no_field_accepts():
    assert strict_json.problem({"a": ["ok", 1, 2.5, None, True]}) is None
    assert "NUL" in strict_json.problem({"a": ["x\x00"]})
    assert "NUL" in strict_json.problem({"k\x00": 1})
    assert "nan" in strict_json.problem([float("nan")])
    nested = "x"
    for _ in range(65):
        nested = [nested]
    assert "deeper" in strict_json.problem(nested)


def test_the_strict_jwt_reader_refuses_nan_in_a_signed_payload():
    key = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode({"exp": float("nan")}, key, algorithm="EdDSA")
    assert math.isnan(jwt.decode(token, options={"verify_signature": False})["exp"])  # PyJWT alone takes it
    with pytest.raises(jwt.DecodeError, match="NaN is not a JSON number"):
        strict_json.strict_jwt.decode(token, options={"verify_signature": False})
