"""Logged failures keep their traceback but never the stored values a library quotes.

A database error's text carries what the statement touched: SQLAlchemy appends the
parameters, PostgreSQL's DETAIL names the conflicting key ("Key (pseudonym)=(…) already
exists"). Such a failure is logged through `exc_info` by the error handler and the scheduler,
so the log would hold a pseudonym or an answer beside the time it failed (docs/privacy.md).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli.common import LIBRARIES_WITH_CONTENT_IN_DEBUG, WITHHELD, configure_logging

SECRET = "pseudonym-7f3a9c-and-an-answer"


@pytest.fixture(params=["text", "json"])
def log_stream(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Log as the bot does (`LOG_FORMAT` text or json), into a string."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", request.param)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in LIBRARIES_WITH_CONTENT_IN_DEBUG:
            logging.getLogger(name).setLevel(logging.NOTSET)


async def _duplicate_key_error(url: str) -> BaseException:
    """Return the real error a database raises on a duplicate key holding `SECRET`."""
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    table = sa.Table("held", sa.MetaData(), sa.Column("pseudonym", sa.Text, primary_key=True))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(table.insert().values(pseudonym=SECRET))
        try:
            async with engine.begin() as conn:
                await conn.execute(table.insert().values(pseudonym=SECRET))
        except sa.exc.IntegrityError as exc:
            return exc
    finally:
        await engine.dispose()
    raise AssertionError("the duplicate was accepted")


async def test_a_database_error_is_logged_without_the_values_it_quotes(
    empty_database_url: str, log_stream: io.StringIO
) -> None:
    error = await _duplicate_key_error(empty_database_url)
    assert SECRET in str(error)  # what the library itself would have written
    try:
        raise RuntimeError("the handler failed") from error  # a wrapper of ours
    except RuntimeError:
        logging.getLogger("handlers.common").exception("handler failed on update 7")
    logged = log_stream.getvalue()
    assert SECRET not in logged
    assert WITHHELD in logged
    assert "IntegrityError" in logged  # which failure it was, and where, stay readable
    assert "test_log_errors.py" in logged
    assert "the direct cause" in logged
    if logged.startswith("{"):
        assert json.loads(logged)["error"] == "RuntimeError"


def test_other_failures_keep_their_message(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("wave 2025-1 is closed")
    except ValueError:
        logging.getLogger("spibot.test").exception("failed")
    logged = log_stream.getvalue()
    assert "wave 2025-1 is closed" in logged
    assert WITHHELD not in logged
