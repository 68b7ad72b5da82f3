"""One-hop transactions on SQLite: on the event loop when the file is free, in a thread when
another process holds it, and the write-ahead log checkpointed off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage import Database, get_session, load_turn, move_session, start_session
from storage.errors import SessionExists
from storage.onehop import run_read
from storage.schema import draft_answers
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
