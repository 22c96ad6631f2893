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


def test_the_token_status_list_sets_the_same_index_as_the_bitstring_list():
    bits = Bitstring(131072)
    for index in (0, 7, 8, 12345, 131071):
        bits.set(index)
    claims = token_status_list_claims("https://t.example/status/x/token", bits.to_bytes(), now=1000)
    lst = claims["status_list"]["lst"]
    raw = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    on = [i for i in range(131072) if (raw[i // 8] >> (i % 8)) & 1]  # IETF: least significant bit first
    assert on == [0, 7, 8, 12345, 131071]
    assert claims["status_list"]["bits"] == 1 and claims["exp"] > claims["iat"] == 1000
    entry = {"statusPurpose": "revocation", "statusListIndex": "12345",
             "statusListCredential": "https://t.example/status/x"}
    assert token_status_entry(entry) == {"status_list": {"idx": 12345, "uri": "https://t.example/status/x/token"}}
    assert token_status_entry({**entry, "statusPurpose": "message"}) is None
