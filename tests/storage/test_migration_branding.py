"""Migration ``branding`` (0006_branding): a new table and a column on a database that has credentials."""
from __future__ import annotations

from sqlalchemy import inspect, select, text

from plugin.storage import migrate
from plugin.storage.db import make_engine


def test_upgrade_keeps_every_credential_showing_its_name_and_downgrade_drops_only_what_it_added(settings, services):
    from plugin.issuance import service as issuance
    from plugin.storage.models import IssuedCredential
    from tests.engine_helpers import make_world
    world = make_world(services)
    with services.session() as s:
        issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                       evidence_id=world.evidence_id, display_name="Ada King", actor="test")
    url = settings.database_url
    engine = make_engine(url)
    try:
        migrate.downgrade(url, "leases")
        assert "issuer_branding" not in inspect(engine).get_table_names()
        assert "public_name" not in {c["name"] for c in inspect(engine).get_columns("issued_credential")}
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT public_name, display_name FROM issued_credential")).all()
        assert [(bool(a), b) for a, b in rows] == [(True, "Ada King")]
        assert "issuer_branding" in inspect(engine).get_table_names()
        with services.session() as s:
            assert s.scalars(select(IssuedCredential.public_name)).one() is True
    finally:
        engine.dispose()
