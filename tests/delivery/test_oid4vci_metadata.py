"""Identifiers, offers and the Token Status List bit order (plugin/delivery/oid4vci/)."""
from __future__ import annotations

import base64
import json
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest

from plugin.delivery.oid4vci import metadata as md
from plugin.delivery.oid4vci.sdjwt import token_status_entry, token_status_list_claims
from plugin.status.bitstring import Bitstring


@pytest.mark.parametrize("base,expected", [
    ("https://tool.example", "https://tool.example/.well-known/openid-credential-issuer/oid4vci/acme"),
    ("https://host.example:8443/mc/", "https://host.example:8443/.well-known/openid-credential-issuer/mc/oid4vci/acme"),
])
def test_the_well_known_name_goes_between_the_host_and_the_issuer_path(base, expected):
    assert md.well_known_url(md.credential_issuer(base, "acme")) == expected


def test_configuration_ids_round_trip_and_refuse_what_is_not_ours():
    cid = md.configuration_id("5b0c-def", "dc+sd-jwt")
    assert md.split_configuration_id(cid) == ("5b0c-def", "dc+sd-jwt")
    for bad in ("5b0c-def.mdoc", "nodot", ".ldp_vc", None, 3):
        assert md.split_configuration_id(bad) is None
    with pytest.raises(ValueError):
        md.configuration_id("x", "mso_mdoc")


def test_an_offer_by_value_reads_back_with_its_grant_and_tx_code():
    offer = md.credential_offer("https://t.example/oid4vci/acme", "d.ldp_vc", "code-1", tx_code_length=6,
                                tx_code_description="Le code reçu par courriel")
    uri = md.offer_uri(offer)
    assert uri.startswith("openid-credential-offer://?credential_offer=")
    assert json.loads(parse_qs(urlsplit(uri).query)["credential_offer"][0]) == offer
    grant = offer["grants"][md.PRE_AUTH_GRANT]
    assert grant == {"pre-authorized_code": "code-1",
                     "tx_code": {"input_mode": "numeric", "length": 6, "description": "Le code reçu par courriel"}}


def test_the_token_status_list_holds_the_same_states_as_the_w3c_state_list():
    from plugin.status.states import set_value
    bits = Bitstring(131072 * 2)
    states = {0: 1, 3: 2, 4: 3, 12345: 1, 131071: 2}  # revoked, suspended, superseded...
    for index, value in states.items():
        set_value(bits, index, value)
    claims = token_status_list_claims("https://t.example/status/x/token", bits.to_bytes(), now=1000)
    lst = claims["status_list"]["lst"]
    raw = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    read = {i: v for i in range(131072) if (v := (raw[i // 4] >> (2 * (i % 4))) & 3)}  # IETF: low bits first
    assert read == states
    assert claims["status_list"]["bits"] == 2 and claims["exp"] > claims["iat"] == 1000
    entry = {"statusPurpose": "revocation", "statusListIndex": "12345",
             "statusListCredential": "https://t.example/status/x"}
    assert token_status_entry(entry) == {"status_list": {"idx": 12345, "uri": "https://t.example/status/x/token"}}
    assert token_status_entry({**entry, "statusPurpose": "message"}) is None
