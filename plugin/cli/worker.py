"""``microcred worker``: run background jobs (e-mails, platform pulls, course syncs)."""
from __future__ import annotations

import click

from plugin.cli import pass_ctx


@click.command()
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Embedded worker: seconds between looks at the job table.")
@pass_ctx
def worker(ctx, burst, poll):
    """Run jobs: an RQ worker when MICROCRED_REDIS_URL is set, else the embedded worker on the job table.

    The embedded worker needs no other service; several may run against one database.
    Every worker also takes over the jobs of workers that died (their lease expired) and
    starts the scheduled catch-up of each course from its platform.
    """
    services = ctx.services()
    if services.settings.redis_url:
        from redis.exceptions import ConnectionError as RedisConnectionError

        from plugin.jobs.worker import run_rq_worker
        from plugin.jobs.queue import rq_queue_name
        click.echo(f"microcred worker: RQ queue {rq_queue_name(services)} on "
                   f"{services.settings.redis_url.split('@')[-1]}", err=True)
        try:
            run_rq_worker(services, burst=burst)
        except RedisConnectionError as exc:
            raise click.ClickException(f"cannot reach Redis (MICROCRED_REDIS_URL): {exc}") from None
        return
    from plugin.jobs.worker import EmbeddedWorker
    embedded = EmbeddedWorker(services, poll_interval=poll, maintenance=True)
    if burst:
        ran = embedded.run_until_empty()
        click.echo(f"ran {ran} job(s)")
        return
    click.echo("microcred worker: embedded (job table); Ctrl-C to stop", err=True)
    try:
        embedded.run_forever()
    except KeyboardInterrupt:
        embedded.stop()
