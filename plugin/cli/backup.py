"""``microcred backup`` / ``microcred restore``: the database with its sealed keys, never the KEK."""
from __future__ import annotations

from pathlib import Path

import click

from plugin.cli import pass_ctx


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup(ctx, file: Path):
    """Write the whole database to FILE (a new ZIP file), secrets sealed as stored.

    The key-encryption key is NOT in the file: keep it elsewhere (docs/deployment.md).
    """
    from plugin.storage.backup import BackupError, backup as run_backup
    from plugin.storage.db import make_engine
    engine = make_engine(ctx.settings().database_url)
    try:
        summary = run_backup(engine, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror}") from None
    finally:
        engine.dispose()
    keks = ", ".join(summary.kek_ids) or "none yet"
    click.echo(f"backed up {summary.rows} rows of {len(summary.tables)} tables (schema {summary.revision}) to {file}")
    click.echo(f"its secrets are sealed with key-encryption key id {keks}: the KEK is not in the file; "
               "keep it apart from the backup", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything in a database that is not empty.")
@pass_ctx
def restore(ctx, file: Path, force: bool):
    """Restore FILE (made by `microcred backup`) into the database, then upgrade its schema.

    The configured MICROCRED_KEK must be the one that sealed the backup's secrets: it is
    checked before anything is written. A database that holds data is refused without --force.
    """
    from plugin.storage.backup import BackupError, restore as run_restore
    from plugin.storage.db import make_engine
    settings = ctx.settings()
    engine = make_engine(settings.database_url)
    try:
        summary = run_restore(engine, settings.database_url, file, settings.kek, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    upgraded = f", upgraded to {summary.upgraded_to}" if summary.upgraded_to else ""
    click.echo(f"restored {summary.rows} rows of {len(summary.tables)} tables from {file} "
               f"(schema {summary.revision}{upgraded})")
