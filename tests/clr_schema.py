"""The official 1EdTech CLR 2.0 ``ClrCredential`` JSON Schema, to check every record the tool makes.

The file in ``tests/fixtures/clr/`` is a byte-for-byte copy of the schema 1EdTech publishes at
:data:`SCHEMA_URL` (source and licence: ``tests/fixtures/SOURCES.md``); its SHA-256 is pinned
here so an edited copy fails loudly instead of checking less.

``date-time`` values are checked (``datetime.fromisoformat``): jsonschema checks that format only
with an optional package this project does not install, and ``validFrom`` must be a real date.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_URL = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
SCHEMA_FILE = Path(__file__).parent / "fixtures" / "clr" / "clr_v2p0_clrcredential_schema.json"
SCHEMA_SHA256 = "59d778659204b0bd593e9e2ab1683fb6f688e339885c44019f606ed6feb4caee"


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft201909Validator, FormatChecker
    data = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, f"{SCHEMA_FILE} is not the pinned 1EdTech schema"
    schema = json.loads(data)
    assert schema["$id"] == SCHEMA_URL
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value):
        if not isinstance(value, str):
            return True
        if "T" not in value.upper():
            raise ValueError(f"{value!r} has no time")
        datetime.fromisoformat(value)
        return True

    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=checker)


def clr_schema_problems(record: Any, limit: int = 10) -> list[str]:
    """``where: what`` for each place ``record`` breaks the official ClrCredential schema."""
    from jsonschema.exceptions import best_match
    out = []
    for err in sorted(_validator().iter_errors(record), key=lambda e: [str(p) for p in e.absolute_path])[:limit]:
        leaf = best_match([err]) if err.context else err
        out.append(f"{'/'.join(map(str, leaf.absolute_path)) or '(root)'}: {leaf.message[:300]}")
    return out


def assert_valid_clr(record: Any) -> None:
    problems = clr_schema_problems(record)
    assert not problems, "the record breaks the 1EdTech CLR 2.0 schema:\n" + "\n".join(problems)
    assert {"id": SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"} in record["credentialSchema"]
