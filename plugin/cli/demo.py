"""``microcred demo``: the whole story on the embedded default, with a sandbox LTI platform."""
from __future__ import annotations

import click


@click.command()
@click.option("--headless", is_flag=True, help="Run the story without a browser and exit.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="With --headless: write what was issued here.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port of the tool.")
@click.option("--platform-port", default=5001, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the sandbox platform.")
def demo(headless, out_dir, port, platform_port):
    """Start the tool and a sandbox LTI 1.3 platform on loopback and show the whole story."""
    raise click.ClickException("the demo is not built yet")
