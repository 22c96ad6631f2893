"""``microcred db``: database schema migrations."""
from __future__ import annotations

import click

from plugin.cli import pass_ctx


@click.group()
def db():
    """Manage the database schema (DATABASE_URL, or the embedded SQLite file)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def upgrade(ctx, revision):
    """Apply the migrations up to REVISION (safe to run again)."""
    from plugin.services import build_services
    from plugin.storage import migrate
    from plugin.storage.secrets import SecretBox
    settings = ctx.settings()
    # A malformed KEK is refused before anything is written.
    SecretBox(settings.kek)
    migrate.upgrade(settings.database_url, revision)
    # Checks the KEK against the database (and stores the first canary).
    build_services(settings, migrate_schema=False, check_schema=revision == "head").engine.dispose()
    click.echo(f"database at revision {revision if revision != 'head' else migrate.head_revision()}")


@db.command()
@click.option("--revision", required=True, help="Target revision (`base` removes every table).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def downgrade(ctx, revision, yes):
    """Undo migrations down to REVISION (data in dropped tables is lost)."""
    from plugin.storage import migrate
    settings = ctx.settings()
    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data in dropped tables is lost", abort=True)
    migrate.downgrade(settings.database_url, revision)
    click.echo(f"database at revision {revision}")


@db.command()
@pass_ctx
def current(ctx):
    """Print the schema revision of the database and whether it is up to date."""
    from plugin.storage import migrate
    from plugin.storage.db import make_engine
    engine = make_engine(ctx.settings().database_url)
    try:
        rev = migrate.current_revision(engine)
    finally:
        engine.dispose()
    head = migrate.head_revision()
    click.echo(f"{rev or 'empty'} ({'up to date' if rev == head else 'needs upgrade to ' + head})")
