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
@click.option("--second-platform-port", type=click.IntRange(1, 65535),
              help="Port of the second sandbox platform (the demo pathway's third course). [default: --platform-port + 1]")
@pass_ctx
def demo(ctx, headless, out_dir, port, platform_port, second_platform_port):
    """Start the tool and two sandbox LTI 1.3 platforms on loopback and show the whole story."""
    if headless:
        return _headless(ctx, out_dir)
    return _interactive(ctx, port, platform_port, second_platform_port)


def _headless(ctx, out_dir):
    """The whole story over HTTP against the tool and the sandbox platform on free loopback ports."""
    from pathlib import Path

    from plugin.sandbox.demo import start_demo
    from plugin.sandbox.story import StoryError, behind_public_url, run_story
    # The tool keeps its configured public URL (MICROCRED_BASE_URL) as its identity, so what it
    # issues verifies later from the same database; it listens on a free loopback port.
    handle = start_demo(lambda _local_url: ctx.settings(), 0, 0, headless=True)
    behind_public_url(handle)
    out = Path(out_dir) if out_dir else handle.services.settings.instance_dir / "demo"
    click.echo(f"microcred tool      {handle.services.settings.base_url} (listening on {handle.tool_url})")
    click.echo(f"sandbox platform    {handle.platform_url}")
    click.echo(f"second sandbox      {handle.second_platform_url}")
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


def _interactive(ctx, port, platform_port, second_platform_port=None):
    """Serve the tool and both sandbox platforms on 127.0.0.1 until Ctrl-C."""
    import threading

    from plugin.sandbox.demo import PortInUse, start_demo
    if second_platform_port is None:
        if platform_port == 65535:
            raise click.ClickException("--platform-port 65535 leaves no port for the second sandbox platform; "
                                       "choose one with --second-platform-port")
        second_platform_port = platform_port + 1
    if len({port, platform_port, second_platform_port}) < 3:
        raise click.ClickException("--port, --platform-port and --second-platform-port must differ")
    try:
        handle = start_demo(lambda base_url: ctx.settings(base_url=base_url), port, platform_port,
                            second_platform_port=second_platform_port)
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None
    try:
        for line in story_lines(handle.tool_url, handle.platform_url, handle.platform,
                                handle.second_platform_url, handle.second_platform):
            click.echo(line)
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("\nstopping")
    finally:
        handle.stop()


def story_lines(tool: str, lms: str, platform, second_lms: str | None = None, second=None) -> list[str]:
    """Where to open each step of the story (printed by the interactive demo)."""
    from plugin.issuance.demo_data import DEMO_SLUG
    start = f"{lms}/start?user="
    def row(label: str, url: str) -> str:
        return f"  {label:<60} {url}"
    lines = [
        f"microcred tool      {tool}  (LTI configuration: {tool}/lti/config)",
        f"sandbox platform    {lms}  (registered as {platform.issuer}, client id {platform.config.client_id})",
    ]
    if second is not None:
        lines.append(f"second sandbox      {second_lms}  (registered as {second.issuer}, client id "
                     f"{second.config.client_id})")
    lines += [
        f"awarding body       {tool}/issuers/{DEMO_SLUG}/about  (demo data)",
        "",
        f"Open {lms}/ in a browser: it is the course, and launches open in its iframe. The story:",
        row("1. instructor adds the tool to the course (deep linking):", f"{start}sandbox-instructor&deep_link=1"),
        "  2. instructor opens the link; under Describe, reviews the prefilled credential (every Annex I",
        "     element; passed = course grade of at least 50 % sent by the platform's webhook) with its live",
        "     preview; under Preview, presses \"Enable this credential\":",
        row("", f"{start}sandbox-instructor&link=sandbox-link-1"),
        row("3. learner opens the link (not passed yet):", f"{start}sandbox-learner-1&link=sandbox-link-1"),
    ]
    if second is not None:
        from plugin.sandbox.pathway_demo import PATHWAY_NAME, SECOND_LEARNER
        lines += [
            f"  The pathway \"{PATHWAY_NAME}\": Grace also takes \"{second.course['title']}\" on the second platform:",
            row("   a. she opens it there:", f"{second_lms}/start?user={SECOND_LEARNER}&link=sandbox-link-1"),
            f"     b. on {second_lms}/ press \"Grace Hopper passes the course\": that platform's webhook, the tool issues;",
            "     c. she opens the link there again, claims it, presses \"Link an account on another platform\" on",
            "        its page, then opens the link of step 3 and confirms: her two accounts are linked",
        ]
    lines += [
        f"  4. learner passes: on {lms}/ press \"Grace Hopper passes the course\";",
        "     the platform sends the signed course-passing webhook and the tool issues the credential"
        + (" (and, as the third part, the pathway's)" if second is not None else ""),
        row("5. learner opens the link again and claims it:", f"{start}sandbox-learner-1&link=sandbox-link-1"),
        row("6. anyone verifies it (the link is on the learner's page):", f"{tool}/verify/<credential id>  ·  {tool}/verify"),
        "",
        "The same story without a browser: microcred demo --headless --out DIR",
        "Press Ctrl-C to stop.",
    ]
    return lines
