"""``microcred bulk-issue DEFINITION FILE``: an instructor's CSV of learners who passed, from the command line.

The same job as the instructor's upload page (``bulk_issue``, :mod:`plugin.issuance.bulk`),
without the upload size limit: for a MOOC's 100,000 learners. ``--run`` runs it in this
process with its progress on stderr; otherwise it is queued for the workers.
"""
from __future__ import annotations

import sys
import threading

import click

from plugin.cli import pass_ctx


@click.command("bulk-issue")
@click.argument("definition_ref")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--run", "run_here", is_flag=True, help="Run the job in this process and wait for it (progress on stderr).")
@pass_ctx
def bulk_issue(ctx, definition_ref, csv_file, run_here):
    """Issue DEFINITION_REF (public id or number) to every learner of CSV_FILE (columns
    `sub` and/or `email`, optional `name`; the same file as the instructor's bulk page).
    Safe to run again: a learner never gets a second credential."""
    from plugin.cli.engine import _actor, _find
    from plugin.issuance.bulk import BulkError, start_bulk_issue
    from plugin.storage.models import CredentialDefinition, Job
    services = ctx.services()
    raw = csv_file.read()
    try:
        with services.session() as s:
            definition = _find(s, CredentialDefinition, definition_ref, "credential definition")
            job_id = start_bulk_issue(s, services, definition, raw, actor=_actor(),
                                      filename=getattr(csv_file, "name", "upload.csv").rsplit("/", 1)[-1])
            total = s.get(Job, job_id).payload["rows_total"]
    except BulkError as exc:
        raise click.ClickException(str(exc)) from None
    if not run_here:
        click.echo(f"bulk issue queued: job {job_id}, {total} learner(s); follow it on the instructor's bulk page")
        return
    from plugin.jobs.queue import execute_job
    done = threading.Event()

    def show_progress():
        while not done.wait(2.0):
            with services.session() as s:
                progress = ((s.get(Job, job_id).result or {}).get("progress") or {})
            click.echo(f"{progress.get('done') or 0}/{total} rows", err=True)
    watcher = threading.Thread(target=show_progress, daemon=True)
    watcher.start()
    try:
        outcome = execute_job(services, job_id)
    finally:
        done.set()
        watcher.join()
    with services.session() as s:
        job = s.get(Job, job_id)
        counts = (job.result or {}).get("counts") or {}
        error = job.last_error
    if outcome != "done":
        raise click.ClickException(f"job {job_id} stopped ({outcome}): {error}; the workers retry it, "
                                   "or run the same command again")
    click.echo(f"job {job_id}: {counts.get('issued', 0)} issued, {counts.get('skipped', 0)} skipped, "
               f"{counts.get('failed', 0)} failed, {counts.get('pending', 0)} pending")
    sys.stdout.flush()
