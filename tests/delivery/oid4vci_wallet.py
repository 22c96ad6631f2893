"""A wallet written from OpenID4VCI 1.0 (final) for the tests: it reads a Credential Offer,
discovers the issuer's metadata (well-known path inserted before the issuer's path),
trades the pre-authorized code for a token, gets a ``c_nonce``, signs a key proof
(``openid4vci-proof+jwt``) with jwcrypto and asks for the credential. Nothing here comes
from the tool's code: only ``requests``, ``jwcrypto`` and the specification.

Every step is its own method so tests can replay or bend one of them.
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import base58
import requests
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_offer(uri: str) -> dict[str, Any]:
    parts = urlsplit(uri)
    assert parts.scheme == "openid-credential-offer", uri
    query = parse_qs(parts.query)
    if "credential_offer_uri" in query:
        return requests.get(query["credential_offer_uri"][0], timeout=10).json()
    return json.loads(query["credential_offer"][0])


def well_known(issuer: str, name: str) -> str:
    p = urlsplit(issuer)
    return f"{p.scheme}://{p.netloc}/.well-known/{name}{p.path.rstrip('/')}"


@dataclass
class Wallet:
    """``binding``: ``jwk`` (key in the header), ``did:jwk`` or ``did:key`` (a ``kid``)."""
    binding: str = "jwk"
    alg: str = "EdDSA"
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.key = jwk.JWK.generate(kty="OKP", crv="Ed25519") if self.alg == "EdDSA" else \
            jwk.JWK.generate(kty="EC", crv="P-256")
        self.public = json.loads(self.key.export_public())
        members = ("crv", "kty", "x") if self.alg == "EdDSA" else ("crv", "kty", "x", "y")
        self.public = {k: self.public[k] for k in members}
        self.did_jwk = "did:jwk:" + b64url(json.dumps(self.public, separators=(",", ":")).encode())

    # ----------------------------------------------------------------- identifiers
    @property
    def did(self) -> str:
        if self.binding == "did:key":
            if self.alg == "EdDSA":
                raw = base64.urlsafe_b64decode(self.public["x"] + "==")
                return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode()
            x = base64.urlsafe_b64decode(self.public["x"] + "==")
            y = base64.urlsafe_b64decode(self.public["y"] + "==")
            compressed = bytes([2 + (y[-1] & 1)]) + x
            return "did:key:z" + base58.b58encode(b"\x80\x24" + compressed).decode()
        return self.did_jwk

    def header(self) -> dict[str, Any]:
        h: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": self.alg}
        if self.binding == "jwk":
            h["jwk"] = self.public
        elif self.binding == "did:jwk":
            h["kid"] = self.did_jwk + "#0"
        else:
            mb = self.did[len("did:key:"):]
            h["kid"] = f"{self.did}#{mb}"
        return h

    # ----------------------------------------------------------------- protocol steps
    def discover(self, offer: dict[str, Any]) -> tuple[dict, dict]:
        issuer = offer["credential_issuer"]
        meta = self.http.get(well_known(issuer, "openid-credential-issuer"), timeout=10)
        assert meta.status_code == 200, meta.text
        metadata = meta.json()
        assert metadata["credential_issuer"] == issuer
        server = metadata.get("authorization_servers", [issuer])[0]
        as_meta = self.http.get(well_known(server, "oauth-authorization-server"), timeout=10).json()
        return metadata, as_meta

    def token(self, as_meta: dict, code: str, tx_code: str | None = None) -> requests.Response:
        form = {"grant_type": PRE_AUTH, "pre-authorized_code": code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.http.post(as_meta["token_endpoint"], data=form, timeout=10)

    def nonce(self, metadata: dict) -> str:
        resp = self.http.post(metadata["nonce_endpoint"], timeout=10)
        assert resp.status_code == 200 and resp.headers.get("Cache-Control") == "no-store", resp.text
        return resp.json()["c_nonce"]

    def proof(self, *, aud: str, nonce: str | None, iat: int | None = None, header: dict | None = None) -> str:
        claims: dict[str, Any] = {"aud": aud, "iat": int(time.time()) if iat is None else iat}
        if nonce is not None:
            claims["nonce"] = nonce
        token = jws.JWS(json.dumps(claims).encode())
        token.add_signature(self.key, alg=self.alg, protected=json_encode(header or self.header()))
        return token.serialize(compact=True)

    def credential(self, metadata: dict, access_token: str, config_id: str, proof: str | None) -> requests.Response:
        body: dict[str, Any] = {"credential_configuration_id": config_id}
        if proof is not None:
            body["proofs"] = {"jwt": [proof]}
        return self.http.post(metadata["credential_endpoint"], json=body, timeout=30,
                              headers={"Authorization": f"Bearer {access_token}"})

    def receive(self, uri: str, tx_code: str | None = None) -> Any:
        """The whole flow from an offer URI; returns the credential (JSON object or compact string)."""
        offer = parse_offer(uri)
        metadata, as_meta = self.discover(offer)
        code = offer["grants"][PRE_AUTH]["pre-authorized_code"]
        tok = self.token(as_meta, code, tx_code)
        assert tok.status_code == 200, tok.text
        config_id = offer["credential_configuration_ids"][0]
        assert config_id in metadata["credential_configurations_supported"]
        proof = self.proof(aud=metadata["credential_issuer"], nonce=self.nonce(metadata))
        resp = self.credential(metadata, tok.json()["access_token"], config_id, proof)
        assert resp.status_code == 200, resp.text
        return resp.json()["credentials"][0]["credential"]
