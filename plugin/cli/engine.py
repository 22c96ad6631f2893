"""Engine commands: issuers and keys, issuing, status changes and verification.

``microcred issuer create|list``, ``microcred keys rotate``, ``microcred issue``,
``microcred revoke|suspend|reinstate`` and ``microcred verify``.
"""
from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from sqlalchemy import select

from plugin.cli import pass_ctx


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers)
        return "cli"


def _issuance_errors():
    from plugin.issuance.keys import IssuerKeyError
    from plugin.issuance.service import IssuanceError
    return IssuanceError, IssuerKeyError


# --------------------------------------------------------------------------- issuers
@click.group()
def issuer():
    """Awarding bodies (issuers) and their profiles."""


@issuer.command("create")
@click.option("--slug", required=True, help="Short name used in URLs and the DID, e.g. univ-lille.")
@click.option("--name", required=True, help="Legal name of the awarding body.")
@click.option("--country", required=True, help="Two-letter ISO country code, e.g. FR.")
@click.option("--url", default="", help="Web site of the awarding body (required to award).")
@click.option("--email", default="", help="Contact email.")
@click.option("--region", default="", help="Region, e.g. Hauts-de-France.")
@click.option("--locality", default="", help="City.")
@click.option("--legal-id", "legal_ids", multiple=True, metavar="SCHEME:VALUE",
              help="Legal identifier, e.g. SIREN:130000000 (SIREN, SIRET, UAI, VAT, EIDAS, LEI, NATIONAL, OTHER).")
@click.option("--quality-assurance", default="", help="Quality-assurance statement.")
@click.option("--linkedin-organization-id", "linkedin", default="", metavar="DIGITS",
              help="LinkedIn organisation id (the number in linkedin.com/company/<number>/admin/): "
                   "learners' 'Add to profile' links then name that LinkedIn page.")
@pass_ctx
def issuer_create(ctx, slug, name, country, url, email, region, locality, legal_ids, quality_assurance, linkedin):
    """Create an issuer with new signing keys (Ed25519 and RSA), sealed with the KEK."""
    from pydantic import ValidationError

    from plugin.domain.issuer import IssuerProfile
    from plugin.issuance import service as issuance
    from plugin.issuance.keys import issuer_identifier
    identifiers = []
    for item in legal_ids:
        scheme, sep, value = item.partition(":")
        if not sep or not value:
            raise click.ClickException(f"--legal-id must look like SCHEME:VALUE, got {item!r}")
        identifiers.append({"scheme": scheme.strip().upper(), "value": value.strip()})
    try:
        profile = IssuerProfile(legal_name=name, url=url, email=email, country_code=country, region=region,
                                locality=locality, legal_identifiers=identifiers,
                                quality_assurance=quality_assurance, linkedin_organization_id=linkedin)
    except ValidationError as exc:
        raise click.ClickException("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                             for e in exc.errors())) from None
    services = ctx.services()
    try:
        with services.session() as s:
            row = issuance.create_issuer(s, services, slug, profile, actor=_actor())
            did = issuer_identifier(services, row)
    except _issuance_errors() as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"issuer {slug} created: {did}")


@issuer.command("list")
@pass_ctx
def issuer_list(ctx):
    """List the issuers, their DIDs and active keys."""
    from plugin.issuance.keys import issuer_identifier
    from plugin.storage.models import Issuer, IssuerKey
    services = ctx.services()
    with services.session() as s:
        rows = s.scalars(select(Issuer).order_by(Issuer.slug)).all()
        if not rows:
            click.echo("no issuers yet: create one with `microcred issuer create`")
        for row in rows:
            keys = s.scalars(select(IssuerKey).where(IssuerKey.issuer_id == row.id)).all()
            active = sum(1 for k in keys if k.retired_at is None)
            click.echo(f"{row.slug}\t{row.name}\t{issuer_identifier(services, row)}\t"
                       f"{active} active key(s), {len(keys) - active} retired")


# --------------------------------------------------------------------------- keys
# Issuer key rotation joins the ``keys`` group that also holds key-encryption key maintenance.
from plugin.cli.keys import keys  # noqa: E402


@keys.command("rotate")
@click.option("--issuer", "slug", required=True, help="Slug of the issuer.")
@pass_ctx
def keys_rotate(ctx, slug):
    """Retire the issuer's signing keys and create new ones (old credentials keep verifying)."""
    from plugin.issuance import service as issuance
    services = ctx.services()
    with services.session() as s:
        row = issuance.issuer_by_slug(s, slug)
        if row is None:
            raise click.ClickException(f"no issuer {slug!r} (see `microcred issuer list`)")
        created = issuance.rotate_keys(s, services, row, actor=_actor())
    click.echo(f"issuer {slug}: new keys {', '.join(k.key_id for k in created)}; "
               "the old ones are retired and still listed in the DID document")


# --------------------------------------------------------------------------- issue
def _find(session, model, ident: str, label: str):
    row = None
    if hasattr(model, "public_id"):
        row = session.scalars(select(model).where(model.public_id == ident)).first()
    if row is None and ident.isdigit():
        row = session.get(model, int(ident))
    if row is None:
        raise click.ClickException(f"no {label} {ident!r}")
    return row


@click.command()
@click.option("--definition", "definition_ref", required=True, help="Credential definition (public id or number).")
@click.option("--learner", "learner_ref", required=True, help="Learner (public id or number).")
@click.option("--evidence", "evidence_id", type=int, help="Pass evidence number (default: the learner's latest pass).")
@click.option("--name", "display_name", help="Put this name in the credential (only with the learner's consent).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the credential files here.")
@pass_ctx
def issue(ctx, definition_ref, learner_ref, evidence_id, display_name, out_dir):
    """Award a credential to a learner (or show the one they already hold) and optionally write its files."""
    from plugin.delivery.export import write_credential_files
    from plugin.issuance import service as issuance
    from plugin.storage.models import CredentialDefinition, Learner, PassEvidence
    from plugin.verification.resolver import documents_for
    services = ctx.services()
    try:
        with services.session() as s:
            definition = _find(s, CredentialDefinition, definition_ref, "credential definition")
            learner = _find(s, Learner, learner_ref, "learner")
            if evidence_id is None:
                evidence_id = s.scalars(select(PassEvidence.id).where(
                    PassEvidence.definition_id == definition.id, PassEvidence.learner_id == learner.id,
                    PassEvidence.passed.is_(True)).order_by(PassEvidence.id.desc()).limit(1)).first()
            cred, created = issuance.award(s, services, definition_id=definition.id, learner_id=learner.id,
                                           evidence_id=evidence_id, display_name=display_name, actor=_actor())
            if out_dir:
                write_credential_files(out_dir, [cred], documents_for(s, services, [cred.document]))
            click.echo(f"{'issued' if created else 'already held'}: {cred.public_id} ({cred.credential_id})")
    except _issuance_errors() as exc:
        raise click.ClickException(str(exc)) from None
    if out_dir:
        click.echo(f"files written to {out_dir}")


# --------------------------------------------------------------------------- status
def _status_command(name: str, help_text: str, needs_reason: bool):
    @click.command(name=name, help=help_text)
    @click.argument("credential_id")
    @click.option("--reason", required=needs_reason, help="Why (kept in the audit log).")
    @pass_ctx
    def command(ctx, credential_id, reason):
        from plugin.issuance import service as issuance
        services = ctx.services()
        try:
            with services.session() as s:
                cred = issuance.credential_by_any_id(s, credential_id)
                if cred is None:
                    raise click.ClickException(f"no credential {credential_id!r}")
                if name == "revoke":
                    changed = issuance.revoke(s, cred, reason, _actor())
                elif name == "suspend":
                    changed = issuance.suspend(s, cred, reason, _actor())
                else:
                    changed = issuance.reinstate(s, cred, _actor(), reason)
                state = cred.status
        except _issuance_errors() as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"credential {credential_id}: {state}" + ("" if changed else " (unchanged)"))
    return command


revoke = _status_command("revoke", "Revoke a credential for good (the learner can be awarded a new one).", True)
suspend = _status_command("suspend", "Suspend a credential (undo with `microcred reinstate`).", False)
reinstate = _status_command("reinstate", "Lift the suspension of a credential.", False)


# --------------------------------------------------------------------------- verify
@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--documents", "documents_file", type=click.Path(exists=True, dir_okay=False),
              help="documents.json (URL/DID -> document) for offline checking. Without it, the documents "
                   "the tool serves are read from its database.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--trust-anchors", "anchors_file", type=click.Path(exists=True, dir_okay=False),
              help="PEM file of CA certificates trusted for European Digital Credential seals (added to those "
                   "an administrator configured, when the database is used).")
@pass_ctx
def verify(ctx, file, documents_file, as_json, anchors_file):
    """Verify a credential file: JSON, VC-JWT, a baked PNG/SVG badge, or a European Digital
    Credential (sealed JAdES JSON or bare EDC).

    Prints every check; exits 0 only when all pass, 1 naming the failing check otherwise.
    """
    from plugin.verification.verify import MAX_INPUT_BYTES, Resolver
    from plugin.verification.verify import verify as run_verify
    try:
        if file == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(file, "rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    if documents_file:
        try:
            resolver = Resolver.from_file(documents_file)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot use {documents_file}: {exc}") from None
    else:
        from plugin.verification.resolver import tool_resolver
        resolver = tool_resolver(ctx.services())
    if anchors_file:
        from plugin.signing.jades import JadesError, load_certificates
        try:
            with open(anchors_file, "rb") as fh:
                resolver.edc_anchors = list(getattr(resolver, "edc_anchors", [])) + load_certificates(fh.read())
        except (OSError, JadesError) as exc:
            raise click.ClickException(f"cannot use {anchors_file}: {exc}") from None
    report = run_verify(data, resolver)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"{Path(file).name}: {report.format or 'unknown format'}"
                   + (f", {report.proof_type}" if report.proof_type else ""))
        for check in report.checks:
            click.echo(f"  {check.label:4}  {check.name:15} {check.message}")
        click.echo(f"result: {report.status}")
    if not report.ok:
        failed = report.failed[0] if report.failed else None
        raise click.ClickException(f"{report.status}: the {failed.name} check failed: {failed.message}"
                                   if failed else report.status)
