"""Storage fixtures: a migrated `db` on a real SQLite file and on a real PostgreSQL database.

PostgreSQL tests get a throwaway database per test module (`spibot_test_<random>`), emptied
before each test; set SPIBOT_TEST_POSTGRES_URL to use another server. When the server is
unreachable the postgres variants are skipped with the reason shown.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.questionnaires import save_questionnaire
from storage.respondents import SurveySession
from storage.schema import metadata
from storage.turns import move_session
from storage.units import Unit, import_units, list_units
from storage.waves import Wave, open_wave

__all__ = [
    "SurveySetup",
    "database_url",
    "db",
    "empty_database",
    "empty_database_url",
    "fresh_postgres_url",
    "make_survey_setup",
    "postgres_module_url",
    "record_answers",
    "survey_setup",
]

POSTGRES_URL_ENV = "SPIBOT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _server_url() -> str:
    """Return the SQLAlchemy URL of the PostgreSQL maintenance database."""
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


def _run(coro: Any) -> Any:
    """Run a coroutine to completion on a private loop in a worker thread."""
    # A thread keeps this loop apart from the one pytest-asyncio gives the tests.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _admin(sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the maintenance database."""
    url = make_url(_server_url())
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        database=url.database,
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class _ThrowawayDatabase:
    """A PostgreSQL database created for tests and dropped afterwards."""

    url: str
    name: str

    @classmethod
    def create(cls) -> _ThrowawayDatabase:
        """Create a database with a random name, or skip when the server is unreachable."""
        server = make_url(_server_url())
        name = f"spibot_test_{secrets.token_hex(6)}"
        try:
            _run(_admin(f'CREATE DATABASE "{name}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            where = f"{server.host or '127.0.0.1'}:{server.port or 5432}"
            pytest.skip(f"PostgreSQL not reachable at {where}: {exc}")
        url = server.set(database=name).render_as_string(hide_password=False)
        return cls(url=url, name=name)

    def drop(self) -> None:
        """Drop the database, closing any connection still open to it."""
        _run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """Return the URL of a PostgreSQL database shared by one test module."""
    database = _ThrowawayDatabase.create()
    yield database.url
    database.drop()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """Return the URL of a PostgreSQL database of this test's own (dropped afterwards)."""
    database = _ThrowawayDatabase.create()
    yield database.url
    database.drop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Return a database URL: a SQLite file in tmp_path, or the module's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'spibot.db'}"
    url: str = request.getfixturevalue("postgres_module_url")
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Return the URL of a database with no tables at all (fresh per test)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'spibot.db'}"
        return
    database = _ThrowawayDatabase.create()
    yield database.url
    database.drop()


async def _empty_tables(database: Database) -> None:
    """Delete every row (PostgreSQL databases are shared by the tests of a module)."""
    if database.dialect_name != "postgresql":
        return
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def empty_database(url: str) -> None:
    """Migrate a database and delete every row in it (a shared PostgreSQL test database)."""
    database = Database(url)
    await database.initialize()
    try:
        await _empty_tables(database)
    finally:
        await database.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Yield a migrated, empty Database on SQLite and on PostgreSQL."""
    database = Database(database_url)
    await database.initialize()
    try:
        await _empty_tables(database)
        yield database
    finally:
        await database.close()


@dataclass(frozen=True)
class SurveySetup:
    """An open wave with a questionnaire per group, over three units."""

    db: Database
    wave: Wave
    units: dict[str, Unit]


@pytest.fixture
async def survey_setup(db: Database) -> SurveySetup:
    """Create units DINKES (opd) with PKM-01 (service) and KEC-01, and open wave 2025-1."""
    return await make_survey_setup(db)


async def make_survey_setup(db: Database) -> SurveySetup:
    """What `survey_setup` creates, on any database."""
    await import_units(
        db.engine,
        [
            {"code": "PKM-01", "name": "Puskesmas 1", "kind": "service", "parent": "DINKES"},
            {"code": "DINKES", "name": "Dinas Kesehatan", "kind": "opd", "parent": ""},
            {"code": "KEC-01", "name": "Kecamatan Satu", "kind": "kecamatan", "parent": None},
        ],
    )
    ids = {}
    for grp in ("internal", "external", "expert"):
        stored = await save_questionnaire(db.engine, grp, 1, grp, f"key: {grp}\n", NOW)
        ids[grp] = stored.id
    wave = await open_wave(db.engine, "2025-1", ids, NOW)
    units = {unit.code: unit for unit in await list_units(db.engine)}
    return SurveySetup(db=db, wave=wave, units=units)


async def record_answers(
    database: Database, session: SurveySession, values: dict[str, str]
) -> SurveySession:
    """Answer questions the way the bot does (one session move per answer); return the session."""
    for question_id, value in values.items():
        moved = await move_session(
            database.engine, session, now=session.updated_at, answer=(question_id, value)
        )
        assert moved is not None
        session = moved
    return session
