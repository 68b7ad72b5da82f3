"""The few statements SQLite and PostgreSQL spell differently (upserts)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["insert_ignore", "prepared_upsert", "upsert", "upsert_add"]


Rows = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def _insert(conn: AsyncConnection | Connection, table: Table, values: Rows) -> Any:
    """Return the dialect's INSERT of one row or several (both have ON CONFLICT, under
    different classes)."""
    rows = dict(values) if isinstance(values, Mapping) else [dict(row) for row in values]
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).values(rows)
    return sqlite.insert(table).values(rows)


def upsert(
    conn: AsyncConnection | Connection,
    table: Table,
    values: Mapping[str, Any],
    key: Sequence[str],
    update: Sequence[str],
) -> Insert:
    """Return INSERT ... ON CONFLICT (key) DO UPDATE SET the `update` columns."""
    stmt = _insert(conn, table, values)
    result: Insert = stmt.on_conflict_do_update(
        index_elements=list(key), set_={name: stmt.excluded[name] for name in update}
    )
    return result


def insert_ignore(
    conn: AsyncConnection | Connection, table: Table, values: Rows, key: Sequence[str]
) -> Insert:
    """Return INSERT ... ON CONFLICT (key) DO NOTHING, of one row or several."""
    result: Insert = _insert(conn, table, values).on_conflict_do_nothing(index_elements=list(key))
    return result


@functools.cache
def prepared_upsert(
    dialect: str, table: Table, key: tuple[str, ...], update: tuple[str, ...]
) -> Insert:
    """Return an upsert built once per dialect, its values given at execution."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    result: Insert = stmt.on_conflict_do_update(
        index_elements=list(key), set_={name: stmt.excluded[name] for name in update}
    )
    return result


def upsert_add(
    conn: AsyncConnection | Connection,
    table: Table,
    rows: Rows,
    key: Sequence[str],
    column: str | Sequence[str],
) -> Insert:
    """Return INSERT ... ON CONFLICT (key) DO UPDATE SET column = column + the new value
    (for each of several columns when given a sequence)."""
    stmt = _insert(conn, table, rows)
    columns = [column] if isinstance(column, str) else list(column)
    result: Insert = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + stmt.excluded[name] for name in columns},
    )
    return result
