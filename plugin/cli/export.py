"""``microcred export``: issued credentials in other formats (the European Digital Credential)."""
from __future__ import annotations

import sys

import click

from plugin.cli import pass_ctx


@click.group()
def export():
    """Export an issued credential in another format."""


@export.command("clr")
@click.argument("learner")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--issuer", "issuer_slug", help="The awarding body that signs (default: the one with most credentials).")
@pass_ctx
def export_clr(ctx, learner, out_file, issuer_slug):
    """The learner's record: every active credential as one signed 1EdTech CLR 2.0 ClrCredential.

    LEARNER is the learner's public id, row number, or "<platform issuer>|<sub>".
    """
    import json

    from plugin.issuance.clr import RecordError, learner_by_any_id, learner_record
    services = ctx.services()
    with services.session() as s:
        row = learner_by_any_id(s, learner)
        if row is None:
            raise click.ClickException(f"no learner {learner!r}")
        try:
            document = learner_record(s, services, row, issuer_slug=issuer_slug)
        except RecordError as exc:
            raise click.ClickException(f"learner {row.public_id}: {exc}") from None
    _emit(json.dumps(document, ensure_ascii=False, indent=2), out_file)


def _emit(body: str, out_file) -> None:
    data = (body if body.endswith("\n") else body + "\n").encode("utf-8")
    if out_file:
        from pathlib import Path
        from plugin.delivery.export import _write
        try:
            _write(Path(out_file), data)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out_file}: {exc.strerror}") from None
        click.echo(f"written: {out_file}", err=True)
    else:
        sys.stdout.buffer.write(data)


@export.command("edc")
@click.argument("credential_id")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--sealed", is_flag=True,
              help="The sealed EDC (JAdES JSON) instead of the bare one; the awarding body must seal.")
@pass_ctx
def export_edc(ctx, credential_id, out_file, sealed):
    """The European Digital Credential (ELM v3, JSON-LD) of a credential, checked against the EDC shapes.

    CREDENTIAL_ID is the credential's public id, its URL or its row number.
    """
    import json

    from plugin.issuance import edc_sealing
    from plugin.issuance import service as issuance
    from plugin.issuance.edc import EdcError, export as export_document
    services = ctx.services()
    with services.session() as s:
        row = issuance.credential_by_any_id(s, credential_id)
        if row is None:
            raise click.ClickException(f"no credential {credential_id!r}")
        try:
            if sealed:
                text = edc_sealing.sealed_document(s, services, row)
                if text is None:
                    raise click.ClickException(
                        f"credential {row.public_id} has no sealed EDC: its awarding body does not seal, or the "
                        "seal is still being made (see the admin's Europass page)")
                body = text
            else:
                body = json.dumps(export_document(s, services, row), ensure_ascii=False, indent=2)
        except (EdcError, edc_sealing.SealConfigError) as exc:
            raise click.ClickException(f"credential {row.public_id}: {exc}") from None
    _emit(body, out_file)
