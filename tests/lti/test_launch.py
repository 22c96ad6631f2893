"""The hardened launch: every 1EdTech "must reject" and "must accept" case (brief §5), plus our extras.

id_tokens are signed with the sandbox platform's real RSA key, whose JWKS the tool fetches
over HTTP; each case first goes through /lti/login so state and nonce are real.
"""
from __future__ import annotations

import time

import pytest

from tests.lti.fixtures import DROP, INSTRUCTOR, LEARNER, TOOL, claims_for, do_login, launch, post_launch


def _refused(r, *words):
    assert 400 <= r.status_code < 500, (r.status_code, r.data[:300])
    body = r.get_json()
    text = body["message"].lower()
    for w in words:
        assert w.lower() in text, (w, text)
    return body


def _accepted(r):
    assert r.status_code == 303, (r.status_code, r.data[:400])
    assert "launch=" in r.headers["Location"]
    return r


# ------------------------------------------------------------------ must reject
def test_no_kid(client, sandbox, registered):
    _refused(launch(client, sandbox, headers={}), "kid")


def test_wrong_kid(client, sandbox, registered):
    _refused(launch(client, sandbox, headers={"kid": "not-a-known-key"}), "kid", "not-a-known-key")


def test_wrong_lti_version(client, sandbox, registered):
    _refused(launch(client, sandbox, version="1.2.0"), "version")


def test_no_lti_version(client, sandbox, registered):
    _refused(launch(client, sandbox, version=DROP), "version")


def test_not_a_jwt(client, sandbox, registered):
    q = do_login(client, sandbox)
    _refused(post_launch(client, "this-is-not-a-jwt", q["state"], json_errors=True), "not a jwt")
    _refused(post_launch(client, "a.b.c", q["state"], json_errors=True), "not a jwt")


def test_infinity_is_not_json(client, sandbox, registered):
    # Python's encoder writes float("inf") as Infinity, which JSON does not allow (and a
    # PostgreSQL JSON column refuses): a signed token carrying it is a 400, not a 500.
    _refused(launch(client, sandbox, name=float("inf")), "not a jwt", "json")


@pytest.mark.parametrize("claim", ["iss", "aud", "nonce", "exp", "iat"])
def test_missing_core_claims(client, sandbox, registered, claim):
    _refused(launch(client, sandbox, **{claim: DROP}), claim)


def test_expired_token(client, sandbox, registered):
    now = int(time.time())
    _refused(launch(client, sandbox, iat=now - 3600, exp=now - 600), "expired")


def test_token_from_the_future(client, sandbox, registered):
    now = int(time.time())
    _refused(launch(client, sandbox, iat=now + 600, exp=now + 900), "future")


def test_clock_skew_is_tolerated(client, sandbox, registered):
    now = int(time.time())
    _accepted(launch(client, sandbox, iat=now + 30, exp=now - 20))


def test_missing_message_type(client, sandbox, registered):
    _refused(launch(client, sandbox, message_type=DROP), "message_type")


def test_unsupported_message_type(client, sandbox, registered):
    _refused(launch(client, sandbox, message_type="LtiSomethingElse"), "message type")


def test_missing_roles(client, sandbox, registered):
    _refused(launch(client, sandbox, roles=DROP), "roles")


def test_missing_deployment_id(client, sandbox, registered):
    _refused(launch(client, sandbox, deployment_id=DROP), "deployment_id")


def test_unknown_deployment_id(client, sandbox, registered):
    body = _refused(launch(client, sandbox, deployment_id="999"), "deployment", "999")
    assert body["status"] == 403


def test_missing_resource_link_id(client, sandbox, registered):
    _refused(launch(client, sandbox, resource_link={"title": "no id"}), "resource_link")
    _refused(launch(client, sandbox, resource_link=DROP), "resource_link")


def test_missing_sub(client, sandbox, registered):
    _refused(launch(client, sandbox, sub=DROP), "sub")
    _refused(launch(client, sandbox, sub=""), "sub")


def test_bad_signature(client, sandbox, registered):
    from jwcrypto.jwk import JWK
    other = JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None)
    q = do_login(client, sandbox)
    token = sandbox.sign(claims_for(sandbox, q["nonce"]), key_pem=other)
    _refused(post_launch(client, token, q["state"], json_errors=True), "signature")


def test_alg_none_is_refused(client, sandbox, registered):
    import base64
    import json
    q = do_login(client, sandbox)
    enc = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")  # noqa: E731
    token = enc({"alg": "none", "kid": sandbox.kid}) + "." + enc(claims_for(sandbox, q["nonce"])) + "."
    _refused(post_launch(client, token, q["state"], json_errors=True), "none")


# ------------------------------------------------------------------ beyond pylti1p3
def test_replayed_id_token_is_refused(client, sandbox, registered):
    q = do_login(client, sandbox)
    token = sandbox.sign(claims_for(sandbox, q["nonce"]))
    _accepted(post_launch(client, token, q["state"]))
    body = _refused(post_launch(client, token, q["state"], json_errors=True), "already used")
    assert body["code"] == "replayed_launch"


def test_nonce_must_be_the_one_issued_at_login(client, sandbox, registered):
    q = do_login(client, sandbox)
    _refused(post_launch(client, sandbox.sign(claims_for(sandbox, "made-up-nonce")), q["state"], json_errors=True),
             "nonce")


def test_state_must_come_from_our_login(client, sandbox, registered):
    q = do_login(client, sandbox)
    token = sandbox.sign(claims_for(sandbox, q["nonce"]))
    _refused(post_launch(client, token, "state-we-never-issued", json_errors=True), "state")
    _refused(post_launch(client, token, "", json_errors=True), "state")


def test_state_is_bound_to_the_client_of_the_login(client, services, sandbox, registered):
    from tests.lti.fixtures import register
    register(services, sandbox, client_id="second-client")
    q = do_login(client, sandbox, client_id="second-client")
    token = sandbox.sign(claims_for(sandbox, q["nonce"]))  # aud = the first client
    _refused(post_launch(client, token, q["state"], json_errors=True), "client id")


def test_aud_list_requires_azp(client, sandbox, registered):
    cid = sandbox.config.client_id
    _refused(launch(client, sandbox, aud=[cid, "someone-else"]), "azp")


def test_aud_list_with_foreign_azp_is_refused(client, sandbox, registered):
    cid = sandbox.config.client_id
    _refused(launch(client, sandbox, aud=[cid, "someone-else"], azp="someone-else"), "azp")


def test_aud_list_with_our_azp_is_accepted(client, sandbox, registered):
    cid = sandbox.config.client_id
    _accepted(launch(client, sandbox, aud=[cid, "someone-else"], azp=cid))


def test_azp_not_in_aud_is_refused(client, sandbox, registered):
    _refused(launch(client, sandbox, azp="elsewhere"), "azp")


def test_target_link_uri_required(client, sandbox, registered):
    _refused(launch(client, sandbox, target_link_uri=DROP), "target_link_uri")


def test_target_link_uri_must_be_ours(client, sandbox, registered):
    _refused(launch(client, sandbox, target_link_uri="https://evil.example/lti/launch"), "target_link_uri")


def test_unknown_issuer_at_login(client, sandbox, registered):
    r = client.get("/lti/login", query_string={"iss": "https://unknown.example", "login_hint": "x",
                                                "target_link_uri": TOOL + "/lti/launch"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 403 and "not registered" in r.get_json()["message"]


def test_unknown_client_at_login(client, sandbox, registered):
    r = do_login_raw(client, sandbox, client_id="nope")
    assert r.status_code == 403 and "nope" in r.get_json()["message"]


def test_unknown_deployment_at_login(client, sandbox, registered):
    r = do_login_raw(client, sandbox, lti_deployment_id="42")
    assert r.status_code == 403 and "42" in r.get_json()["message"]


def test_login_target_must_be_ours(client, sandbox, registered):
    r = do_login_raw(client, sandbox, target_link_uri="https://evil.example/")
    assert r.status_code == 400 and "target_link_uri" in r.get_json()["message"]


def test_unknown_issuer_in_token(client, services, sandbox, registered):
    _refused(launch(client, sandbox, iss="https://other.example"), "issuer")


def test_rejection_is_an_html_page_for_browsers(client, sandbox, registered):
    q = do_login(client, sandbox)
    r = client.post("/lti/launch", data={"id_token": "x", "state": q["state"]}, headers={"Accept": "text/html"})
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert b"not a JWT" in r.data
    assert "frame-ancestors" in r.headers["Content-Security-Policy"]


def do_login_raw(client, platform, **extra):
    params = {"iss": platform.issuer, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch",
              "client_id": platform.config.client_id}
    params.update(extra)
    return client.get("/lti/login", query_string=params, headers={"Accept": "application/json"})


# ------------------------------------------------------------------ must accept
@pytest.mark.parametrize("roles", [
    [INSTRUCTOR, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty", LEARNER],  # multiple
    ["Instructor"],  # short
    ["Learner"],  # short
    ["http://example.org/roles#Wizard"],  # unknown
    [],  # empty
])
def test_roles_variants_are_accepted(client, sandbox, registered, roles):
    _accepted(launch(client, sandbox, roles=roles))


def test_email_only(client, sandbox, registered):
    _accepted(launch(client, sandbox, name=DROP))


def test_names_only(client, sandbox, registered):
    _accepted(launch(client, sandbox, email=DROP, given_name="Pat", family_name="Example"))


def test_no_personal_data(client, services, sandbox, registered):
    _accepted(launch(client, sandbox, name=DROP, email=DROP, sub="anonymous-7"))
    from sqlalchemy import select

    from plugin.storage.models import Learner
    with services.session() as s:
        learner = s.scalars(select(Learner).where(Learner.sub == "anonymous-7")).one()
        assert learner.name is None and learner.email is None


def test_no_context(client, sandbox, registered):
    # The context claim is optional: the launch is accepted and each role's page says where it stands.
    r = _accepted(launch(client, sandbox, context=DROP))  # an instructor
    page = client.get(r.headers["Location"])
    assert page.status_code == 200 and b'id="no-course"' in page.data
    r = _accepted(launch(client, sandbox, context=DROP, roles=[LEARNER]))
    page = client.get(r.headers["Location"])
    assert page.status_code == 200 and b"All my credentials" in page.data


def test_resource_link_only(client, sandbox, registered):
    # only the required claims: no context, no names, no email, no custom, no services
    _accepted(launch(client, sandbox, context=DROP, name=DROP, email=DROP))


def test_login_by_post_and_without_client_id(client, sandbox, registered):
    q = do_login(client, sandbox, method="post", client_id=None)
    params_client = q["client_id"]
    assert params_client == sandbox.config.client_id
    _accepted(post_launch(client, sandbox.sign(claims_for(sandbox, q["nonce"])), q["state"]))


def test_a_kid_naming_a_non_rsa_platform_key_is_refused_not_a_crash(client, services, sandbox, registered):
    """A platform key set may hold EC keys too: an RS256 id_token naming one (anybody can read the
    key set and pick its kid) is a refused launch, not a server error."""
    from jwcrypto.jwk import JWK
    from plugin.storage.models import Platform
    ec_key = JWK.generate(kty="EC", crv="P-256", kid="ec-key-1").export_public(as_dict=True)
    with services.session() as s:
        platform = s.get(Platform, registered)
        platform.key_set, platform.key_set_url = {"keys": [ec_key]}, None
        s.commit()
    q = do_login(client, sandbox)
    token = sandbox.sign(claims_for(sandbox, q["nonce"]), headers={"kid": "ec-key-1"})
    _refused(post_launch(client, token, q["state"], json_errors=True), "ec-key-1")
