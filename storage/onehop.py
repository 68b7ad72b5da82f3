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

The respondent's hot transactions (`storage.tap_sqlite`, `storage.tap_postgres`) skip
SQLAlchemy's execution layer as well: `run_read_driver` and `run_write_driver` hand their
work a `sqlite3` connection from the same pools (on the loop, one taken once and kept; the
same fallback to a thread), and `on_driver` hands it asyncpg's connection from the engine's
pool.

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
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar, cast

from sqlalchemy import Connection, Engine, PoolProxiedConnection, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from storage.db import (
    WRITE_OPTION,
    on_sqlite_begin,
    on_sqlite_connect,
    read_connection,
    renew_after_disconnect,
    sqlite_file,
    sqlite_write_lock,
    write_transaction,
)

__all__ = ["on_driver", "run_read", "run_read_driver", "run_write", "run_write_driver"]

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


def _busy(error: BaseException | None) -> bool:
    """Tell whether SQLite refused (`sqlite3.OperationalError`, or SQLAlchemy's wrapping of
    it) because another connection holds the database."""
    if isinstance(error, OperationalError):
        error = error.orig
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


class _SqliteWorkers:
    """Synchronous engines on the same SQLite file: the event loop's own, and the threads'."""

    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite")
        self.engine: Engine = create_sync_engine(
            url, hide_parameters=True, pool_size=_READ_THREADS + 1, max_overflow=0
        )
        # Two connections on the loop: one kept by the driver-level calls, one for the rest.
        self.inline: Engine = create_sync_engine(
            url, hide_parameters=True, pool_size=2, max_overflow=0
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
        self._held: PoolProxiedConnection | None = None

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

    def read_driver(self, engine: Engine, work: Callable[[sqlite3.Connection], T]) -> T:
        if engine is self.inline:
            return work(self._loop_connection())
        pooled = engine.raw_connection()
        try:
            return work(cast(sqlite3.Connection, pooled.driver_connection))
        finally:
            pooled.close()

    def write_driver(self, engine: Engine, work: Callable[[sqlite3.Connection], T]) -> T:
        if engine is self.inline:
            return _immediate(self._loop_connection(), work)
        pooled = engine.raw_connection()
        try:
            return _immediate(cast(sqlite3.Connection, pooled.driver_connection), work)
        finally:
            pooled.close()

    def _loop_connection(self) -> sqlite3.Connection:
        """The event loop's driver connection: taken from `inline`'s pool once and kept
        (in a busy bot, a checkout and return per call cost more than a tap's read)."""
        if self._held is None:
            self._held = self.inline.raw_connection()
        return cast(sqlite3.Connection, self._held.driver_connection)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        return await self._read(self.read, work)

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Write (the caller holds the in-process write lock)."""
        return await self._write(self.write, work)

    async def _read(self, how: Callable[[Engine, Callable[[Any], T]], T], work: Any) -> T:
        try:
            return how(self.inline, work)
        except (OperationalError, sqlite3.OperationalError) as exc:
            if not _busy(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.reads, how, self.engine, work)

    async def _write(self, how: Callable[[Engine, Callable[[Any], T]], T], work: Any) -> T:
        try:
            result = how(self.inline, work)
        except (OperationalError, sqlite3.OperationalError) as exc:
            if not _busy(exc):
                raise
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.writes, how, self.engine, work)
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
        if self._held is not None:
            self._held.close()
        self.engine.dispose()
        self.inline.dispose()


def _immediate(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on `db` between BEGIN IMMEDIATE and COMMIT; roll back if it raises."""
    db.execute("BEGIN IMMEDIATE")  # as on_sqlite_begin does for a write
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # some errors (a full disk) end it on their own
            db.execute("ROLLBACK")
        raise
    return result


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


async def run_read_driver(engine: AsyncEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the `sqlite3` connection of a SQLite file, in autocommit: one statement
    reads one consistent state; a read of several statements begins its own transaction."""
    workers = _workers(engine)
    return await workers._read(workers.read_driver, work)


async def run_write_driver(engine: AsyncEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the `sqlite3` connection of a SQLite file between BEGIN IMMEDIATE and
    COMMIT (rolled back if it raises), under the process's write lock, as `run_write`."""
    workers = _workers(engine)
    async with sqlite_write_lock(engine):
        return await workers._write(workers.write_driver, work)


def _half_read_cut() -> type[BaseException]:
    """What asyncpg raises when the server's goodbye reached an idle connection before its
    socket closed (see `storage.updates`); imported on first use, as asyncpg is."""
    import asyncpg

    return asyncpg.InternalClientError


async def on_driver(engine: AsyncEngine, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work` on asyncpg's connection from the engine's pool (checked out as any other:
    its liveness check applies), in autocommit; `work` opens a transaction if it needs one.

    A connection left unusable (closed under it, or still in a transaction after a cancel)
    is thrown away instead of going back to the pool.
    """
    pooled = await engine.raw_connection()
    driver: Any = pooled.driver_connection  # asyncpg.Connection
    try:
        return await work(driver)
    except BaseException as exc:
        if driver.is_closed() or isinstance(exc, _half_read_cut()):
            # Cut: so may every connection as old as it be.
            await greenlet_spawn(renew_after_disconnect, engine, pooled, exc)
        elif driver.is_in_transaction():  # a cancel left it inside a transaction
            await greenlet_spawn(pooled.invalidate)
        raise
    finally:
        # In a greenlet: SQLAlchemy's reset on return may await the driver.
        await greenlet_spawn(pooled.close)
