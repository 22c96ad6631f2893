"""``microcred demo``: the whole story on the embedded default, with a sandbox LTI platform."""
from __future__ import annotations

import click

from plugin.cli import pass_ctx


@click.command()
@click.option("--headless", is_flag=True, help="Run the story without a browser and exit.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="With --headless: write what was issued here.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port of the tool.")
@click.option("--platform-port", default=5001, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the sandbox platform.")
@pass_ctx
def demo(ctx, headless, out_dir, port, platform_port):
    """Start the tool and a sandbox LTI 1.3 platform on loopback and show the whole story."""
    if headless:
        return _headless(ctx, out_dir)
    return _interactive(ctx, port, platform_port)


def _headless(ctx, out_dir):
    """Issue one demo credential directly on the services and write its files.

    (Until the sandbox platform exists this path does not go through an LTI launch.)
    """
    from pathlib import Path

    from plugin.issuance.demo_data import run_headless
    services = ctx.services()
    out = Path(out_dir) if out_dir else services.settings.instance_dir / "demo"
    summary = run_headless(services, out)
    click.echo(f"issuer      {summary['issuer']}")
    click.echo(f"credential  {summary['credential']} ({'issued' if summary['created'] else 'already held'})")
    click.echo(f"files in    {out}")
    for path in summary["files"]:
        click.echo(f"  {Path(path).name}")
    click.echo(f"check one:  microcred verify {out / (summary['credential'] + '.png')} "
               f"--documents {out / 'documents.json'}")


def _interactive(ctx, port, platform_port):
    """Serve the tool and the sandbox platform on 127.0.0.1 until Ctrl-C."""
    import threading

    from plugin.sandbox.demo import PortInUse, start_demo
    if port == platform_port:
        raise click.ClickException("--port and --platform-port must differ")
    try:
        handle = start_demo(lambda base_url: ctx.settings(base_url=base_url), port, platform_port)
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"microcred tool      {handle.tool_url}  (LTI configuration: {handle.tool_url}/lti/config)")
    click.echo(f"sandbox platform    {handle.platform_url}  (registered as {handle.platform.issuer}, "
               f"client id {handle.platform.config.client_id})")
    click.echo("")
    click.echo(f"Open {handle.platform_url}/ in a browser: add the tool to the course as the instructor")
    click.echo("(deep linking), then open the link as the instructor and as a learner.")
    click.echo("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("\nstopping")
    finally:
        handle.stop()
