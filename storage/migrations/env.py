"""Alembic environment: runs on a connection handed over by `storage.db`, or on its own URL.

`storage.db.upgrade` passes an open sync-facade connection in `config.attributes`; run by
hand (`alembic_config(url)` with `alembic.command`), this opens an async engine itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from storage.db import check_foreign_keys, create_engine, sqlite_foreign_keys
from storage.schema import metadata

config = context.config


def _run_on(connection: Connection) -> None:
    """Run the migrations on one connection."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place: batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    """Open an engine for `url`, migrate, and dispose of it."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # batch mode drops and recreates tables: keys off (storage.db)
                await connection.run_sync(sqlite_foreign_keys, False)
            try:
                async with connection.begin():
                    await connection.run_sync(_run_on)
                    if sqlite:
                        await connection.run_sync(check_foreign_keys)
            finally:
                if sqlite:
                    await connection.run_sync(sqlite_foreign_keys, True)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    """Emit the migration SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if _connection is not None:
    _run_on(_connection)
elif context.is_offline_mode():
    _run_offline(config.get_main_option("sqlalchemy.url") or "")
else:
    asyncio.run(_run_with_own_engine(config.get_main_option("sqlalchemy.url") or ""))
