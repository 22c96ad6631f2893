import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from plugin.delivery.share import linkedin_add_url, wallet_links


def test_linkedin_link_carries_the_certification_fields():
    url = linkedin_add_url(name="Données ouvertes & société", organization_name="Université d'Exemple",
                           issued=datetime(2026, 3, 14, tzinfo=timezone.utc),
                           expires=datetime(2031, 3, 14, tzinfo=timezone.utc),
                           cert_url="https://tool.test/verify/abc", cert_id="urn:uuid:1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"startTask": "CERTIFICATION_NAME", "name": "Données ouvertes & société",
                 "organizationName": "Université d'Exemple", "issueYear": "2026", "issueMonth": "3",
                 "expirationYear": "2031", "expirationMonth": "3",
                 "certUrl": "https://tool.test/verify/abc", "certId": "urn:uuid:1"}


def test_linkedin_link_without_expiry_has_no_expiration_fields():
    url = linkedin_add_url(name="x", organization_name="y", issued=None, expires=None,
                           cert_url="https://t/v", cert_id="1")
    assert "expiration" not in url and "issueYear" not in url


def test_wallet_links_hold_the_dcc_request():
    links = wallet_links(origin="https://tool.test", exchange_url="https://tool.test/api/exchanges/e1")
    for kind, prefix in (("universal", "https://lcw.app/request?"), ("scheme", "dccrequest://request?")):
        assert links[kind].startswith(prefix)
        request = json.loads(parse_qs(urlsplit(links[kind]).query)["request"][0])
        assert request == {"credentialRequestOrigin": "https://tool.test",
                           "protocols": {"vcapi": "https://tool.test/api/exchanges/e1"}}


def test_linkedin_link_names_the_organization_page_when_its_id_is_known():
    """With organizationId LinkedIn shows the organisation's page (logo, link) on the certification."""
    url = linkedin_add_url(name="Données ouvertes", organization_name="Université d'Exemple",
                           issued=datetime(2026, 3, 14, tzinfo=timezone.utc), expires=None,
                           cert_url="https://tool.test/verify/abc", cert_id="abc", organization_id="12345678")
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert q["organizationId"] == "12345678" and "organizationName" not in q
    assert q["name"] == "Données ouvertes" and q["certUrl"] == "https://tool.test/verify/abc"
    assert "organizationId=12345678&issueYear=2026" in url
