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
    """The whole story over HTTP against the tool and the sandbox platform on free loopback ports."""
    from pathlib import Path

    from plugin.sandbox.demo import start_demo
    from plugin.sandbox.story import StoryError, behind_public_url, run_story
    # The tool keeps its configured public URL (MICROCRED_BASE_URL) as its identity, so what it
    # issues verifies later from the same database; it listens on a free loopback port.
    handle = start_demo(lambda _local_url: ctx.settings(), 0, 0)
    behind_public_url(handle)
    out = Path(out_dir) if out_dir else handle.services.settings.instance_dir / "demo"
    click.echo(f"microcred tool      {handle.services.settings.base_url} (listening on {handle.tool_url})")
    click.echo(f"sandbox platform    {handle.platform_url}")
    try:
        summary = run_story(handle, out, echo=click.echo)
    except StoryError as exc:
        raise click.ClickException(f"the demo story stopped: {exc}") from None
    finally:
        handle.stop()
    click.echo(f"files in {out}:")
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
    p, t = handle.platform_url, handle.tool_url
    click.echo(f"Open {p}/ in a browser. The story, step by step:")
    click.echo(f"  1. instructor adds the tool (deep linking):   {p}/start?user=sandbox-instructor&deep_link=1")
    click.echo(f"  2. instructor describes and enables it:       {p}/start?user=sandbox-instructor&link=sandbox-link-1")
    click.echo("  3. learner passes: the platform's grade reaches the tool's bridge (`microcred sync COURSE`)")
    click.echo(f"  4. learner opens the tool and claims:         {p}/start?user=sandbox-learner-1&link=sandbox-link-1")
    click.echo(f"  5. employer verifies a link or a file:        {t}/verify/<credential id>  ·  {t}/verify")
    click.echo("Or run the same story without a browser: microcred demo --headless --out DIR")
    click.echo("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("\nstopping")
    finally:
        handle.stop()
