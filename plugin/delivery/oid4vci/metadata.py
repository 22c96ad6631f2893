"""Identifiers, metadata and offers of the OpenID4VCI issuer of each awarding body.

Every awarding body is its own Credential Issuer, ``<base>/oid4vci/<slug>``. OpenID4VCI 1.0
§12.2.2 puts its metadata at the well-known path *inserted between the host and the path*:
``https://host/.well-known/openid-credential-issuer/<base path>/oid4vci/<slug>``; the issuer
is also its own OAuth authorization server (RFC 8414 §3.1, same insertion rule, under
``/.well-known/oauth-authorization-server/...``), with only the pre-authorized code grant.

Credential configurations: the three formats of every enabled credential definition of
the awarding body, ``<definition public id>.<format>`` (``ldp_vc``, ``jwt_vc_json``,
``dc+sd-jwt``), each with the definition's title and the body's colours as display.
"""
from __future__ import annotations

import json
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

from plugin.signing import contexts as ctx

FORMATS = ("ldp_vc", "jwt_vc_json", "dc+sd-jwt")
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_ALGS = ["EdDSA", "ES256"]
BINDING_METHODS = ["did:jwk", "did:key"]
OB_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
OFFER_SCHEME = "openid-credential-offer://"
# The SD-JWT VC type of our micro-credentials (served at this path under the base URL); it
# extends the DC4EU pilots' micro-credential type (plugin/data/oid4vci/vctm_microcredential.json).
VCT_PATH = "/oid4vci/vct/microcredential/1"
DC4EU_VCT = "urn:eudi:micro_credential:1"
TOKEN_TTL = 300   # seconds an access token lives
NONCE_TTL = 300   # seconds a c_nonce lives


def credential_issuer(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/oid4vci/{slug}"


def well_known_url(issuer: str, name: str = "openid-credential-issuer") -> str:
    """``https://host/.well-known/<name>/<issuer path>`` (OpenID4VCI §12.2.2, RFC 8414 §3.1)."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{parts.path.rstrip('/')}"


def vct_url(base_url: str) -> str:
    return base_url.rstrip("/") + VCT_PATH


def configuration_id(definition_public_id: str, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return f"{definition_public_id}.{fmt}"


def split_configuration_id(config_id: Any) -> tuple[str, str] | None:
    """``(definition public id, format)`` or ``None`` when it is not one of ours."""
    if not isinstance(config_id, str) or "." not in config_id:
        return None
    definition, _, fmt = config_id.rpartition(".")
    return (definition, fmt) if fmt in FORMATS and definition else None


def issuer_display(name: str, logo_url: str | None, locales: Iterable[str] = ("en", "fr")) -> list[dict[str, Any]]:
    out = []
    for locale in locales:
        entry: dict[str, Any] = {"name": name, "locale": locale}
        if logo_url:
            entry["logo"] = {"uri": logo_url, "alt_text": name}
        out.append(entry)
    return out


def credential_configuration(fmt: str, *, title: str, issuer_name: str, base_url: str,
                             background: str, text: str, logo_url: str | None,
                             description: str = "") -> dict[str, Any]:
    """One entry of ``credential_configurations_supported`` (OpenID4VCI 1.0 §12.2.4, Appendix A)."""
    display: dict[str, Any] = {"name": title, "locale": "en", "background_color": background, "text_color": text}
    if description:
        display["description"] = description
    if logo_url:
        display["logo"] = {"uri": logo_url, "alt_text": issuer_name}
    conf: dict[str, Any] = {"format": fmt, "cryptographic_binding_methods_supported": list(BINDING_METHODS),
                            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}}}
    if fmt == "ldp_vc":
        conf["credential_signing_alg_values_supported"] = ["eddsa-rdfc-2022"]
        conf["credential_definition"] = {"@context": [ctx.CREDENTIALS_V2, ctx.OB_V3P0], "type": list(OB_TYPES)}
    elif fmt == "jwt_vc_json":
        conf["credential_signing_alg_values_supported"] = ["RS256"]
        conf["credential_definition"] = {"type": list(OB_TYPES)}
    else:
        conf["cryptographic_binding_methods_supported"] = ["jwk"]
        conf["credential_signing_alg_values_supported"] = ["EdDSA"]
        conf["vct"] = vct_url(base_url)
    conf["credential_metadata"] = {"display": [display]}
    if fmt == "dc+sd-jwt":
        conf["credential_metadata"]["claims"] = [
            {"path": ["credentialSubject", "achievement", "name"], "display": [{"name": "Title", "locale": "en"}]},
            {"path": ["credentialSubject", "name"], "display": [{"name": "Learner", "locale": "en"}]},
            {"path": ["credentialSubject", "birthdate"], "display": [{"name": "Date of birth", "locale": "en"}]},
            {"path": ["credentialSubject", "grade"], "display": [{"name": "Grade achieved", "locale": "en"}]},
        ]
    return conf


def issuer_metadata(issuer: str, *, display: list[dict[str, Any]],
                    configurations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.4). No ``authorization_servers``:
    the issuer is its own authorization server."""
    return {
        "credential_issuer": issuer,
        "credential_endpoint": f"{issuer}/credential",
        "nonce_endpoint": f"{issuer}/nonce",
        "display": display,
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 metadata of the issuer as authorization server: the pre-authorized code grant
    only, usable without client authentication (OpenID4VCI §12.3)."""
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "grant_types_supported": [PRE_AUTH_GRANT],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(issuer: str, config_id: str, code: str, *, tx_code_length: int | None = None,
                     tx_code_description: str = "") -> dict[str, Any]:
    """A Credential Offer (OpenID4VCI 1.0 §4.1.1) with the pre-authorized code grant."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if tx_code_length:
        grant["tx_code"] = {"input_mode": "numeric", "length": tx_code_length}
        if tx_code_description:
            grant["tx_code"]["description"] = tx_code_description[:300]
    return {"credential_issuer": issuer, "credential_configuration_ids": [config_id],
            "grants": {PRE_AUTH_GRANT: grant}}


def offer_uri(offer: dict[str, Any]) -> str:
    """``openid-credential-offer://?credential_offer=<the offer, by value>`` (§4.1)."""
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"
