"""Backup and restore of the whole database, sealed keys included, never the KEK.

A backup is one ZIP file: ``manifest.json`` (format, schema revision, when, which KEK ids
sealed its secrets, rows per table) and ``tables/<table>.jsonl``, one JSON row per line,
read in one consistent snapshot (a REPEATABLE READ transaction on PostgreSQL, one
transaction on SQLite). Private keys and platform secrets are in it only as they are
stored, sealed with the key-encryption key; the KEK itself, ``MICROCRED_SECRET_KEY`` and
the instance folder are not: a backup restores only where the same KEK is configured.

Why not ``pg_dump``: the same file restores into PostgreSQL or SQLite (a trial on SQLite
moves to PostgreSQL), the tool checks the KEK before it writes anything, and the
per-status-list position sequences of PostgreSQL travel as each list's next position.

Values that JSON cannot hold are tagged: ``{"$dt": iso}``, ``{"$date": iso}``,
``{"$b64": …}`` (bytes), ``{"$dec": "…"}``, and every dict (a JSON column) is wrapped as
``{"$json": …}`` so none is mistaken for a tag. No Flask here.
"""
from __future__ import annotations

import base64
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import MetaData, func, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from plugin import __version__
from plugin.storage import migrate
from plugin.storage.secrets import CANARY, CANARY_CONTEXT, KeyEncryptionError, SecretBox

FORMAT = "microcred-backup/1"
BATCH = 500
STATUS_SEQUENCE_PREFIX = "status_list_pos_"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


@dataclass
class Summary:
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    kek_ids: list[str] = field(default_factory=list)
    upgraded_to: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --------------------------------------------------------------------------- values
def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dict):
        return {"$json": value}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "$dt":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$b64":
            return base64.b64decode(inner)
        if tag == "$dec":
            return Decimal(inner)
        if tag == "$json":
            return inner
    return value


def _tables(conn: Connection) -> list:
    """The database's own tables in foreign-key order (those of the revision it is at)."""
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _status_positions(conn: Connection) -> dict[int, int]:
    """PostgreSQL: each status list's next position lives in its own sequence."""
    positions = {}
    names = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE sequencename LIKE :p"),
                         {"p": STATUS_SEQUENCE_PREFIX + "%"}).scalars().all()
    for name in names:
        last, called = conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
        positions[int(name[len(STATUS_SEQUENCE_PREFIX):])] = int(last) + 1 if called else int(last)
    return positions


# --------------------------------------------------------------------------- backup
def backup(engine: Engine, path: Path) -> Summary:
    """Write every table of the database to ``path`` (a new file)."""
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new file name (a backup never overwrites one)")
    revision = migrate.current_revision(engine)
    if revision is None:
        raise BackupError("the database is empty (no schema): nothing to back up")
    summary = Summary(revision=revision)
    tmp = path.with_name(path.name + ".part")
    conn = engine.connect()
    try:
        if _postgres(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin(), zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            if _postgres(conn):
                conn.execute(text("SET TRANSACTION READ ONLY"))
            positions = _status_positions(conn) if _postgres(conn) else {}
            for table in _tables(conn):
                count = 0
                with archive.open(f"tables/{table.name}.jsonl", "w") as out:
                    for row in conn.execute(select(table)).mappings():
                        row = dict(row)
                        if table.name == "status_list" and row.get("id") in positions:
                            row["next_position"] = positions[row["id"]]
                        out.write((json.dumps({k: _encode(v) for k, v in row.items()}) + "\n").encode())
                        count += 1
                summary.tables[table.name] = count
                if table.name == "kek_check":
                    summary.kek_ids = sorted(conn.execute(select(table.c.kek_id)).scalars())
            manifest = {"format": FORMAT, "revision": revision, "microcred": __version__,
                        "dialect": conn.dialect.name, "created_at": datetime.now(timezone.utc).isoformat(),
                        "kek_ids": summary.kek_ids, "tables": summary.tables,
                        "note": "sealed secrets only: restore where the same MICROCRED_KEK is configured"}
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        tmp.rename(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    return summary


# --------------------------------------------------------------------------- restore
def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise BackupError("this file is not a microcred backup (no manifest.json)") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r} (this microcred reads {FORMAT})")
    return manifest


def _rows(archive: zipfile.ZipFile, table: str) -> Iterator[dict[str, Any]]:
    try:
        handle = archive.open(f"tables/{table}.jsonl")
    except KeyError:
        return
    with handle:
        for line in handle:
            if line.strip():
                yield {k: _decode(v) for k, v in json.loads(line).items()}


def check_kek(archive: zipfile.ZipFile, keks: list[str]) -> None:
    """The configured KEK must open every canary of the backup, before anything is written."""
    try:
        box = SecretBox(keks)
    except KeyEncryptionError as exc:
        raise BackupError(str(exc)) from None
    checks = list(_rows(archive, "kek_check"))
    missing = sorted({c["kek_id"] for c in checks} - set(box.ids))
    if missing:
        raise BackupError(f"the secrets in this backup are sealed with key-encryption key id {', '.join(missing)}, "
                          f"which MICROCRED_KEK does not hold (configured: {', '.join(box.ids)}): configure the KEK "
                          "that was in use when the backup was made")
    for check in checks:
        try:
            ok = box.open(check["sealed"], CANARY_CONTEXT) == CANARY
        except KeyEncryptionError:
            ok = False
        if not ok:
            raise BackupError(f"key-encryption key {check['kek_id']} does not open this backup's check value: "
                              "MICROCRED_KEK is wrong or the backup was altered")


# What a new installation writes by itself on its first start (its KEK canary, a tool key,
# short-lived state): a database holding only these counts as empty.
SELF_MADE = {"kek_check", "tool_key", "key_value", "one_time_token"}


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not any(conn.execute(select(func.count()).select_from(t)).scalar()
                       for t in _tables(conn) if t.name not in SELF_MADE)


def _drop_everything(engine: Engine) -> None:
    with engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        meta.drop_all(conn)
        if _postgres(conn):
            for name in conn.execute(text("SELECT sequencename FROM pg_sequences WHERE sequencename LIKE :p"),
                                     {"p": STATUS_SEQUENCE_PREFIX + "%"}).scalars():
                conn.execute(text(f'DROP SEQUENCE IF EXISTS "{name}"'))


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def restore(engine: Engine, url: str, path: Path, keks: list[str], *, force: bool = False) -> Summary:
    """Restore ``path`` into the database of ``engine``; then upgrade it to this version's schema."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BackupError(f"{path} is not a microcred backup (not a ZIP file)") from None
    with archive:
        manifest = read_manifest(archive)
        revision = manifest["revision"]
        if revision not in _known_revisions():
            raise BackupError(f"this backup's schema revision {revision!r} is unknown to microcred {__version__}: "
                              "restore it with the version that made it (or a newer one)")
        check_kek(archive, keks)
        if not is_empty(engine):
            if not force:
                raise BackupError("the database is not empty: restoring would replace everything in it; "
                                  "use --force to do so, or point DATABASE_URL at an empty database")
        _drop_everything(engine)
        migrate.upgrade(url, revision, engine=engine)
        summary = Summary(revision=revision, kek_ids=manifest.get("kek_ids") or [])
        with engine.begin() as conn:
            for table in _tables(conn):
                columns = {c.name for c in table.columns}
                batch, count = [], 0
                for row in _rows(archive, table.name):
                    batch.append({k: v for k, v in row.items() if k in columns})
                    if len(batch) >= BATCH:
                        conn.execute(insert(table), batch)
                        count += len(batch)
                        batch = []
                if batch:
                    conn.execute(insert(table), batch)
                    count += len(batch)
                summary.tables[table.name] = count
            if _postgres(conn):
                _reset_sequences(conn)
        head = migrate.head_revision()
        if revision != head:
            migrate.upgrade(url, "head", engine=engine)
            summary.upgraded_to = head
    return summary


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: identity sequences continue after the restored ids; each status list
    gets its position sequence back at its next position."""
    for table in _tables(conn):
        for column in inspect(conn).get_columns(table.name):
            if column.get("autoincrement") is True or column.get("identity") or str(
                    column.get("default") or "").startswith("nextval("):
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": table.name, "c": column["name"]}).scalar()
                if seq:
                    top = conn.execute(text(f'SELECT max("{column["name"]}") FROM "{table.name}"')).scalar()
                    conn.execute(text("SELECT setval(:s, :v, :called)"),
                                 {"s": seq, "v": top if top is not None else 1, "called": top is not None})
    for list_id, position in conn.execute(text("SELECT id, next_position FROM status_list")).all():
        conn.execute(text(f"CREATE SEQUENCE {STATUS_SEQUENCE_PREFIX}{int(list_id)} MINVALUE 0 "
                          f"START WITH {int(position or 0)}"))
