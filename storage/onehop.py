"""Whole transactions in one hop: the hot path of a survey tap, without a round trip per call.

Through aiosqlite every cursor call is a trip to the connection's thread and back (a queue,
a thread switch and a wake-up of the event loop); one survey tap made about 35 of them, and
they were a third of the bot's CPU per tap. Here a transaction is a plain synchronous
function of a SQLAlchemy `Connection`, and it runs whole:

- on SQLite, in a worker thread on a synchronous engine (the standard `sqlite3` driver, the
  same pragmas and BEGIN hook as the async engine): reads on a small pool of threads, writes
  on one thread and under the same in-process write lock as every other writer, so writes
  stay serialised in the process and "database is locked" cannot happen between them;
- on PostgreSQL, through `AsyncConnection.run_sync` on the async engine (asyncpg is
  natively async; there is no thread to save).

The worker threads and the synchronous engine are made on first use and go away when the
async engine is disposed.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
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

# Reads are short (one person's rows); two threads let one read overlap a write's commit.
_READ_THREADS: Final = 2


class _SqliteWorkers:
    """A synchronous engine on the same SQLite file, with its read and write threads."""

    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite")
        self.engine: Engine = create_sync_engine(
            url, hide_parameters=True, pool_size=_READ_THREADS + 1, max_overflow=0
        )
        event.listen(self.engine, "connect", on_sqlite_connect)
        event.listen(self.engine, "begin", on_sqlite_begin)
        self.reads = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="spibot-sqlite-read")
        self.writes = ThreadPoolExecutor(1, thread_name_prefix="spibot-sqlite-write")

    def read(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection, connection.begin():
            return work(connection)

    def write(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                return work(connection)

    def close(self) -> None:
        # Called from dispose(): the bot is stopping, nothing new is submitted.
        self.reads.shutdown(wait=True)
        self.writes.shutdown(wait=True)
        self.engine.dispose()


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


def _threaded(engine: AsyncEngine) -> bool:
    """Tell whether `engine` is a SQLite file a second (synchronous) engine can open too."""
    return engine.dialect.name == "sqlite" and sqlite_file(engine.url) is not None


async def run_read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work` in one read transaction (rolled back at the end) and return its result."""
    if not _threaded(engine):
        async with read_connection(engine) as connection:
            return await connection.run_sync(work)
    workers = _workers(engine)
    return await asyncio.get_running_loop().run_in_executor(workers.reads, workers.read, work)


async def run_write(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work` in one write transaction, committed when it returns, rolled back if it raises."""
    if not _threaded(engine):
        async with write_transaction(engine) as connection:
            return await connection.run_sync(work)
    workers = _workers(engine)
    async with sqlite_write_lock(engine):
        return await asyncio.get_running_loop().run_in_executor(workers.writes, workers.write, work)
