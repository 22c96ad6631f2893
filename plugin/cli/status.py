"""``microcred status lists|migrate``: the issuers' status lists, and re-issuing credentials
that still carry the legacy 2-bit entry (see docs/engine.md, "Status")."""
from __future__ import annotations

import click
from sqlalchemy import func, select

from plugin.cli import pass_ctx


@click.group(name="status")
def status():
    """Status lists: what each issuer publishes, and moving old credentials to revocation lists."""


@status.command(name="lists")
@click.option("--issuer", "issuer_slug", help="Only this issuer (its slug).")
@pass_ctx
def lists(ctx, issuer_slug):
    """Every status list: issuer, kind, entries used, revoked, and its URL."""
    from plugin.status.service import status_list_url
    from plugin.storage.models import IssuedCredential, Issuer, StatusList, StatusListSlot
    services = ctx.services()
    with services.session() as s:
        query = (select(Issuer.slug, StatusList, func.count(StatusListSlot.id),
                        func.count(IssuedCredential.id).filter(IssuedCredential.status == "revoked"),
                        func.count(IssuedCredential.id).filter(IssuedCredential.status.in_(("active", "suspended"))))
                 .join(Issuer, Issuer.id == StatusList.issuer_id)
                 .outerjoin(StatusListSlot, StatusListSlot.status_list_id == StatusList.id)
                 .outerjoin(IssuedCredential, IssuedCredential.id == StatusListSlot.credential_id)
                 .group_by(Issuer.slug, StatusList.id).order_by(Issuer.slug, StatusList.purpose, StatusList.sequence))
        if issuer_slug:
            if s.scalars(select(Issuer).where(Issuer.slug == issuer_slug)).first() is None:
                raise click.ClickException(f"no issuer {issuer_slug!r} (see `microcred issuer list`)")
            query = query.where(Issuer.slug == issuer_slug)
        rows = s.execute(query).all()
        if not rows:
            click.echo("no status list yet (one is opened at the first issuance)")
        for slug, sl, used, revoked, current in rows:
            kind = "revocation" if sl.purpose == "revocation" else f"{sl.purpose} (legacy, 2 bits)"
            click.echo(f"{slug}  #{sl.sequence} {kind}: {used}/{sl.size} used, {revoked} revoked, "
                       f"{current} current  {status_list_url(services.settings.base_url, sl)}")


@status.command(name="migrate")
@click.option("--issuer", "issuer_slug", help="Only this issuer's credentials (its slug).")
@click.option("--dry-run", is_flag=True, help="Say what would be re-issued; change nothing.")
@pass_ctx
def migrate(ctx, issuer_slug, dry_run):
    """Re-issue current credentials that carry the legacy 2-bit status entry.

    Each one is superseded by a credential with the same content and a one-bit revocation
    entry that every wallet and verifier reads; suspended ones stay suspended. Safe to run
    again: only what is left is migrated.
    """
    from plugin.issuance.migrate import migrate as run
    from plugin.issuance.service import IssuanceError
    try:
        report = run(ctx.services(), issuer_slug=issuer_slug, dry_run=dry_run)
    except IssuanceError as exc:
        raise click.ClickException(str(exc)) from None
    if not report.total:
        click.echo("nothing to migrate: every current credential has a revocation entry")
        return
    verb = "would re-issue" if dry_run else "re-issued"
    for slug, counts in sorted(report.by_issuer.items()):
        click.echo(f"{slug}: {verb} {sum(counts.values())} credential(s) "
                   f"({counts.get('active', 0)} active, {counts.get('suspended', 0)} suspended)")
    if dry_run:
        click.echo("dry run: nothing changed")
    else:
        click.echo(f"{report.total} credential(s) re-issued; the old ones are marked superseded "
                   "and their lists stay published")
