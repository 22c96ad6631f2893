import pytest
from pydantic import ValidationError

from plugin.domain.issuer import IssuerProfile, LegalIdentifier


def test_round_trip_and_normalisation():
    p = IssuerProfile(legal_name="Université Exemple", url="https://u.example", email="a@u.example",
                      country_code="fr", region="Bretagne",
                      legal_identifiers=[LegalIdentifier(scheme="SIREN", value="123456789"),
                                         LegalIdentifier(scheme="EIDAS", value="FR/123")],
                      quality_assurance="HCERES", accreditation="Ministry", logo="data:image/png;base64,iVBORw0K")
    assert p.country_code == "FR"
    assert IssuerProfile.from_json(p.to_json()) == p
    assert p.missing_elements() == []


def test_missing_elements_in_plain_words():
    assert IssuerProfile().missing_elements() == [
        "Legal name: give the awarding body's official name",
        "Country: give the country of the awarding body (two-letter code, e.g. FR)",
        "Web site: give the awarding body's web address",
    ]


@pytest.mark.parametrize("bad", [{"country_code": "FRA"}, {"url": "javascript:alert(1)"}, {"email": "nope"},
                                 {"logo": "https://x/logo.png"}, {"legal_identifiers": [{"scheme": "SSN", "value": "1"}]}])
def test_invalid_values_are_rejected(bad):
    with pytest.raises(ValidationError):
        IssuerProfile.model_validate({"legal_name": "X", **bad})


@pytest.mark.parametrize("typed, stored", [("12345678", "12345678"), (" 12345678 ", "12345678"), ("", ""),
                                           ("https://www.linkedin.com/company/12345678/admin/", "12345678"),
                                           ("linkedin.com/company/12345678/admin/dashboard/", "12345678"),
                                           ("https://fr.linkedin.com/company/987/", "987")])
def test_linkedin_organization_id_is_kept_as_digits(typed, stored):
    assert IssuerProfile(linkedin_organization_id=typed).linkedin_organization_id == stored


@pytest.mark.parametrize("bad", ["univ-lille", "https://www.linkedin.com/company/univ-lille/", "12 34", "-5",
                                 "1" * 21, "١٢٣"])
def test_linkedin_organization_id_other_than_digits_is_refused(bad):
    with pytest.raises(ValidationError, match="digits only"):
        IssuerProfile(linkedin_organization_id=bad)
