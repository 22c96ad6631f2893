"""``microcred sync COURSE``: pull every learner's status and issue what is due."""
from __future__ import annotations

import sys

import click

from plugin.cli import pass_ctx


@click.command()
@click.argument("course")
@click.argument("context_id", required=False)
@click.option("--definition", "definition_id", type=int, help="Only this credential definition (id).")
@pass_ctx
def sync(ctx, course, context_id, definition_id):
    """Catch up a course from its configured source (Open edX grades API, Moodle, AGS).

    COURSE is the tool's course id (see the instructor page), or the platform issuer
    followed by the LTI context id, e.g.
    `microcred sync https://lms.example.org course-v1:Org+C1+2026`.
    Safe to interrupt and run again: nothing is recorded or issued twice.
    """
    from plugin.evidence import sync_schedule
    from plugin.evidence.base import BridgeError
    from plugin.evidence.sync import SyncReport, resolve_course, sync_course

    services = ctx.services()
    try:
        with services.session() as s:
            course_id = resolve_course(s, course, context_id).id
    except BridgeError as exc:
        raise click.ClickException(exc.message) from None
    bar = {"bar": None, "shown": 0}

    def on_start(total):
        bar["bar"] = click.progressbar(length=total, label=f"course {course_id}", show_pos=True, file=sys.stderr)
        bar["bar"].__enter__()

    def progress(report):
        step = report.done - bar["shown"]
        bar["shown"] = report.done
        if bar["bar"] is not None and step > 0:
            bar["bar"].update(step)
    last = {"report": None}

    def progress_and_keep(report):
        last["report"] = report
        progress(report)
    # The run is recorded as the course's last catch-up (admin and instructor pages show it).
    sync_schedule.begin_run(services, course_id, None, "command")
    try:
        report = sync_course(services, course_id, definition_id=definition_id, progress=progress_and_keep,
                             on_start=on_start)
    except KeyboardInterrupt:
        partial = last["report"] or SyncReport(course_id=course_id)
        partial.interrupted = True
        sync_schedule.finish_run(services, course_id, None, report=partial)
        _close(bar)
        click.echo(f"interrupted after {bar['shown']} result(s); what was done is kept: run the same command "
                   "again to finish", err=True)
        raise click.exceptions.Exit(130) from None
    except BridgeError as exc:
        sync_schedule.finish_run(services, course_id, None, error=exc)
        _close(bar)
        raise click.ClickException(exc.message) from None
    sync_schedule.finish_run(services, course_id, None, report=report)
    _close(bar)
    click.echo(report.summary())
    for error in report.errors[:20]:
        click.echo(f"  error: {error}", err=True)
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} learner(s) could not be processed (see above); run again later")


def _close(bar):
    if bar["bar"] is not None:
        bar["bar"].__exit__(None, None, None)
        bar["bar"] = None
