"""OpenID for Verifiable Credential Issuance 1.0 (final, September 2025): the pre-authorized
code flow that hands a learner's credential to an EU wallet. Pure protocol code, no Flask
(the web adapter is :mod:`plugin.web.api.oid4vci`).

* :mod:`.metadata`: identifiers, issuer and authorization-server metadata, offers;
* :mod:`.proof`: the wallet's key proof (``openid4vci-proof+jwt``), ``did:jwk``/``did:key``;
* :mod:`.formats`: the holder-bound copy in ``ldp_vc``, ``jwt_vc_json`` and ``dc+sd-jwt``;
* :mod:`.service`: offers, pre-authorized codes, access tokens, nonces, issuance (database).
"""
from __future__ import annotations


class Oid4vciError(Exception):
    """An OpenID4VCI error response: ``error`` code (as the specification names it), a
    sentence for people (``error_description``) and the HTTP status. ``keep``: the database
    changes made before the error (a wrong transaction code counted) must be committed."""

    def __init__(self, error: str, description: str, status: int = 400, *, keep: bool = False):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.keep = keep

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}
