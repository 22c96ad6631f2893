"""`microcred db upgrade` brings an empty database to head, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from plugin.cli import cli
from plugin.storage import migrate
from plugin.storage.db import make_engine
from plugin.storage.models import Base


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_db_upgrade_brings_an_empty_database_to_head_and_is_safe_twice(settings):
    url = settings.database_url
    assert revision(url) is None
    first = run("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert migrate.head_revision() in first.stdout
    assert revision(url) == migrate.head_revision()
    assert set(Base.metadata.tables) <= tables(url)

    again = run("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert revision(url) == migrate.head_revision()

    current = run("db", "current")
    assert current.exit_code == 0
    assert "up to date" in current.stdout


def test_downgrade_to_base_and_back(settings):
    url = settings.database_url
    assert run("db", "upgrade").exit_code == 0
    down = run("db", "downgrade", "--revision", "base", "--yes")
    assert down.exit_code == 0, down.output
    assert revision(url) is None
    assert not (set(Base.metadata.tables) & tables(url))
    assert "needs upgrade" in run("db", "current").stdout

    up = run("db", "upgrade")
    assert up.exit_code == 0, up.output
    assert revision(url) == migrate.head_revision()
    assert set(Base.metadata.tables) <= tables(url)


def test_downgrade_asks_before_dropping_tables(settings):
    assert run("db", "upgrade").exit_code == 0
    refused = run("db", "downgrade", "--revision", "base", input="n\n")
    assert refused.exit_code != 0
    assert revision(settings.database_url) == migrate.head_revision()


def test_unknown_revision_is_one_line_error(settings):
    result = run("db", "upgrade", "--revision", "nonesuch")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nonesuch" in result.stderr
    assert "Traceback" not in result.output


def test_models_and_migrations_agree(settings):
    """Autogenerate finds nothing to do: nobody changed a model without regenerating the migration."""
    url = settings.database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models differ from the migration; run python -m plugin.storage.regen_initial: {diff}"


def test_status_lists_migration_keeps_existing_credentials_and_lists(services):
    """0002 (status_lists) down to 0001 and up again on a database holding credentials of both
    kinds: every credential still verifies, and a list whose counter was lost takes no more."""
    from sqlalchemy import select

    from plugin.issuance import service as issuance
    from plugin.storage.models import IssuedCredential, StatusList
    from plugin.verification.resolver import tool_resolver
    from plugin.verification.verify import verify
    from tests.engine_helpers import add_learner, make_world
    from tests.status.legacy import award_legacy

    world = make_world(services)
    with services.session() as s:
        learner, ev = add_learner(s, world.definition_id, sub="old", email="old@example.org")
        legacy = award_legacy(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]
        issuance.suspend(s, legacy, "check", "admin")
        modern = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id)[0]
        ids = (legacy.id, modern.id)
    url = services.settings.database_url
    services.engine.dispose()
    migrate.downgrade(url, "0001_initial")
    assert revision(url) == "0001_initial"
    migrate.upgrade(url)
    assert revision(url) == migrate.head_revision()
    with services.session() as s:
        lists = s.scalars(select(StatusList).order_by(StatusList.id)).all()
        assert [(sl.purpose, sl.shuffle_key, sl.next_position) for sl in lists] == \
            [("message", None, 0), ("revocation", None, 0)]
        documents = [s.get(IssuedCredential, i).document for i in ids]
        learner, ev = add_learner(s, world.definition_id, sub="new", email="new@example.org")
        fresh = issuance.award(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]
        documents.append(fresh.document)
        newest = s.scalars(select(StatusList).order_by(StatusList.id.desc())).first()
        assert newest.sequence == 2 and newest.shuffle_key
    resolver = tool_resolver(services)
    assert [verify(d, resolver).status for d in documents] == ["suspended", "valid", "valid"]
