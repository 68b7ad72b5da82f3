"""One-hop transactions on SQLite: on the event loop when the file is free, in a thread when
another process holds it, and the write-ahead log checkpointed off the loop; on PostgreSQL,
driver-level calls that never put a broken or busy connection back in the pool."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from storage.answers import draft_answers
from storage.db import Database
from storage.errors import SessionExists
from storage.onehop import on_driver, run_read
from storage.sessions import get_session, start_session
from storage.turns import load_turn, move_session
from tests.storage_fixtures import NOW, SurveySetup, make_survey_setup

ALICE = "alice-pseudonym"


@pytest.fixture
async def sqlite_setup(tmp_path: Path) -> Any:
    """A SurveySetup on a SQLite file (the one-hop paths are SQLite's own)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'spibot.db'}")
    await database.initialize()
    try:
        yield await make_survey_setup(database), tmp_path / "spibot.db"
    finally:
        await database.close()


async def _started(setup: SurveySetup) -> Any:
    return await start_session(
        setup.db.engine,
        ALICE,
        setup.wave.id,
        "external",
        setup.units["PKM-01"].id,
        None,
        "id",
        "question",
        NOW,
    )


async def test_a_write_waits_in_a_thread_while_another_process_writes(
    sqlite_setup: tuple[SurveySetup, Path],
) -> None:
    setup, file = sqlite_setup
    session = await _started(setup)
    other = sqlite3.connect(file, isolation_level=None)  # another process, as the CLI is
    other.execute("BEGIN IMMEDIATE")
    try:
        move = asyncio.create_task(
            move_session(setup.db.engine, session, now=NOW, answer=("q1", "3"))
        )
        # The loop is not blocked meanwhile: reads go on, the move waits for the lock.
        for _ in range(5):
            await asyncio.sleep(0.02)
            assert (await get_session(setup.db.engine, ALICE)) is not None
        assert not move.done()
    finally:
        other.execute("COMMIT")
        other.close()
    moved = await asyncio.wait_for(move, 5)
    assert moved is not None
    assert (await load_turn(setup.db.engine, ALICE)).answers == {"q1": "3"}


async def test_a_domain_error_is_not_retried_in_a_thread(
    sqlite_setup: tuple[SurveySetup, Path],
) -> None:
    setup, _ = sqlite_setup
    await _started(setup)
    with pytest.raises(SessionExists):
        await _started(setup)


async def test_the_write_ahead_log_is_checkpointed_and_stays_small(
    sqlite_setup: tuple[SurveySetup, Path],
) -> None:
    setup, file = sqlite_setup
    session = await _started(setup)
    for number in range(1200):
        moved = await move_session(
            setup.db.engine, session, now=NOW, answer=(f"q{number % 40}", "x" * 200)
        )
        assert moved is not None
        session = moved
        await asyncio.sleep(0)  # between taps the bot waits for Telegram: tasks get to run
    await asyncio.sleep(0.2)  # the last checkpoint runs in a thread
    wal = Path(f"{file}-wal")
    # Without checkpoints the log grows by ~4 KB a commit (5 MB here); with them it is
    # started over every few hundred commits.
    assert wal.stat().st_size < 2 * 1024 * 1024
    stored = await run_read(
        setup.db.engine, lambda conn: conn.execute(select(draft_answers.c.question_id)).all()
    )
    assert len(stored) == 40


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_connection_that_died_under_a_driver_call_is_not_reused(
    survey_setup: SurveySetup,
) -> None:
    engine = survey_setup.db.engine
    first = await on_driver(engine, lambda db: db.fetchval("SELECT pg_backend_pid()"))
    with pytest.raises(Exception, match=r"terminat"):  # the server cuts it mid-statement
        await on_driver(engine, lambda db: db.fetchval("SELECT pg_terminate_backend($1)", first))
    # The pool hands out live connections only, and the next tap works.
    after = await on_driver(engine, lambda db: db.fetchval("SELECT pg_backend_pid()"))
    assert after != first
    session = await _started(survey_setup)
    assert (await load_turn(engine, ALICE)).session == session


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_driver_transaction_cancelled_midway_leaves_no_transaction_open(
    survey_setup: SurveySetup,
) -> None:
    engine = survey_setup.db.engine
    started = asyncio.Event()

    async def slow(db: Any) -> None:
        async with db.transaction():
            await db.execute("UPDATE waves SET name = name")  # holds the wave rows
            started.set()
            await db.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(on_driver(engine, slow))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Nothing of it holds on: the rows are free, and every pooled connection is idle.
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
        await conn.execute(text("UPDATE waves SET name = name"))
    states = await on_driver(
        engine,
        lambda db: db.fetch(
            "SELECT state FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ),
    )
    assert all(row["state"] != "idle in transaction" for row in states)
