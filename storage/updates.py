"""The processed-update ledger: each Telegram update is handled by exactly one process, once.

Telegram redelivers a webhook update until it gets a 200, and behind a load balancer two bot
processes may both receive it. A process first *claims* the update id, handles it, then marks
it finished. A claim that was never finished (its process died mid-update) can be taken over
once its lease has run out, so a crash loses nothing; a finished update is never handled again.

Both steps run for every update, so each is one statement: the claim an
`INSERT ... ON CONFLICT DO UPDATE ... WHERE <stale and unfinished> RETURNING` (a row comes back
exactly when this call inserted the claim or took over a stale one; of two processes racing,
one wins, on SQLite and PostgreSQL alike), the finish one UPDATE. On PostgreSQL they run in
autocommit straight on the driver's connection from SQLAlchemy's pool (no BEGIN/COMMIT round
trips, no statement compilation), and a statement that finds its connection cut (a server
restart) is tried once more on a fresh one. A claim repeated that way after its first attempt
did commit finds its own claim and answers False: Telegram redelivers, and the lease ends it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Insert,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from storage.db import read_connection, renew_after_disconnect, utc, write_transaction
from storage.metadata import metadata
from storage.onehop import run_write

__all__ = [
    "DEFAULT_CLAIM_LEASE",
    "UPDATE_RETENTION",
    "UpdateState",
    "claim_update",
    "finish_update",
    "prune_updates",
    "update_state",
]

# One row per Telegram update a process took on: the ledger that makes a redelivered webhook
# update (Telegram retries until it gets a 200; two processes may both receive it) a no-op.
# Only the update id and when it was claimed and finished: no chat, no person, no content.
# Rows older than a day are pruned (Telegram gives up redelivering long before that).
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_processed_updates_claimed_at", "claimed_at"),
)

# Longer than any handler runs; a claim this old and unfinished belonged to a dead process.
DEFAULT_CLAIM_LEASE: Final = timedelta(seconds=60)
# Telegram stops redelivering an update long before a day has passed.
UPDATE_RETENTION: Final = timedelta(days=1)


class UpdateState(enum.Enum):
    """What the ledger knows of an update id."""

    UNKNOWN = "unknown"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


T = TypeVar("T")

# PostgreSQL, on the driver (asyncpg) directly: $n parameters, the table and columns above.
_PG_CLAIM: Final = (
    "INSERT INTO processed_updates (update_id, claimed_at) VALUES ($1, $2) "
    "ON CONFLICT (update_id) DO UPDATE SET claimed_at = excluded.claimed_at "
    "WHERE processed_updates.finished_at IS NULL AND processed_updates.claimed_at < $3 "
    "RETURNING update_id"
)
_PG_FINISH: Final = "UPDATE processed_updates SET finished_at = $2 WHERE update_id = $1"


@functools.cache
def _sqlite_claim() -> Insert:
    """The claim as one SQLite statement, built once (values bound at execution)."""
    table = processed_updates
    stmt = sqlite.insert(table).values(
        update_id=bindparam("update_id"), claimed_at=bindparam("moment")
    )
    claim: Insert = stmt.on_conflict_do_update(
        index_elements=[table.c.update_id],
        set_={"claimed_at": stmt.excluded.claimed_at},
        where=table.c.finished_at.is_(None) & (table.c.claimed_at < bindparam("stale")),
    ).returning(table.c.update_id)
    return claim


@functools.cache
def _disconnects() -> tuple[type[BaseException], ...]:
    """What asyncpg raises when the connection itself failed (imported on first use)."""
    import asyncpg

    return (
        OSError,  # reset, refused, broken pipe
        asyncpg.InterfaceError,  # "connection is closed", closed mid-operation
        asyncpg.PostgresConnectionError,  # SQLSTATE class 08
        asyncpg.exceptions.OperatorInterventionError,  # 57P01 terminated, 57P03 starting up
        # The server's "terminating connection" arrived on an idle connection before its socket
        # closed: the protocol is left consuming that error ("cannot switch to state 11; another
        # operation (2) is in progress"). A checkout is never shared, so this is the cut too.
        asyncpg.InternalClientError,
    )


async def _on_driver(engine: AsyncEngine, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(asyncpg connection)` on a pooled connection, in autocommit; once more on a
    fresh connection if the first one turns out to be cut."""
    for attempt in (1, 2):
        pooled = await engine.raw_connection()
        try:
            return await work(pooled.driver_connection)
        except _disconnects() as exc:
            # Out of the pool, with every connection as old as it (a restart cut them all).
            await greenlet_spawn(renew_after_disconnect, engine, pooled, exc)
            if attempt == 2:
                raise
        finally:
            # In a greenlet: returning an overflow or invalidated connection closes it.
            await greenlet_spawn(pooled.close)
    raise AssertionError("unreachable")


async def claim_update(
    engine: AsyncEngine, update_id: int, now: datetime, *, lease: timedelta = DEFAULT_CLAIM_LEASE
) -> bool:
    """Claim an update for this process; True exactly once per update (until its lease ends).

    False when another claim holds it: finished, or still within its lease. An unfinished
    claim older than `lease` is taken over (True) so a crashed process's update is not lost.
    """
    moment = utc(now)
    stale = moment - lease
    if engine.dialect.name == "postgresql":
        claimed = await _on_driver(
            engine, lambda c: c.fetchval(_PG_CLAIM, update_id, moment, stale)
        )
        return claimed is not None

    def claim(conn: Connection) -> bool:
        values = {"update_id": update_id, "moment": moment, "stale": stale}
        return conn.execute(_sqlite_claim(), values).first() is not None

    return await run_write(engine, claim)


async def finish_update(engine: AsyncEngine, update_id: int, now: datetime) -> None:
    """Mark a claimed update as handled: from now on every redelivery of it is a no-op."""
    moment = utc(now)
    if engine.dialect.name == "postgresql":
        await _on_driver(engine, lambda c: c.execute(_PG_FINISH, update_id, moment))
        return
    table = processed_updates

    def finish(conn: Connection) -> None:
        conn.execute(update(table).where(table.c.update_id == update_id).values(finished_at=moment))

    await run_write(engine, finish)


async def update_state(engine: AsyncEngine, update_id: int) -> UpdateState:
    """Return whether an update is unknown, claimed and in progress, or finished."""
    table = processed_updates
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(select(table.c.finished_at).where(table.c.update_id == update_id))
        ).first()
    if row is None:
        return UpdateState.UNKNOWN
    return UpdateState.IN_PROGRESS if row.finished_at is None else UpdateState.FINISHED


async def prune_updates(
    engine: AsyncEngine, now: datetime, *, keep: timedelta = UPDATE_RETENTION
) -> int:
    """Delete ledger rows claimed more than `keep` ago; return how many were deleted."""
    table = processed_updates
    async with write_transaction(engine) as conn:
        result = await conn.execute(delete(table).where(table.c.claimed_at < utc(now) - keep))
    return int(result.rowcount)
