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
    from plugin.storage import migrate
    from plugin.services import build_services
    settings = ctx.settings()
    migrate.upgrade(settings.database_url, revision)
    build_services(settings, migrate_schema=False, check_schema=revision == "head")  # checks the KEK too
    click.echo(f"database at revision {revision if revision != 'head' else migrate.head_revision()}")


@db.command()
@pass_ctx
def current(ctx):
    """Print the schema revision of the database and whether it is up to date."""
    from plugin.storage import migrate
    from plugin.storage.db import make_engine
    engine = make_engine(ctx.settings().database_url)
    rev = migrate.current_revision(engine)
    head = migrate.head_revision()
    click.echo(f"{rev or 'empty'} ({'up to date' if rev == head else 'needs upgrade to ' + head})")
