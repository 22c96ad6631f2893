"""The official Open Badges 3.0 AchievementCredential JSON Schema, loaded at run time.

The schema ships inside the package (``plugin/data/schemas/``, with its source in
``SOURCES.md`` there), so every install checks credentials against it with no network.
``MICROCRED_SCHEMAS_DIR`` may point at another folder (an ``index.json`` maps the canonical
URL to a file, like the contexts folder); whichever folder is used, the file must match
the pinned SHA-256 below, so a modified schema is never used: a folder whose schema does
not match is an error, not a silent fallback.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from plugin.paths import DATA_DIR

SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
SCHEMA_SHA256 = "859e405b592d93c3261fe899362f4128801140d4d20c01502a066b3540483d95"


class SchemaUnavailable(RuntimeError):
    pass


BUNDLED_SCHEMAS_DIR = DATA_DIR / "schemas"


def default_schemas_dir() -> Path:
    from plugin.settings import schemas_dir_from_env
    return schemas_dir_from_env(dict(os.environ))


@lru_cache(maxsize=8)
def _load(directory: str) -> dict[str, Any]:
    d = Path(directory)
    index_file = d / "index.json"
    name = "ob_v3p0_achievementcredential_schema.json"
    if index_file.is_file():
        name = json.loads(index_file.read_text(encoding="utf-8")).get(SCHEMA_URL, name)
    path = d / name
    if not path.is_file():
        raise SchemaUnavailable(f"no OB 3.0 schema in {d}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SCHEMA_SHA256:
        raise SchemaUnavailable(f"{path} does not match the pinned SHA-256 of the OB 3.0 schema ({digest})")
    return json.loads(data)


def load_schema(directory: Path | str | None = None) -> dict[str, Any]:
    """The pinned OB 3.0 schema from ``directory`` (default: ``MICROCRED_SCHEMAS_DIR`` or the
    bundled copy). Raises :class:`SchemaUnavailable` when that folder has no schema or one
    that does not match its pin."""
    directory = directory or default_schemas_dir()
    try:
        return _load(str(directory))
    except OSError as exc:
        raise SchemaUnavailable(f"cannot read the OB 3.0 schema in {directory}: {exc}") from None
    except ValueError as exc:
        raise SchemaUnavailable(f"the OB 3.0 schema in {directory} is not valid JSON: {exc}") from None


@lru_cache(maxsize=4)
def _validator(schema_json: str):
    from jsonschema import Draft201909Validator
    return Draft201909Validator(json.loads(schema_json), format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_problems(credential: Any, schema: dict[str, Any], limit: int = 5) -> list[tuple[str, str]]:
    """(where, what) of the first ``limit`` places ``credential`` breaks the schema: ``where`` the
    field's JSON path (``issuer/address/addressCountryCode``), ``what`` the schema's sentence.

    An alternative (``oneOf``/``anyOf``) that fails names its deepest failing field
    (jsonschema's ``best_match``), not the whole object it could not place."""
    from jsonschema.exceptions import best_match
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(credential), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[tuple[str, str]] = []
    for err in errors[:limit]:
        leaf = best_match([err]) if err.context else err
        where = "/".join(str(p) for p in leaf.absolute_path) or "(root)"
        out.append((where, _short(leaf.message)))
    return out


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[:limit - 1] + "…"


def schema_errors(credential: dict[str, Any], schema: dict[str, Any], limit: int = 5) -> list[str]:
    return [f"{where}: {what}" for where, what in schema_problems(credential, schema, limit)]
