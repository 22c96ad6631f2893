"""Links a learner uses to share or store a credential: LinkedIn "Add to profile" and
"post", e-mail, an HTML snippet to embed the badge on a web page, and the Learner
Credential Wallet (DCC) request deep links. Pure code, no Flask."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote, urlencode

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"
LCW_UNIVERSAL = "https://lcw.app/request"
LCW_SCHEME = "dccrequest://request"


def linkedin_add_url(*, name: str, organization_name: str, issued: datetime | None,
                     expires: datetime | None, cert_url: str, cert_id: str,
                     organization_id: str | None = None) -> str:
    """LinkedIn's documented "Add to profile" link for a certification.

    ``organizationId`` (a LinkedIn company id) wins over ``organizationName`` when known.
    """
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        params.append(("organizationId", organization_id))
    else:
        params.append(("organizationName", organization_name))
    if issued:
        params += [("issueYear", str(issued.year)), ("issueMonth", str(issued.month))]
    if expires:
        params += [("expirationYear", str(expires.year)), ("expirationMonth", str(expires.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD}?{urlencode(params, quote_via=quote)}"


def wallet_request(*, origin: str, exchange_url: str) -> dict:
    """The DCC "credential request" a wallet opens: where to start a VC-API exchange."""
    return {"credentialRequestOrigin": origin, "protocols": {"vcapi": exchange_url}}


def wallet_links(*, origin: str, exchange_url: str) -> dict[str, str]:
    """``{"universal": https://lcw.app/request?request=..., "scheme": dccrequest://request?...}``.

    The universal link opens the Learner Credential Wallet on a phone (or its store page);
    the custom scheme is what the QR code carries for wallets that register it.
    """
    request = json.dumps(wallet_request(origin=origin, exchange_url=exchange_url), separators=(",", ":"))
    query = urlencode({"request": request}, quote_via=quote)
    return {"universal": f"{LCW_UNIVERSAL}?{query}", "scheme": f"{LCW_SCHEME}?{query}"}


def linkedin_post_url(url: str) -> str:
    """LinkedIn's share dialog for a post linking ``url`` (its preview reads our og: tags)."""
    return f"{LINKEDIN_SHARE}?{urlencode({'url': url}, quote_via=quote)}"


def email_url(*, subject: str, body: str) -> str:
    """A ``mailto:`` link with a subject and body, for the learner's own mail program."""
    return "mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote)


def embed_snippet(*, verify_url: str, image_url: str, title: str, issuer: str, alt: str) -> str:
    """HTML to paste in a web page or a blog: the badge, linking to the verification page."""
    from html import escape
    return (f'<a href="{escape(verify_url)}" title="{escape(title)} · {escape(issuer)}">'
            f'<img src="{escape(image_url)}" alt="{escape(alt)}" width="150" height="150" '
            f'style="border:0;max-width:100%;height:auto"></a>')
