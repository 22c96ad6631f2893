"""The documents the tool itself serves, found in its database (no HTTP round trip).

:func:`tool_source` answers for URLs and DIDs under the tool's own base URL: issuer
did:web documents (and their ``/issuers/<slug>/did.json`` URL), HTTPS issuer profiles,
status list credentials (and the state list beside each revocation list), issued
credentials and the extension context. The public endpoints (:mod:`plugin.web.verify.public`),
``documents.json`` (:mod:`plugin.delivery.export`) and the in-tool verifier all use it, so
they serve the same thing.
"""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.storage.models import IssuedCredential


def lookup(session: Session, services, url: str) -> dict[str, Any] | None:
    """The document the tool serves at ``url`` (or for DID ``url``), or ``None``."""
    from plugin.issuance import service as issuance
    from plugin.signing import contexts as ctx
    from plugin.signing.did import issuer_did
    from plugin.status import service as status

    base = services.settings.base_url.rstrip("/")
    if not isinstance(url, str):
        return None
    url = url.split("#", 1)[0]
    did_prefix = issuer_did(base, "")  # "did:web:<host>[:path]:issuers:"
    if url.startswith("did:web:"):
        if not url.startswith(did_prefix):
            return None
        issuer = issuance.issuer_by_slug(session, url[len(did_prefix):])
        return issuance.did_document_for(session, services, issuer) if issuer else None
    if not url.startswith(base + "/"):
        return None
    if ctx.is_extension_context_url(url) and url == ctx.extension_context_url(base):
        return json.loads(ctx.extension_context_bytes())
    rest = urlsplit(url).path[len(urlsplit(base).path):].strip("/").split("/")
    if len(rest) == 2 and rest[0] == "issuers":
        issuer = issuance.issuer_by_slug(session, rest[1])
        return issuance.issuer_profile_document(session, services, issuer) if issuer else None
    if len(rest) == 3 and rest[0] == "issuers" and rest[2] == "did.json":
        issuer = issuance.issuer_by_slug(session, rest[1])
        return issuance.did_document_for(session, services, issuer) if issuer else None
    if rest[0] == "status" and (len(rest) == 2 or (len(rest) == 3 and rest[2] == "states")):
        sl = status.list_by_public_id(session, rest[1])
        return status.list_credential(session, services, sl, "states" if len(rest) == 3 else "list") if sl else None
    if len(rest) == 2 and rest[0] == "credentials":
        row = session.scalars(select(IssuedCredential).where(IssuedCredential.public_id == rest[1])).first()
        return row.document if row else None
    return None


def tool_source(services) -> Callable[[str], dict[str, Any] | None]:
    """A resolver source answering from the database, one short transaction per lookup."""
    def source(url: str):
        with services.session() as s:
            return lookup(s, services, url)
    return source


def tool_resolver(services, documents: dict[str, Any] | None = None):
    """A :class:`~plugin.verification.verify.Resolver` for use inside the tool."""
    from plugin.signing.contexts import get_store
    from plugin.verification.verify import Resolver
    resolver = Resolver(documents, [tool_source(services)], store=get_store(services))
    resolver.edc_anchors = _edc_anchors(services)
    return resolver


def _edc_anchors(services) -> list:
    """The trust anchors an admin configured for European Digital Credential seals."""
    from plugin.issuance.edc_sealing import trust_anchors
    with services.session() as s:
        return trust_anchors(s)


def referenced_urls(document: dict[str, Any]) -> list[str]:
    """The URLs and DIDs a credential refers to that a verifier must resolve."""
    out: list[str] = []
    issuer = document.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if isinstance(issuer, str):
        out.append(issuer)
    for proof in document.get("proof") or []:
        if isinstance(proof, dict) and isinstance(proof.get("verificationMethod"), str):
            out.append(proof["verificationMethod"].split("#", 1)[0])
    for c in document.get("@context") or []:
        if isinstance(c, str):
            out.append(c)
    status = document.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status] if status else []:
        if isinstance(entry, dict) and isinstance(entry.get("statusListCredential"), str):
            out.append(entry["statusListCredential"])
        if isinstance(entry, dict):  # our revocation entries name their state list here
            refs = entry.get("statusReference")
            out += [r for r in (refs if isinstance(refs, list) else [refs]) if isinstance(r, str)]
    return list(dict.fromkeys(out))


def documents_for(session: Session, services, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """``documents.json``: every URL/DID these credentials reference that the tool serves
    (issuer DID document and profile, extension context, status lists, and what those
    documents in turn reference), mapped to the document served there."""
    from plugin.issuance import service as issuance
    from plugin.signing.did import did_web_url
    out: dict[str, Any] = {}
    pending = []
    for doc in documents:
        pending += referenced_urls(doc)
    while pending:
        url = pending.pop(0)
        if url in out:
            continue
        found = lookup(session, services, url)
        if found is None:
            continue
        out[url] = found
        if url.startswith("did:web:"):
            out.setdefault(did_web_url(url), found)
            slug = url.rsplit(":", 1)[1]
            issuer = issuance.issuer_by_slug(session, slug)
            if issuer is not None:
                pending.append(issuance.issuer_profile_url(services, issuer))
        elif isinstance(found, dict) and "proof" in found:
            pending += referenced_urls(found)
    return out
