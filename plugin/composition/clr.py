"""Compose a learner's record as a 1EdTech CLR 2.0 ``ClrCredential`` (no Flask, no database).

The record wraps every credential the learner holds, each **as signed** (its own proof kept),
in ``credentialSubject.verifiableCredential``; lists their achievements in
``credentialSubject.achievement``; and relates a pathway credential's achievement to its parts
with ``association`` entries: for each part, ``isPartOf`` (the part is part of the pathway
credential) and ``isChildOf`` (the same edge, as the hierarchy CLR displayers draw). The
record is then signed like any credential (Data Integrity ``eddsa-rdfc-2022``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from plugin.composition.credential import LearnerIdentity, _identifiers, iso, subject_id
from plugin.signing import contexts as ctx

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_SCHEMA_URL = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
ASSOCIATION_TYPES = ("isPartOf", "isChildOf")


def achievement_of(credential: dict[str, Any]) -> dict[str, Any] | None:
    achievement = (credential.get("credentialSubject") or {}).get("achievement")
    return achievement if isinstance(achievement, dict) and achievement.get("id") else None


def associations(pathways: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """``(pathway achievement id, [part achievement ids])`` -> CLR ``Association`` entries."""
    out = []
    for target, parts in pathways:
        for part in parts:
            for kind in ASSOCIATION_TYPES:
                out.append({"type": "Association", "associationType": kind, "sourceId": part, "targetId": target})
    return out


def compose_clr(issuer: dict[str, Any], learner: LearnerIdentity, credentials: list[dict[str, Any]], *,
                record_id: str, issued: datetime, name: str, base_url: str,
                pathways: list[tuple[str, list[str]]] | None = None, partial: bool = False) -> dict[str, Any]:
    """The unsigned ``ClrCredential`` of ``credentials`` (signed OB 3.0 documents).

    ``issuer``: the publisher's OB 3.0 ``Profile`` (its ``id`` is the DID that signs);
    ``pathways``: for each pathway credential held, its achievement id and its parts' ones."""
    achievements, seen = [], set()
    for cred in credentials:
        a = achievement_of(cred)
        if a is not None and a["id"] not in seen:
            seen.add(a["id"])
            achievements.append(a)
    subject: dict[str, Any] = {"id": subject_id(learner, record_id), "type": ["ClrSubject"]}
    subject["identifier"] = _identifiers(learner)
    if achievements:
        subject["achievement"] = achievements
    subject["verifiableCredential"] = list(credentials)
    links = associations(pathways or [])
    if links:
        subject["association"] = links
    record: dict[str, Any] = {
        # our extension context too: the achievements listed carry every Annex I element
        "@context": [ctx.CREDENTIALS_V2, CLR_CONTEXT, ctx.OB_V3P0, ctx.OB_EXTENSIONS,
                     ctx.extension_context_url(base_url)],
        "id": record_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": name,
        "description": f"Comprehensive Learner Record: {len(credentials)} credential(s).",
        "issuer": issuer,
        "validFrom": iso(issued),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if partial:
        record["partial"] = True
    return record


def is_clr(document: Any) -> bool:
    types = document.get("type") if isinstance(document, dict) else None
    types = types if isinstance(types, list) else [types]
    return "ClrCredential" in types
