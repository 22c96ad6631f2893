"""The ``dc+sd-jwt`` copy (IETF SD-JWT VC) and the IETF Token Status List it points to.

The SD-JWT is made by ``sd-jwt``, the reference implementation of the IETF specification
(OpenWallet Foundation; it does the salts, disclosures and digests): claims

* ``vct``: our type (:data:`metadata.VCT_PATH`, type metadata served there, extending the
  DC4EU pilots' ``urn:eudi:micro_credential:1``), ``iss`` the Credential Issuer (its keys at
  ``/.well-known/jwt-vc-issuer/...``), ``iat``/``nbf``/``exp``, ``cnf.jwk`` the wallet's key;
* ``credentialSubject``: ``name``, ``birthdate`` (when known) and ``grade`` **selectively
  disclosable**; ``achievement`` with the DC4EU paths (``name``, ``description``,
  ``criteria.narrative``, ``ECTS``) and the EQF level;
* ``issuer`` and ``annex_i``: every Annex I element stated by the credential, in English;
* ``status.status_list``: the learner credential's own index on its revocation list, served
  as a 2-bit Token Status List (``/status/<list>/token``: valid, invalid = revoked,
  suspended, and 3 = superseded), so revoking or suspending the learner credential does the
  same to this copy.
"""
from __future__ import annotations

import time
import zlib
from typing import Any

from plugin.delivery.oid4vci import metadata as md
from plugin.signing.keys import b64url

SD_JWT_TYP = "dc+sd-jwt"
STATUS_LIST_TYP = "statuslist+jwt"
# Token Status List (2 bits per entry): entry i sits in byte i // 4, its value in the bits
# 2*(i % 4) and up (least significant first); the W3C state list beside each revocation list
# holds the same values (0 valid, 1 revoked = INVALID, 2 suspended = SUSPENDED, 3 superseded,
# application-specific) most significant first. Reversing the four 2-bit groups of each byte converts.
_GROUPS_REVERSED = bytes(((b >> 6) & 3) | (((b >> 4) & 3) << 2) | (((b >> 2) & 3) << 4) | ((b & 3) << 6)
                         for b in range(256))


def _epoch(value: str | None) -> int | None:
    from plugin.signing.jwt import parse_datetime
    return int(parse_datetime(value).timestamp()) if value else None


def _annex(document: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """``(Annex I elements in English, learner text, grade text)`` read from the OB credential."""
    from plugin.delivery.present import ANNEX_I, summarize
    summary = summarize(document, locale="en")
    out: dict[str, Any] = {}
    learner = grade = None
    for key, _label, _mandatory in ANNEX_I:
        d = summary.get(key)
        if d is None or not d.values:
            continue
        value: Any = d.values if key == "learning_outcomes" else d.text
        if key == "learner":
            learner = d.text
        elif key == "grade":
            grade = d.text
        else:
            out[key] = value
    return out, learner, grade


def sd_jwt_claims(document: dict[str, Any], *, issuer: str, vct: str, copy_id: str,
                  birthdate: str | None, status: dict[str, Any] | None, now: int | None = None) -> dict[str, Any]:
    """The SD-JWT VC's claims, ``SDObj`` marking what the holder may leave out."""
    from sd_jwt.common import SDObj
    subject = document.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    annex, learner, grade = _annex(document)
    cs: dict[str, Any] = {}
    name = subject.get("name") or learner
    if name:
        cs[SDObj("name")] = name
    if birthdate:
        cs[SDObj("birthdate")] = birthdate
    result = subject.get("result")
    grade = (result[0].get("value") if isinstance(result, list) and result and isinstance(result[0], dict)
             else None) or grade
    if grade:
        cs[SDObj("grade")] = grade
    ach: dict[str, Any] = {"name": achievement.get("name") or document.get("name")}
    for src, dst in (("description", "description"), ("achievementType", "achievementType"),
                     ("ectsCredits", "ECTS"), ("eqfLevel", "eqfLevel"), ("id", "id")):
        if achievement.get(src) is not None:
            ach[dst] = achievement[src]
    if isinstance(achievement.get("criteria"), dict) and achievement["criteria"].get("narrative"):
        ach["criteria"] = {"narrative": achievement["criteria"]["narrative"]}
    cs["achievement"] = ach
    issuer_obj = document.get("issuer") if isinstance(document.get("issuer"), dict) else {}
    claims: dict[str, Any] = {
        "vct": vct, "iss": issuer, "iat": int(time.time()) if now is None else now, "jti": copy_id,
        "credentialSubject": cs,
        "issuer": {k: v for k, v in (("id", issuer_obj.get("id")), ("name", issuer_obj.get("name")),
                                     ("url", issuer_obj.get("url")),
                                     ("country", (issuer_obj.get("address") or {}).get("addressCountryCode")))
                   if v},
        "annex_i": annex,
    }
    nbf, exp = _epoch(document.get("validFrom")), _epoch(document.get("validUntil"))
    if nbf:
        claims["nbf"] = nbf
    if exp:
        claims["exp"] = exp
    if status:
        claims["status"] = status
    return claims


def token_status_entry(status_entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``status`` claim naming the same index as the learner credential's W3C entry."""
    if not isinstance(status_entry, dict) or status_entry.get("statusPurpose") != "revocation":
        return None
    return {"status_list": {"idx": int(status_entry["statusListIndex"]),
                            "uri": f"{status_entry['statusListCredential']}/token"}}


def issue_sd_jwt(claims: dict[str, Any], issuer_private_key, kid: str, holder_jwk: dict[str, Any]) -> str:
    """The issued SD-JWT (``<JWT>~<disclosure>~...~``), signed EdDSA."""
    from jwcrypto import jwk
    from sd_jwt.issuer import SDJWTIssuer
    issuer = SDJWTIssuer(claims, jwk.JWK.from_pyca(issuer_private_key), jwk.JWK(**holder_jwk), sign_alg="EdDSA",
                         extra_header_parameters={"typ": SD_JWT_TYP, "kid": kid})
    return issuer.sd_jwt_issuance


def token_status_list_claims(url: str, state_bits: bytes, *, ttl: int = 300, now: int | None = None) -> dict[str, Any]:
    """A Token Status List (2 bits per entry: valid, invalid, suspended, superseded;
    zlib-compressed) from the bytes of the W3C 2-bit state list."""
    now = int(time.time()) if now is None else now
    return {"sub": url, "iat": now, "exp": now + 86400, "ttl": ttl,
            "status_list": {"bits": 2, "lst": b64url(zlib.compress(state_bits.translate(_GROUPS_REVERSED), 9))}}


def sign_sd_jwt_vc(session, services, row, holder, copy_id: str) -> str:
    """The holder-bound ``dc+sd-jwt`` of the learner credential ``row`` (database glue)."""
    from plugin.delivery.oid4vci.service import issuer_url
    from plugin.issuance import keys as issuer_keys
    from plugin.signing.keys import ED25519
    key_row = issuer_keys.active_key(session, row.issuer, ED25519)
    key = issuer_keys.load_signing_key(services, row.issuer, key_row)
    learner = row.learner
    birthdate = (learner.external_ids or {}).get("birthdate") if learner is not None else None
    status = row.document.get("credentialStatus")
    status = status[0] if isinstance(status, list) and status else status
    claims = sd_jwt_claims(row.document, issuer=issuer_url(services, row.issuer),
                           vct=md.vct_url(services.settings.base_url), copy_id=copy_id,
                           birthdate=birthdate if isinstance(birthdate, str) else None,
                           status=token_status_entry(status))
    return issue_sd_jwt(claims, key.private, key.key_id, holder.jwk)


def jwt_vc_issuer_metadata(issuer: str, keys) -> dict[str, Any]:
    """SD-JWT VC §5 JWT VC Issuer Metadata: every Ed25519 key of the awarding body (retired too)."""
    from plugin.signing.keys import ED25519
    return {"issuer": issuer, "jwks": {"keys": [{**k.public_jwk, "kid": k.key_id, "alg": "EdDSA", "use": "sig"}
                                                for k in keys if k.algorithm == ED25519]}}
