"""``microcred keys``: key-encryption key maintenance (issuer key rotation joins this group)."""
from __future__ import annotations

import copy

import click

from plugin.cli import pass_ctx


@click.group()
def keys():
    """Manage keys: the key-encryption key (MICROCRED_KEK) and the keys it protects."""


@keys.command("new-kek")
def new_kek():
    """Print a new random key-encryption key (put it FIRST in MICROCRED_KEK)."""
    from plugin.storage.secrets import generate_kek
    click.echo(generate_kek())


@keys.command()
@pass_ctx
def rewrap(ctx):
    """Re-seal every stored secret with the first key of MICROCRED_KEK.

    Rotation: set MICROCRED_KEK=NEW,OLD, run this command, then remove OLD.
    Everything is re-sealed in one transaction: issuer signing keys, the tool's
    LTI keys, sealed platform bridge settings, EDC seal keys and EDC Issuer passwords,
    and the key-encryption key check.
    """
    from sqlalchemy import delete, select

    from plugin.storage.models import IssuerKey, KekCheck, Platform, ToolKey
    from plugin.storage.secrets import (CANARY, CANARY_CONTEXT, issuer_key_context, platform_secret_context,
                                        sealed_paths, tool_key_context)

    services = ctx.services()
    box = services.secrets
    counts = {"issuer keys": 0, "tool keys": 0, "platform secrets": 0}
    try:
        with services.session() as s:
            for key in s.scalars(select(IssuerKey).order_by(IssuerKey.id).with_for_update()):
                key.private_sealed = box.rewrap(key.private_sealed, issuer_key_context(key.issuer_id, key.key_id))
                counts["issuer keys"] += 1
            for key in s.scalars(select(ToolKey).order_by(ToolKey.id).with_for_update()):
                key.private_sealed = box.rewrap(key.private_sealed, tool_key_context(key.kid))
                counts["tool keys"] += 1
            for platform in s.scalars(select(Platform).order_by(Platform.id).with_for_update()):
                found = list(sealed_paths(platform.bridge_settings or {}))
                if not found:
                    continue
                updated = copy.deepcopy(platform.bridge_settings)
                for path, value in found:
                    holder = updated
                    *parents, leaf = path.split(".")
                    for part in parents:
                        holder = holder[part]
                    holder[leaf] = box.rewrap(value, platform_secret_context(platform.id, path))
                    counts["platform secrets"] += 1
                platform.bridge_settings = updated  # a new dict, so the JSON column is written
            from plugin.issuance.edc_sealing import edc_issuer_secret_context, seal_key_context
            from plugin.storage.models import IssuerSeal
            counts["seal secrets"] = 0
            for cfg in s.scalars(select(IssuerSeal).order_by(IssuerSeal.id).with_for_update()):
                if cfg.private_sealed:
                    cfg.private_sealed = box.rewrap(cfg.private_sealed, seal_key_context(cfg.issuer_id))
                    counts["seal secrets"] += 1
                for name in ("password", "token"):
                    column = f"edc_issuer_{name}_sealed"
                    if getattr(cfg, column):
                        setattr(cfg, column, box.rewrap(getattr(cfg, column),
                                                        edc_issuer_secret_context(cfg.issuer_id, name)))
                        counts["seal secrets"] += 1
            s.execute(delete(KekCheck))
            s.add(KekCheck(kek_id=box.current_id, sealed=box.seal(CANARY, CANARY_CONTEXT)))
    finally:
        services.engine.dispose()
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    click.echo(f"re-sealed {summary} with key-encryption key {box.current_id}; "
               "the other keys in MICROCRED_KEK can now be removed")
