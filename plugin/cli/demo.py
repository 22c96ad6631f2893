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
    raise click.ClickException("the demo is not built yet")


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
