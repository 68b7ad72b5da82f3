"""Engine, migrations and the Database service on real SQLite files and real PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import Database, alembic_config, create_engine, upgrade
from storage.errors import StorageError
from storage.schema import metadata


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _tables(connection):
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_matches_schema(empty_database_url):
    await upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(_tables)
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert tables == set(metadata.tables) | {"alembic_version"}
    # The chain is linear: one head, and an upgraded database is at it.
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_twice_is_a_no_op(empty_database_url):
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    async with Database(empty_database_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_concurrent_upgrades_do_not_collide(empty_database_url):
    await asyncio.gather(upgrade(empty_database_url), upgrade(empty_database_url))
    async with Database(empty_database_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_sqlite_pragmas_on_every_connection(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'bot.db'}"
    async with Database(url) as db:
        assert (tmp_path / "nested" / "dir" / "bot.db").exists()
        async with db.engine.connect() as first, db.engine.connect() as second:
            for conn in (first, second):
                pragmas = {
                    name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                    for name in (
                        "journal_mode",
                        "foreign_keys",
                        "busy_timeout",
                        "synchronous",
                        "secure_delete",
                    )
                }
                assert pragmas == {
                    "journal_mode": "wal",
                    "foreign_keys": 1,
                    "busy_timeout": 5000,
                    "synchronous": 1,  # NORMAL
                    "secure_delete": 1,
                }


async def test_sqlite_enforces_foreign_keys(tmp_path):
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as db:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO answers VALUES ('no-such-response', 'q', '')"))


async def test_database_lifecycle(database_url):
    db = Database(database_url)
    with pytest.raises(StorageError, match="not initialised"):
        _ = db.engine
    await db.initialize()
    await db.initialize()  # idempotent
    assert db.dialect_name in ("sqlite", "postgresql")
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    await db.close()
    await db.close()
    with pytest.raises(StorageError):
        _ = db.engine


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql+aiomysql://u@h/db", "unsupported database 'mysql'"),
        ("sqlite:///x.db", "sqlite+aiosqlite://"),
        ("postgresql://u@h/db", "postgresql+asyncpg://"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_urls_raise_storage_error(url, message):
    with pytest.raises(StorageError, match="DATABASE_URL") as info:
        Database(url)
    assert message in str(info.value)
    with pytest.raises(StorageError):
        create_engine(url)


def test_dialect_name_without_connecting():
    assert Database("sqlite+aiosqlite:///x.db").dialect_name == "sqlite"
    assert Database("postgresql+asyncpg://u@h/db").dialect_name == "postgresql"


def test_alembic_commands_work_without_a_passed_connection(tmp_path):
    """`alembic_config(url)` drives the packaged env directly (e.g. for new revisions)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert (tmp_path / "cli.db").exists()


def test_unusable_sqlite_path_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="DATABASE_URL: cannot create"):
        create_engine(f"sqlite+aiosqlite:///{blocker / 'sub' / 'bot.db'}")
    with pytest.raises(StorageError, match="DATABASE_URL: cannot open"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path}")  # a directory, not a file
