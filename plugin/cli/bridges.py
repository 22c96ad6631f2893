"""``microcred bridge``: where the tool learns who passed (Open edX, Moodle), per platform."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from plugin.cli import pass_ctx


@click.group()
def bridge():
    """Configure and test the platform bridges (pass evidence sources)."""


def _registrations(session, issuer, client_id):
    from plugin.storage.models import Platform
    q = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        q = q.where(Platform.client_id == client_id)
    found = list(session.scalars(q.order_by(Platform.id)))
    if not found:
        what = f"{issuer} (client id {client_id})" if client_id else issuer
        raise click.ClickException(f"no platform registration for {what}: register it first (microcred platform add)")
    return found


@bridge.command("set")
@click.option("--issuer", required=True, help="The platform's issuer (iss of its launches).")
@click.option("--client-id", help="One registration only (default: every registration of the issuer).")
@click.option("--openedx-webhook-jwks-url", help="URL of the Open edX plugin's public keys (…/microcred/webhook-jwks.json).")
@click.option("--openedx-webhook-key-file", type=click.File("r"), help="The webhook's public key (PEM, JWK or JWKS).")
@click.option("--openedx-api-url", help="Open edX LMS root URL for the grades API.")
@click.option("--openedx-client-id", help="OAuth2 client id (client credentials) for the grades API.")
@click.option("--openedx-client-secret", help="OAuth2 client secret (stored encrypted).")
@click.option("--moodle-url", help="Moodle site root URL.")
@click.option("--moodle-token", help="Moodle web-service token (stored encrypted).")
@click.option("--moodle-names/--no-moodle-names", default=None,
              help="Also take learners' names from Moodle web services (off by default: Moodle's tool privacy "
                   "setting may withhold them from launches; opt in only if the site may share them).")
@click.option("--moodle-webhook-jwks-url",
              help="URL of the local_microcred plugin's public keys ({wwwroot}/local/microcred/jwks.php).")
@click.option("--moodle-webhook-key-file", type=click.File("r"),
              help="The local_microcred plugin's public key (PEM, JWK or JWKS).")
@click.option("--sync-every", metavar="PERIOD",
              help="Scheduled catch-up of this platform's courses: 15m, 1h, 1d…, 'off', or 'default' "
                   "(MICROCRED_SYNC_EVERY).")
@pass_ctx
def set_(ctx, issuer, client_id, openedx_webhook_jwks_url, openedx_webhook_key_file, openedx_api_url,
         openedx_client_id, openedx_client_secret, moodle_url, moodle_token, moodle_names, moodle_webhook_jwks_url,
         moodle_webhook_key_file, sync_every):
    """Set bridge settings of a platform registration."""
    from plugin.evidence import bridge_config
    from plugin.evidence.base import BridgeError
    if openedx_webhook_jwks_url and openedx_webhook_key_file:
        raise click.ClickException("give either --openedx-webhook-jwks-url or --openedx-webhook-key-file, not both")
    if bool(moodle_url) != bool(moodle_token):
        raise click.ClickException("the Moodle bridge needs both --moodle-url and --moodle-token")
    if (openedx_client_id or openedx_client_secret) and not openedx_api_url:
        raise click.ClickException("--openedx-client-id/--openedx-client-secret need --openedx-api-url")
    if moodle_webhook_jwks_url and moodle_webhook_key_file:
        raise click.ClickException("give either --moodle-webhook-jwks-url or --moodle-webhook-key-file, not both")
    key_text = openedx_webhook_key_file.read() if openedx_webhook_key_file else None
    moodle_key_text = moodle_webhook_key_file.read() if moodle_webhook_key_file else None
    period = _period(sync_every) if sync_every is not None else None
    if not any([openedx_webhook_jwks_url, key_text, openedx_api_url, moodle_url, moodle_names is not None,
                moodle_webhook_jwks_url, moodle_key_text, sync_every is not None]):
        raise click.ClickException("nothing to set: give an --openedx-…, --moodle-… or --sync-every option")
    services = ctx.services()
    from plugin.cli.lti import refuse_private_urls
    refuse_private_urls(services, {"--openedx-webhook-jwks-url": openedx_webhook_jwks_url,
                                   "--openedx-api-url": openedx_api_url, "--moodle-url": moodle_url,
                                   "--moodle-webhook-jwks-url": moodle_webhook_jwks_url})
    try:
        with services.session() as s:
            platforms = _registrations(s, issuer, client_id)
            for platform in platforms:
                if openedx_webhook_jwks_url:
                    bridge_config.set_openedx_webhook_jwks_url(platform, openedx_webhook_jwks_url)
                if key_text:
                    bridge_config.set_openedx_webhook_key(platform, key_text)
                if openedx_api_url:
                    bridge_config.set_openedx_api(services, platform, openedx_api_url, openedx_client_id or "",
                                                  openedx_client_secret or "")
                if moodle_url:
                    bridge_config.set_moodle(services, platform, moodle_url, moodle_token)
                if moodle_names is not None:
                    bridge_config.set_moodle_share_names(platform, moodle_names)
                if moodle_webhook_jwks_url:
                    bridge_config.set_webhook_jwks_url(platform, moodle_webhook_jwks_url, "moodle")
                if moodle_key_text:
                    bridge_config.set_webhook_key(platform, moodle_key_text, "moodle")
                if sync_every is not None:
                    from plugin.evidence.sync_schedule import replan_platform, set_platform_period
                    set_platform_period(platform, period)
                    replan_platform(s, services.settings, platform)
            from plugin.storage.models import AuditLog
            for platform in platforms:
                s.add(AuditLog(actor="cli", action="bridge.set", target_type="platform", target_id=str(platform.id),
                               details=bridge_config.describe(platform)))
            shown = [(p.client_id, bridge_config.describe(p)) for p in platforms]
    except BridgeError as exc:
        raise click.ClickException(exc.message) from None
    for cid, described in shown:
        click.echo(f"{issuer} (client id {cid}): {json.dumps(described)}")


def _period(text: str) -> int | None:
    """``--sync-every``: seconds, 0 for off, None for the instance default."""
    from plugin.settings import parse_duration
    if text.strip().lower() == "default":
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--sync-every") from None


@bridge.command("show")
@click.option("--issuer", required=True)
@click.option("--client-id")
@pass_ctx
def show(ctx, issuer, client_id):
    """Print the bridge settings (secrets shown as 'set')."""
    from plugin.evidence import bridge_config
    with ctx.services().session() as s:
        for platform in _registrations(s, issuer, client_id):
            click.echo(f"{issuer} (client id {platform.client_id}): {json.dumps(bridge_config.describe(platform))}")


@bridge.command("test")
@click.option("--issuer", required=True)
@click.option("--client-id")
@click.option("--course", "course_id", help="Also read this course (Open edX course key or Moodle course id).")
@pass_ctx
def test(ctx, issuer, client_id, course_id):
    """Check each configured bridge's connection; says exactly what failed."""
    from plugin.evidence import bridge_config
    services = ctx.services()
    failed = 0
    with services.session() as s:
        for platform in _registrations(s, issuer, client_id):
            for name, ok, message in bridge_config.check_bridges(services, platform, course_id):
                click.echo(f"{'ok    ' if ok else 'FAILED'} {name} ({platform.client_id}): {message}")
                failed += not ok
    if failed:
        raise click.ClickException(f"{failed} bridge check(s) failed")
