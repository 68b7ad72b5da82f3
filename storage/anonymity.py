"""Files that keep no old link: deleted survey state wiped, heaps rewritten in key order.

**Wiping what a survey left behind (issue 20).** Submitting, cancelling or expiring a survey
deletes its session and draft answers, the only rows that tied a pseudonym (and through an
invitation, a name) to answers. A delete alone leaves the bytes in the files: in SQLite the
write-ahead log keeps every page image written while the session existed (`secure_delete`
zeroes the page in the database, not its older copies in the log), and in PostgreSQL a
deleted row stays in its heap page as a dead tuple until a vacuum, and plain VACUUM does not
zero it. So after each such delete `survey_state_deleted` wakes the `Scrubber`, a task of the
running bot, which soon after (SCRUB_DELAY_SECONDS, retried while something holds the
database) runs `scrub_deleted_rows`: on SQLite `PRAGMA wal_checkpoint(TRUNCATE)` (the log's
pages are copied into the database, where the deleted rows are zeros, and the log is cut to
zero bytes); on PostgreSQL `VACUUM FULL` of the session, draft and survey-contact tables,
which writes them to new files holding live rows only and unlinks the old ones. What remains
out of reach (PostgreSQL's own write-ahead log and base backups, blocks the file system freed
but did not zero) is written down in docs/privacy.md.

**Physical row order that tells nothing**: PostgreSQL heaps rewritten in random-key order.

PostgreSQL appends every new row version to its table's heap, so the physical order of
`responses` (each submission is an UPDATE, a new version), `answers`, `completions` (one row
per submitter, keyed by pseudonym) and `respondents` (first contact) follows time, and
someone holding a copy of the data files could rank-match who submitted when against which
response. SQLite does not have this
problem: those tables are WITHOUT ROWID, stored in primary-key order (see storage.metadata).

`reshuffle_heaps` rewrites these heaps in the order of their primary keys (CLUSTER
... USING the primary key), which are random: response ids are random hex, pseudonyms keyed
hashes. After it, physical order holds no submission order; rows written since the last run
still do, so it runs regularly (see docs/deploy.md). CLUSTER holds an exclusive lock on each
table while it rewrites it: bot processes wait for it, briefly on a normal wave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import sqlite_file, sqlite_write_lock, write_transaction

__all__ = [
    "RESHUFFLED_TABLES",
    "SCRUBBED_TABLES",
    "Scrubber",
    "reshuffle_heaps",
    "scrub_deleted_rows",
    "survey_state_deleted",
]

logger = logging.getLogger(__name__)

# Tables whose deleted rows tie a pseudonym to a survey in progress (PostgreSQL rewrites them).
SCRUBBED_TABLES: Final = ("survey_sessions", "draft_answers", "survey_contacts")
# A checkpoint waits this long for readers to finish before it reports busy (then retried):
# short, because this process's writers wait for it.
_CHECKPOINT_BUSY_SECONDS: Final = 0.2
# PostgreSQL: VACUUM FULL queues for an exclusive lock, and every tap queues behind it; give up
# after this long and try again later rather than stall the survey.
_VACUUM_LOCK_TIMEOUT: Final = "200ms"
# Any constant: one process at a time rewrites the session tables.
_SCRUB_LOCK_KEY: Final = 0x5B1B20

# Table -> its primary key index (storage.metadata's naming convention).
RESHUFFLED_TABLES: Final = {
    "respondents": "pk_respondents",
    "responses": "pk_responses",
    "answers": "pk_answers",
    "completions": "pk_completions",
}
# Any constant: one process at a time rewrites the heaps; the others skip their turn.
_RESHUFFLE_LOCK_KEY: Final = 0x5B1B11


async def reshuffle_heaps(engine: AsyncEngine) -> bool:
    """Rewrite the answer tables in random-key order; False when nothing was done.

    Nothing to do on SQLite (already in key order); on PostgreSQL False too when another
    process is rewriting them right now.
    """
    if engine.dialect.name != "postgresql":
        return False
    async with write_transaction(engine) as conn:
        locked = (
            await conn.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RESHUFFLE_LOCK_KEY}
            )
        ).scalar()
        if not locked:
            return False
        for table, index in RESHUFFLED_TABLES.items():
            # Names come from the constant above, never from input.
            await conn.execute(text(f'CLUSTER "{table}" USING "{index}"'))
    logger.info("answer tables rewritten in random-key order")
    return True


# -- wiping deleted survey state ------------------------------------------------------------


@dataclass
class _Pending:
    """Deletes of survey state made through one engine, and how far the scrubs got."""

    deleted: int = 0  # bumped after every commit that deleted sessions or drafts
    scrubbed: int = 0  # the `deleted` count the last complete scrub started after
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def done(self, upto: int) -> None:
        self.scrubbed = max(self.scrubbed, upto)
        still = []
        for target, future in self.waiters:
            if target <= self.scrubbed:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self.waiters = still


_PENDING: weakref.WeakKeyDictionary[AsyncEngine, _Pending] = weakref.WeakKeyDictionary()


def _pending(engine: AsyncEngine) -> _Pending:
    pending = _PENDING.get(engine)
    if pending is None:
        pending = _PENDING[engine] = _Pending()
    return pending


def survey_state_deleted(engine: AsyncEngine) -> None:
    """Note that a committed transaction deleted survey state: the scrubber wipes it soon."""
    pending = _pending(engine)
    pending.deleted += 1
    pending.wake.set()


def _truncate_log(file: Path) -> bool:
    """Checkpoint the whole write-ahead log into the database and cut it to zero bytes."""
    connection = sqlite3.connect(file, timeout=_CHECKPOINT_BUSY_SECONDS)
    try:
        busy, _log, _copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    return int(busy) == 0


# A session whose snapshot or transaction is older than `horizon`: VACUUM FULL would keep,
# for it, rows deleted after it began ("recently dead"). Snapshots count in this database and
# in backends not tied to one yet (a connection still starting up holds one for every
# database); a running write transaction counts in any database, since every new snapshot
# anywhere takes its xmin from the oldest of them.
_OLDER_THAN_HORIZON: Final = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE pid <> pg_backend_pid() AND ("
    "coalesce(age(backend_xid), -1) > age(CAST(CAST(:horizon AS text) AS xid)) "
    "OR ((datname = current_database() OR datname IS NULL) "
    "AND coalesce(age(backend_xmin), -1) > age(CAST(CAST(:horizon AS text) AS xid))))"
)
# How long a scrub waits for such sessions (taps, an autovacuum ANALYZE) before it gives up
# and is retried later, and how often it looks.
_HORIZON_WAIT_SECONDS: Final = 2.0
_HORIZON_POLL_SECONDS: Final = 0.05


_LOCK_NOT_AVAILABLE: Final = "55P03"  # lock_timeout ran out


def _sqlstate(error: DBAPIError) -> str | None:
    """Return PostgreSQL's error code of a driver error (asyncpg's, under SQLAlchemy's)."""
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


async def _past_horizon(conn: AsyncConnection) -> bool:
    """Wait until no other session can still see rows deleted before now; False if one can."""
    horizon = (await conn.execute(text("SELECT txid_current() % 4294967296"))).scalar_one()
    horizon = str(horizon)  # an xid is read from text
    deadline = asyncio.get_running_loop().time() + _HORIZON_WAIT_SECONDS
    while (await conn.execute(_OLDER_THAN_HORIZON, {"horizon": horizon})).scalar_one():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(_HORIZON_POLL_SECONDS)
    return True


async def _vacuum_full(engine: AsyncEngine) -> bool:
    """Rewrite the session tables to new files (live rows only); False when locked out."""
    async with engine.connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SCRUB_LOCK_KEY})
        try:
            # A snapshot older than the deletes (a long report, an autovacuum ANALYZE) would
            # make VACUUM FULL copy the deleted rows into the new files: wait it out first.
            if not await _past_horizon(conn):
                logger.debug("session tables not rewritten yet: an older snapshot is open")
                return False
            await conn.execute(text(f"SET lock_timeout = '{_VACUUM_LOCK_TIMEOUT}'"))
            tables = ", ".join(f'"{name}"' for name in SCRUBBED_TABLES)  # constants, not input
            await conn.execute(text(f"VACUUM FULL {tables}"))
        except DBAPIError as exc:
            if _sqlstate(exc) != _LOCK_NOT_AVAILABLE:
                raise  # not a busy table: the scrubber logs it and tries again
            logger.debug("session tables not rewritten yet: a table was busy")
            return False
        finally:
            with contextlib.suppress(DBAPIError):
                await conn.execute(text("RESET lock_timeout"))
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _SCRUB_LOCK_KEY}
                )
    return True


async def scrub_deleted_rows(engine: AsyncEngine) -> bool:
    """Wipe deleted survey state from the database files now; False when something held the
    database (a long reader, a lock): try again later."""
    if engine.dialect.name == "postgresql":
        return await _vacuum_full(engine)
    file = sqlite_file(engine.url)
    if file is None:  # in memory: no file keeps anything
        return True
    # Under this process's write lock: no write of ours lands between the copy and the cut.
    async with sqlite_write_lock(engine):
        return await asyncio.to_thread(_truncate_log, file)


class Scrubber:
    """The running bot's task that wipes deleted survey state from the files soon after.

    `delay` batches a burst of submissions into one scrub; a scrub that finds the database
    held is retried every `retry` seconds. `clean()` waits until every delete noted so far
    has been scrubbed (tests wait on it instead of a clock).
    """

    def __init__(self, engine: AsyncEngine, *, delay: float, retry: float = 5.0) -> None:
        self._engine = engine
        self._delay = delay
        self._retry = retry
        self._task: asyncio.Task[None] | None = None
        self._allowed = asyncio.Event()
        self._allowed.set()
        self.attempts = 0  # scrubs tried (some find the database held, and are retried)
        self.scrubs = 0  # complete scrubs run by this scrubber

    def start(self) -> None:
        """Start scrubbing; a first scrub runs at once (a previous run may have died before
        its own, and start-up may just have expired surveys or migrated)."""
        if self._task is None:
            survey_state_deleted(self._engine)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="scrubber")

    async def stop(self) -> None:
        """Stop the task (the last connection to close checkpoints SQLite's log anyway)."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Hold scrubs back while the block runs (a test looks at the files before one)."""
        self._allowed.clear()
        try:
            yield
        finally:
            self._allowed.set()

    async def clean(self) -> None:
        """Return once every delete noted before this call has been scrubbed."""
        pending = _pending(self._engine)
        if pending.scrubbed >= pending.deleted:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending.waiters.append((pending.deleted, future))
        await future

    async def _run(self) -> None:
        pending = _pending(self._engine)
        while True:
            while pending.scrubbed >= pending.deleted:
                pending.wake.clear()
                await pending.wake.wait()
            await asyncio.sleep(self._delay)
            await self._allowed.wait()
            upto = pending.deleted
            self.attempts += 1
            try:
                done = await scrub_deleted_rows(self._engine)
            except Exception as exc:  # a failed scrub is retried; the bot keeps running
                logger.warning("scrub failed: %s", type(exc).__name__)
                done = False
            if done:
                self.scrubs += 1
                pending.done(upto)
            else:
                await asyncio.sleep(self._retry)
