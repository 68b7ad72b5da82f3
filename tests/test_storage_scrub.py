"""The scrubber wipes a finished survey's session and drafts from the database's own files.

Read as raw bytes, the way someone copying the files would: SQLite's main file and its
write-ahead log; PostgreSQL's pages (pageinspect) and, where readable, its data files.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import anonymity
from storage.anonymity import SCRUBBED_TABLES, Scrubber, scrub_deleted_rows
from storage.sessions import start_session, submit
from storage.turns import move_session
from tests.privacy_bytes import draft_rows, pg_data_files, pg_raw_pages, session_rows, sqlite_files
from tests.storage_fixtures import NOW, SurveySetup

PERSON = "5c" * 32
QUESTIONS = ("scrub_alpha", "scrub_beta", "scrub_gamma")


async def _answered(setup: SurveySetup, pseudonym: str = PERSON) -> None:
    session = await start_session(
        setup.db.engine,
        pseudonym,
        setup.wave.id,
        "internal",
        setup.units["DINKES"].id,
        None,
        "id",
        "question",
        NOW,
    )
    for question in QUESTIONS:
        moved = await move_session(
            setup.db.engine, session, now=NOW, question_id=question, answer=(question, "4")
        )
        assert moved is not None
        session = moved


def _file(database_url: str) -> Path:
    return Path(make_url(database_url).database or "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_a_submitted_session_leaves_no_bytes_after_the_scrub(
    survey_setup: SurveySetup, database_url: str
) -> None:
    engine, file = survey_setup.db.engine, _file(database_url)
    await _answered(survey_setup)
    assert await submit(engine, PERSON, NOW + timedelta(minutes=4), date(2025, 5, 1))
    # secure_delete zeroed the rows in the newest page images; the older images of those
    # pages are still in the write-ahead log (or in the main file, if SQLite checkpointed).
    before = sqlite_files(file)
    assert draft_rows(before, PERSON, QUESTIONS) > 0
    assert session_rows(before, PERSON) > 0

    scrubber = Scrubber(engine, delay=0)
    scrubber.start()
    try:
        await scrubber.clean()
    finally:
        await scrubber.stop()
    after = sqlite_files(file)
    assert draft_rows(after, PERSON, QUESTIONS) == 0
    assert session_rows(after, PERSON) == 0
    assert _file(database_url).with_name(file.name + "-wal").stat().st_size == 0
    assert scrubber.scrubs >= 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_a_reader_holding_the_log_delays_the_scrub_until_it_lets_go(
    survey_setup: SurveySetup, database_url: str
) -> None:
    engine, file = survey_setup.db.engine, _file(database_url)
    await _answered(survey_setup)
    reader = sqlite3.connect(file, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM draft_answers").fetchone()  # a snapshot held
        assert await submit(engine, PERSON, NOW + timedelta(minutes=4), date(2025, 5, 1))
        assert await scrub_deleted_rows(engine) is False  # busy: the log cannot be cut yet
        scrubber = Scrubber(engine, delay=0, retry=0.01)
        scrubber.start()
        cleaned = asyncio.create_task(scrubber.clean())
        while scrubber.attempts < 2:  # it tried, found the reader, and tries again
            await asyncio.sleep(0.01)
        assert not cleaned.done()
        assert draft_rows(sqlite_files(file), PERSON, QUESTIONS) > 0
        reader.execute("COMMIT")
        await cleaned
        await scrubber.stop()
    finally:
        reader.close()
    assert draft_rows(sqlite_files(file), PERSON, QUESTIONS) == 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_a_submitted_session_leaves_no_dead_tuple_after_the_scrub(
    survey_setup: SurveySetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = survey_setup.db.engine
    async with engine.connect() as conn:
        try:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await conn.commit()
        except Exception as exc:  # not a superuser here
            pytest.skip(f"pageinspect is not available: {exc}")
    relations = [*SCRUBBED_TABLES, *(f"pk_{table}" for table in SCRUBBED_TABLES)]
    await _answered(survey_setup)
    async with engine.connect() as reader:
        # A report reading since before the submission: for its snapshot the deleted rows
        # still exist, and VACUUM FULL would copy them into the new files. The scrub waits.
        await reader.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        await reader.execute(text("SELECT count(*) FROM draft_answers"))
        assert await submit(engine, PERSON, NOW + timedelta(minutes=4), date(2025, 5, 1))
        monkeypatch.setattr(anonymity, "_HORIZON_WAIT_SECONDS", 0.1)
        assert await scrub_deleted_rows(engine) is False
        await reader.rollback()
    async with engine.connect() as conn:
        # A deleted row is a dead tuple, still in its page (and its index entry in the index).
        before = await pg_raw_pages(conn, relations)
    assert draft_rows(before, PERSON, QUESTIONS) > 0
    assert session_rows(before, PERSON) > 0

    # A transaction older than the deletes anywhere on the server (another test's migration)
    # makes a scrub wait and give up; the bot's scrubber then tries again, and so does this.
    deadline = asyncio.get_running_loop().time() + 120
    while not await scrub_deleted_rows(engine):
        assert asyncio.get_running_loop().time() < deadline, "the scrub never found a quiet moment"
    async with engine.connect() as conn:
        after = await pg_raw_pages(conn, relations)
        files = await pg_data_files(conn)
    assert draft_rows(after, PERSON, QUESTIONS) == 0
    assert session_rows(after, PERSON) == 0
    if files is not None:  # the server's own files, read here (a local server, as root)
        assert draft_rows(files, PERSON, QUESTIONS) == 0
        assert session_rows(files, PERSON) == 0
