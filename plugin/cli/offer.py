"""``microcred offer ID [--format ...] [--tx-code]``: an OpenID4VCI offer URI for support staff
(paste it into a wallet, or make a QR code of it) — see docs/learner-verifier.md."""
from __future__ import annotations

import click

from plugin.cli import pass_ctx

FORMATS = ("ldp_vc", "jwt_vc_json", "dc+sd-jwt")


@click.command(name="offer")
@click.argument("credential")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="ldp_vc", show_default=True,
              help="The credential format the wallet receives.")
@click.option("--tx-code", is_flag=True, help="Require a 6-digit transaction code (printed on stderr).")
@pass_ctx
def offer(ctx, credential, fmt, tx_code):
    """Print a single-use OpenID4VCI credential offer URI for CREDENTIAL (public id, VC id or row id).

    The offer expires after MICROCRED_OID4VCI_OFFER_TTL (10 minutes at most) and is used up by
    the first wallet that redeems it."""
    from plugin.delivery.oid4vci.service import create_offer
    from plugin.issuance.service import credential_by_any_id
    services = ctx.services()
    with services.session() as s:
        row = credential_by_any_id(s, credential)
        if row is None:
            raise click.ClickException(f"no credential {credential!r}")
        try:
            created = create_offer(s, services, row, fmt, tx_code=tx_code, actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        expires = created.offer.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        s.commit()
    click.echo(created.uri)
    click.echo(f"expires {expires}; single use", err=True)
    if created.tx_code:
        click.echo(f"transaction code: {created.tx_code}", err=True)
