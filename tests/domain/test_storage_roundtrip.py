"""Definitions and issuer profiles survive the database's JSON columns unchanged (SQLite and PostgreSQL)."""
from sqlalchemy import select

from plugin.domain.definition import DefinitionData
from plugin.domain.issuer import IssuerProfile, LegalIdentifier
from plugin.storage.models import Course, CredentialDefinition, DefinitionVersion, Issuer
from tests.domain.test_definition import full


def test_definition_and_profile_round_trip_through_the_database(services):
    profile = IssuerProfile(legal_name="Université Exemple", url="https://u.example", country_code="FR",
                            region="Île-de-France", legal_identifiers=[LegalIdentifier(scheme="VAT", value="FR123")],
                            quality_assurance="HCERES", accreditation="Ministry")
    definition = full()
    with services.session() as s:
        issuer = Issuer(slug="uni", name=profile.legal_name, profile=profile.to_json())
        course = Course(platform_issuer="https://lms.example", context_id="c1", title="Data")
        s.add_all([issuer, course])
        s.flush()
        d = CredentialDefinition(course_id=course.id, issuer_id=issuer.id, current_version=1)
        s.add(d)
        s.flush()
        s.add(DefinitionVersion(definition_id=d.id, version=1, data=definition.to_json()))
    with services.session() as s:
        stored = s.scalars(select(DefinitionVersion)).one()
        assert DefinitionData.from_json(stored.data) == definition
        assert IssuerProfile.from_json(s.scalars(select(Issuer)).one().profile) == profile
