"""Write issued credentials as files a verifier can check offline.

For each credential ``<id>.json`` (Data Integrity), ``<id>.jwt`` (VC-JWT), ``<id>.png``
and ``<id>.svg`` (badge pictures with the JSON credential baked in), and one
``documents.json`` mapping every URL/DID those credentials reference that the tool
serves to the document served there (``microcred verify FILE --documents documents.json``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from plugin.delivery.badge_image import badge_facts, badge_logo, render_png, render_svg
from plugin.delivery.baking import bake_png, bake_svg


def baked_files(document: dict[str, Any], design=None) -> tuple[bytes, str]:
    """The baked PNG and SVG of ``document``, in the awarding body's ``design`` (default: the
    tool's own)."""
    title, issuer, level = badge_facts(document)
    logo = badge_logo(document)
    return (bake_png(render_png(title, issuer, level, design=design, logo=logo), document),
            bake_svg(render_svg(title, issuer, level, design=design, logo=logo), document))


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_credential_files(out_dir, credentials: Iterable[Any], resolver_documents: dict[str, Any]) -> list[Path]:
    """Write the four forms of each credential and ``documents.json``; return the paths.

    ``credentials`` are :class:`~plugin.storage.models.IssuedCredential` rows (or objects
    with ``public_id``, ``document`` and ``jwt``); ``resolver_documents`` is what
    :func:`plugin.verification.resolver.documents_for` returns.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for cred in credentials:
        stem = cred.public_id
        png, svg = baked_files(cred.document)
        for suffix, data in ((".json", json.dumps(cred.document, indent=2, ensure_ascii=False).encode("utf-8")),
                             (".jwt", cred.jwt.encode("ascii")), (".png", png), (".svg", svg.encode("utf-8"))):
            path = out / f"{stem}{suffix}"
            _write(path, data)
            written.append(path)
    path = out / "documents.json"
    _write(path, json.dumps(resolver_documents, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    written.append(path)
    return written
