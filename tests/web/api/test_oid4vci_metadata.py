"""Issuer metadata under a base path, the awarding body's logo and colours in the display,
and the SD-JWT VC type metadata (in-process; the protocol runs over HTTP in test_oid4vci.py)."""
from __future__ import annotations

import base64

from plugin.storage.models import Issuer
from tests.engine_helpers import make_world

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


def test_metadata_under_a_base_path_with_the_logo(client, services):
    world = make_world(services)
    services.settings.base_url = "http://tool.test/mc"
    with services.session() as s:
        issuer = s.get(Issuer, world.issuer_id)
        issuer.profile = {**issuer.profile, "logo": f"data:image/png;base64,{PNG}"}
        s.commit()
    meta = client.get("/.well-known/openid-credential-issuer/mc/oid4vci/acme")
    assert meta.status_code == 200, meta.get_data(as_text=True)
    body = meta.get_json()
    assert body["credential_issuer"] == "http://tool.test/mc/oid4vci/acme"
    assert body["display"][0]["logo"] == {"uri": "http://tool.test/mc/oid4vci/acme/logo",
                                          "alt_text": "Université Démo de Lille"}
    conf = next(iter(body["credential_configurations_supported"].values()))
    assert conf["credential_metadata"]["display"][0]["background_color"] == "#003399"
    logo = client.get("/oid4vci/acme/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == base64.b64decode(PNG)
    # Without the base path, or for another tool path, there is no issuer.
    assert client.get("/.well-known/openid-credential-issuer/oid4vci/acme").status_code == 404
    assert client.get("/.well-known/openid-credential-issuer/other/oid4vci/acme").status_code == 404
    asm = client.get("/.well-known/oauth-authorization-server/mc/oid4vci/acme").get_json()
    assert asm["token_endpoint"] == "http://tool.test/mc/oid4vci/acme/token"


def test_type_metadata_extends_the_dc4eu_micro_credential(client, services):
    body = client.get("/oid4vci/vct/microcredential/1").get_json()
    assert body["vct"] == "http://tool.test/oid4vci/vct/microcredential/1"
    assert body["extends"] == "urn:eudi:micro_credential:1"
    paths = {tuple(c["path"]) for c in body["claims"]}
    assert ("credentialSubject", "achievement", "criteria", "narrative") in paths  # DC4EU's own paths
    assert ("annex_i", "learning_outcomes") in paths
    assert client.get("/oid4vci/nobody/logo").status_code == 404
