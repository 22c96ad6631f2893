"""``microcred lti …`` and ``microcred platform …``: the tool's LTI configuration and platform registrations.

Contract (admins' scripts rely on it):

* ``microcred lti config`` prints the tool configuration as JSON (``login_url``, ``launch_url``,
  ``jwks_url``, ``deep_linking_url``, ``registration_url``, ``scopes``…) for MICROCRED_BASE_URL;
* ``microcred platform add --issuer … --client-id … --deployment-id … --auth-login-url …
  --auth-token-url … --key-set-url … [--name …] [--product openedx|moodle|generic]`` registers
  a platform (idempotent; a new deployment id is added to a known registration) and prints
  the stored registration as JSON;
* ``microcred platform list [--json]`` shows the registrations.
"""
from __future__ import annotations

import json

import click

from plugin.cli import pass_ctx


@click.group()
def lti():
    """The tool's LTI 1.3 configuration."""


@lti.command("config")
@pass_ctx
def lti_config(ctx):
    """Print the JSON tool configuration to paste into a platform."""
    from lti.platforms import tool_configuration
    click.echo(json.dumps(tool_configuration(ctx.settings().base_url), indent=2))


@lti.command("rotate-key")
@click.option("--retire-old", is_flag=True,
              help="Also stop publishing the previous keys now (a leaked key). Without it the key being "
                   "replaced stays in /lti/jwks until the next rotation or 'microcred lti retire-old-keys'.")
@pass_ctx
def lti_rotate_key(ctx, retire_old):
    """Make a new LTI signing key for the tool and print its kid."""
    from lti.keys import active_key, previous_keys, rotate
    from plugin.storage.models import AuditLog
    services = ctx.services()
    with services.session() as s:
        old = active_key(s, services.secrets).kid
        earlier = [k.kid for k in previous_keys(s)]  # replaced by an earlier rotation: dropped now
        new = rotate(s, services.secrets, retire_old=retire_old)
        s.add(AuditLog(actor="cli", action="tool_key.rotate", target_type="tool_key", target_id=new.kid,
                       details={"replaced": old, "retired": earlier + ([old] if retire_old else [])}))
    click.echo(new.kid)
    if retire_old:
        click.echo(f"previous key {old} is no longer published", err=True)
    else:
        click.echo(f"previous key {old} stays in /lti/jwks until the next rotation or "
                   "'microcred lti retire-old-keys'", err=True)


@lti.command("retire-old-keys")
@pass_ctx
def lti_retire_old_keys(ctx):
    """Stop publishing the keys that no longer sign (once platforms have the new JWKS)."""
    from lti.keys import retire_previous
    from plugin.storage.models import AuditLog
    services = ctx.services()
    with services.session() as s:
        dropped = retire_previous(s)
        if dropped:
            s.add(AuditLog(actor="cli", action="tool_key.retire", target_type="tool_key", target_id=dropped[0],
                           details={"retired": dropped}))
    click.echo("\n".join(dropped) if dropped else "no previous key was published", err=not dropped)


@click.group()
def platform():
    """LTI 1.3 platform registrations (Open edX, Moodle, any LTI Advantage platform)."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), usually its site root URL.")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--deployment-id", "deployment_ids", required=True, multiple=True,
              help="A deployment id (repeat for several; Open edX always uses 1).")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
@click.option("--key-set-url", required=True, help="The platform's public JWKS URL.")
@click.option("--auth-audience", default=None, help="Audience for client assertions, if not the token URL.")
@click.option("--name", default="", help="A name for people (default: the issuer's host).")
@click.option("--product", default="generic", show_default=True,
              type=click.Choice(["openedx", "moodle", "generic", "sandbox"]), help="Which platform this is.")
@pass_ctx
def platform_add(ctx, issuer, client_id, deployment_ids, auth_login_url, auth_token_url, key_set_url,
                 auth_audience, name, product):
    """Register a platform (idempotent) and print the stored registration as JSON."""
    from lti.errors import LtiError
    from lti.platforms import PlatformInput, platform_as_dict, register_platform
    from plugin.storage.models import AuditLog

    data = PlatformInput(issuer=issuer, client_id=client_id, deployment_ids=list(deployment_ids),
                         auth_login_url=auth_login_url, auth_token_url=auth_token_url, key_set_url=key_set_url,
                         auth_audience=auth_audience, name=name, product=product)
    try:
        data.check()
    except LtiError as exc:
        raise click.ClickException(exc.message) from None
    services = ctx.services()
    # the URLs the tool itself calls (the login URL is where browsers are sent, not a server-side call)
    refuse_private_urls(services, {"--auth-token-url": auth_token_url, "--key-set-url": key_set_url})
    with services.session() as s:
        row, created = register_platform(s, data)
        s.add(AuditLog(actor="cli", action="platform.add" if created else "platform.update",
                       target_type="platform", target_id=str(row.id),
                       details={"issuer": issuer, "client_id": client_id, "deployment_ids": list(deployment_ids)}))
        out = platform_as_dict(row)
    click.echo(json.dumps(out, indent=2))


@platform.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def platform_list(ctx, as_json):
    """List the registered platforms."""
    from lti.platforms import list_platforms, platform_as_dict
    with ctx.services().session() as s:
        rows = [platform_as_dict(p) for p in list_platforms(s)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No platform registered yet (microcred platform add --help).")
        return
    headers = ("id", "issuer", "client_id", "deployments", "product", "kind")
    table = [(str(r["id"]), r["issuer"], r["client_id"], ",".join(r["deployment_ids"]), r["product"],
              r["registration_kind"]) for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    for row in (headers, *table):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def refuse_private_urls(services, urls: dict[str, str | None]) -> None:
    """Refuse, when it is stored, a URL the tool would not call (a local or private address that
    MICROCRED_OUTBOUND_ALLOW does not list), as the admin pages do: said in one line, nothing saved."""
    for option, url in urls.items():
        refused = services.outbound.refusal_for_url(url) if url else None
        if refused is not None:
            raise click.ClickException(f"{option} {url}: the address is local or private ({refused.address}); "
                                       "the tool calls it only if MICROCRED_OUTBOUND_ALLOW lists it")
