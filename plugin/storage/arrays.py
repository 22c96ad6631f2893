"""Statements over many rows with one parameter per column (PostgreSQL arrays), for bulk work."""
from __future__ import annotations

from typing import Any

from sqlalchemy import any_, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def in_values(session: Session, column, values):
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``: one parameter instead of one
    per value (psycopg parses a statement with thousands of placeholders, SQLAlchemy renders them)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def insert_unnest(session: Session, table: str, arrays: dict[str, tuple[str, list]],
                  constants: dict[str, tuple[str, Any]] | None = None, *, suffix: str = "") -> Any:
    """PostgreSQL: ``INSERT INTO table (…) SELECT … FROM unnest(:a, :b, …) [suffix]``, one array
    parameter per column (``name -> (SQL type, values)``; a ``json`` column is sent as text) and
    one parameter per column that is the same on every row (``constants``). No statement with a
    placeholder per value to render and parse, as a multi-row ``INSERT`` has."""
    constants = constants or {}
    names = list(arrays)
    params: dict[str, Any] = {}
    unnest, select_list = [], []
    for i, name in enumerate(names):
        sql_type, values = arrays[name]
        params[f"a{i}"] = values
        unnest.append(f"CAST(:a{i} AS {'text' if sql_type == 'json' else sql_type}[])")
        select_list.append(f"u.c{i}::json" if sql_type == "json" else f"u.c{i}")
    for i, (name, (sql_type, value)) in enumerate(constants.items()):
        params[f"k{i}"] = value
        select_list.append(f"CAST(:k{i} AS {sql_type})")
    columns = ", ".join(f'"{c}"' for c in names + list(constants))
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    return session.execute(text(f"INSERT INTO {table} ({columns}) SELECT {', '.join(select_list)} "
                                f"FROM unnest({', '.join(unnest)}) AS u({aliases}) {suffix}"), params)
