"""Fuzzing (1,500 cases per database): random parameters, claims, sizes and encodings at /lti/login and /lti/launch never give a 5xx.

Signed cases use the sandbox platform's real key and a real login (state and nonce), so
random claims reach the deepest checks (registration, deployment, message validators,
learner/course upserts) instead of stopping at the signature.
"""
from __future__ import annotations

import base64
import json

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lti.fixtures import LTI, TOOL, claims_for, do_login

pytestmark = pytest.mark.slow


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.one_of(st.text(max_size=40), st.text(max_size=3000), st.sampled_from(["", "\x00", "é" * 10, "%00", "../"]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70), st.floats(allow_nan=False),
              text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=12)

LOGIN_KEYS = ["iss", "login_hint", "target_link_uri", "client_id", "lti_deployment_id", "lti_message_hint",
              "lti1p3_new_window", "state", "nonce"]
CLAIMS = ["iss", "aud", "azp", "sub", "iat", "exp", "nbf", "nonce", "name", "email", "given_name", "locale",
          LTI + "version", LTI + "deployment_id", LTI + "message_type", LTI + "target_link_uri",
          LTI + "resource_link", LTI + "roles", LTI + "context", LTI + "custom", LTI + "lis",
          "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
          "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]


def _no_5xx(r):
    assert r.status_code < 500, (r.status_code, r.data[:300])


@fuzz(400)
@given(params=st.dictionaries(st.one_of(st.sampled_from(LOGIN_KEYS), st.text(max_size=10)), text, max_size=8),
       use_known=st.booleans(), method=st.sampled_from(["get", "post"]))
def test_fuzz_login_params(client, sandbox, registered, params, use_known, method):
    if use_known:  # start from a valid login so mutations hit the deeper checks
        params = {"iss": sandbox.issuer, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch", **params}
    if method == "get":
        _no_5xx(client.get("/lti/login", query_string=params))
    else:
        _no_5xx(client.post("/lti/login", data=params))


@fuzz(300)
@given(body=st.binary(max_size=4000),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
                                     "application/x-www-form-urlencoded; charset=utf-16", "multipart/form-data; boundary=x",
                                     "application/json", "text/plain", ""]),
       path=st.sampled_from(["/lti/login", "/lti/launch", "/lti/deep-link", "/lti/deep-link/respond"]))
def test_fuzz_raw_bodies(client, body, content_type, path):
    _no_5xx(client.post(path, data=body, headers={"Content-Type": content_type} if content_type else {}))


def _b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@fuzz(400)
@given(token=st.one_of(
    text,
    st.builds(lambda h, b, s: f"{h}.{b}.{s}", st.text(max_size=60), st.text(max_size=200), st.text(max_size=60)),
    st.builds(lambda h, b: _b64(h) + "." + _b64(b) + ".c2ln", json_values, json_values),
    st.builds(lambda b: _b64(b) + "." + _b64(b) + ".", st.binary(max_size=100)),
), state=text, real_state=st.booleans())
def test_fuzz_unsigned_id_tokens(client, sandbox, registered, token, state, real_state):
    if real_state:
        state = do_login(client, sandbox)["state"]
    _no_5xx(client.post("/lti/launch", data={"id_token": token, "state": state}))


@fuzz(400)
@given(changes=st.dictionaries(st.sampled_from(CLAIMS), json_values, max_size=5),
       drops=st.lists(st.sampled_from(CLAIMS), max_size=3),
       header=st.dictionaries(st.sampled_from(["kid", "typ", "alg", "jku", "x5u"]), json_values, max_size=2),
       deep_link=st.booleans())
def test_fuzz_signed_claims(client, sandbox, registered, changes, drops, header, deep_link):
    q = do_login(client, sandbox, deep_link=deep_link)
    claims = claims_for(sandbox, q["nonce"], deep_link=deep_link)
    for key in drops:
        claims.pop(key, None)
    claims.update(changes)
    hdr = {"kid": sandbox.kid, **{k: v for k, v in header.items() if k != "alg"}}
    try:
        token = sandbox.sign(claims, headers=hdr)
    except (TypeError, ValueError, OverflowError, jwt.InvalidTokenError):
        return  # not JSON-encodable by PyJWT: no platform could send it either
    r = client.post("/lti/launch", data={"id_token": token, "state": q["state"]})
    _no_5xx(r)
    if r.status_code == 303:  # accepted: the page it leads to works too
        _no_5xx(client.get(r.headers["Location"]))
