"""Whole transactions in one hop: the hot path of a survey tap, without a round trip per call.

Through aiosqlite every cursor call is a trip to the connection's thread and back (a queue,
a thread switch and a wake-up of the event loop); one survey tap made about 35 of them, and
they were a third of the bot's CPU per tap. Here a transaction is a plain synchronous
function of a SQLAlchemy `Connection` (SQL only, no other side effects), and it runs whole:

- on SQLite, first right here on the event loop: a person's few rows take tens of
  microseconds, less than a hand-over to a thread. It may never wait there, so that
  connection has no busy timeout and never checkpoints the write-ahead log (a worker thread
  does, every `_CHECKPOINT_EVERY` commits); writes still take the in-process write lock
  first, so writes stay serialised in the process and "database is locked" cannot happen
  between them. Only when another process holds the database (the CLI writing, a backup)
  does the transaction move to a worker thread, which waits for it as long as the busy
  timeout allows: reads on a small pool of threads, writes on one;
- on PostgreSQL, through `AsyncConnection.run_sync` on the async engine (asyncpg is
  natively async; there is no thread to save).

The synchronous engines and threads are made on first use and go away when the async engine
is disposed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import (
    WRITE_OPTION,
    on_sqlite_begin,
    on_sqlite_connect,
    read_connection,
    sqlite_file,
    sqlite_write_lock,
    write_transaction,
)

__all__ = ["run_read", "run_write"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Reads are short (one person's rows); two threads let one read overlap a write's commit.
_READ_THREADS: Final = 2
# The loop's own connection leaves checkpoints to a thread: one every this many commits.
_CHECKPOINT_EVERY: Final = 200


def _never_wait(dbapi_connection: Any, _record: object) -> None:
    """The event loop's connection: fail at once when busy, and never checkpoint."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()


def _busy(error: OperationalError) -> bool:
    """Tell whether SQLite refused because another connection holds the database."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error.orig)


class _SqliteWorkers:
    """Synchronous engines on the same SQLite file: the event loop's own, and the threads'."""

    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite")
        self.engine: Engine = create_sync_engine(
            url, hide_parameters=True, pool_size=_READ_THREADS + 1, max_overflow=0
        )
        self.inline: Engine = create_sync_engine(
            url, hide_parameters=True, pool_size=1, max_overflow=0
        )
        for sync_engine in (self.engine, self.inline):
            event.listen(sync_engine, "connect", on_sqlite_connect)
            event.listen(sync_engine, "begin", on_sqlite_begin)
        event.listen(self.inline, "connect", _never_wait)  # after on_sqlite_connect's pragmas
        self.reads = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="spibot-sqlite-read")
        self.writes = ThreadPoolExecutor(1, thread_name_prefix="spibot-sqlite-write")
        self._lock = sqlite_write_lock(engine)
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None

    @staticmethod
    def read(engine: Engine, work: Callable[[Connection], T]) -> T:
        with engine.connect() as connection, connection.begin():
            return work(connection)

    @staticmethod
    def write(engine: Engine, work: Callable[[Connection], T]) -> T:
        with engine.connect() as connection:
            connection = connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                return work(connection)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        try:
            return self.read(self.inline, work)
        except OperationalError as exc:
            if not _busy(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.reads, self.read, self.engine, work)

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Write (the caller holds the in-process write lock)."""
        try:
            result = self.write(self.inline, work)
        except OperationalError as exc:
            if not _busy(exc):
                raise
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.writes, self.write, self.engine, work)
        self._commits += 1
        if self._commits % _CHECKPOINT_EVERY == 0:
            self._start_checkpoint()
        return result

    def _start_checkpoint(self) -> None:
        """Copy the write-ahead log into the database soon, in a thread."""
        if self._checkpoint is None or self._checkpoint.done():
            self._checkpoint = asyncio.get_running_loop().create_task(self._run_checkpoint())
            self._checkpoint.add_done_callback(_log_failure)

    async def _run_checkpoint(self) -> None:
        # Under the write lock: with no write in between, the whole log is copied, and the
        # next write starts the log over from its beginning instead of making it longer.
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(self.writes, self._checkpoint_now)

    def _checkpoint_now(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        # Called from dispose(): the bot is stopping, nothing new is submitted.
        self.reads.shutdown(wait=True)
        self.writes.shutdown(wait=True)
        self.engine.dispose()
        self.inline.dispose()


def _log_failure(future: asyncio.Task[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("WAL checkpoint failed: %s", type(future.exception()).__name__)


_WORKERS: weakref.WeakKeyDictionary[AsyncEngine, _SqliteWorkers] = weakref.WeakKeyDictionary()
_CREATING: Final = threading.Lock()


def _workers(engine: AsyncEngine) -> _SqliteWorkers:
    workers = _WORKERS.get(engine)
    if workers is None:
        with _CREATING:
            workers = _WORKERS.get(engine)
            if workers is None:
                workers = _WORKERS[engine] = _SqliteWorkers(engine)
                event.listen(
                    engine.sync_engine, "engine_disposed", functools.partial(_dispose, engine)
                )
    return workers


def _dispose(engine: AsyncEngine, _sync_engine: Any) -> None:
    workers = _WORKERS.pop(engine, None)
    if workers is not None:
        workers.close()


def _local_file(engine: AsyncEngine) -> bool:
    """Tell whether `engine` is a SQLite file a second (synchronous) engine can open too."""
    return engine.dialect.name == "sqlite" and sqlite_file(engine.url) is not None


async def run_read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work` in one read transaction (rolled back at the end) and return its result."""
    if not _local_file(engine):
        async with read_connection(engine) as connection:
            return await connection.run_sync(work)
    return await _workers(engine).run_read(work)


async def run_write(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work` in one write transaction, committed when it returns, rolled back if it raises."""
    if not _local_file(engine):
        async with write_transaction(engine) as connection:
            return await connection.run_sync(work)
    workers = _workers(engine)
    async with sqlite_write_lock(engine):
        return await workers.run_write(work)
