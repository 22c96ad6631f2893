"""What the public issuer page shows: identity, legal identifiers, keys and status lists."""
from __future__ import annotations

from sqlalchemy import select

from plugin.storage.models import Issuer, StatusList
from plugin.web.context import db, services


def _did(issuer: Issuer) -> tuple[str, str | None]:
    try:
        from plugin.signing.did import issuer_did, issuer_did_document_url
    except ImportError:  # engine not merged yet: the profile's own id
        return str(issuer.profile.get("id") or issuer.slug), None
    base = services().settings.base_url
    return issuer_did(base, issuer.slug), issuer_did_document_url(base, issuer.slug)


def _status_url(sl: StatusList) -> str:
    from plugin.status.service import status_list_url
    return status_list_url(services().settings.base_url, sl)


def _country_name(code: str) -> str | None:
    """The country in the request's language, from the EU country table (vocabulary data)."""
    from flask_babel import get_locale

    from plugin.domain.vocab import country_uri
    from plugin.domain.vocab_labels import label
    uri = country_uri(code)
    return label(uri, str(get_locale() or "en")) if uri else None


def issuer_page_data(issuer: Issuer) -> dict:
    profile = issuer.profile or {}
    did, did_url = _did(issuer)
    address = profile.get("address") if isinstance(profile.get("address"), dict) else {}
    country = profile.get("country") or profile.get("country_name") or address.get("addressCountry") or ""
    code = profile.get("country_code") or address.get("addressCountryCode") or ""
    if code and code not in str(country):
        country = f"{country} ({code})" if country else code
    named = _country_name(code) if code and not profile.get("country") else None
    identifiers = []
    for o in profile.get("legal_identifiers") or profile.get("otherIdentifier") or []:
        if isinstance(o, dict):
            kind = o.get("identifierType") or o.get("scheme") or o.get("type") or "identifier"
            value = o.get("identifier") or o.get("value")
            if value:
                identifiers.append((str(kind), str(value)))
    lists = db().scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)
                         .order_by(StatusList.purpose, StatusList.sequence)).all()
    return {
        "id": did,
        "name": issuer.name,
        "country": country,
        "country_name": named or country,
        "url": profile.get("url") or profile.get("website"),
        "identifiers": identifiers,
        "did_document_url": did_url,
        "keys": [{"id": f"{did}#{k.key_id}", "algorithm": k.algorithm,
                  "created": k.created_at.date().isoformat(),
                  "retired": k.retired_at.date().isoformat() if k.retired_at else None}
                 for k in issuer.keys],
        "status_lists": [{"purpose": s.purpose, "sequence": s.sequence, "url": _status_url(s),
                          "updated": s.updated_at.strftime("%Y-%m-%d %H:%M UTC")} for s in lists],
    }
