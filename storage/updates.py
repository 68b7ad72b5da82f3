"""The processed-update ledger: each Telegram update is handled by exactly one process, once.

Telegram redelivers a webhook update until it gets a 200, and behind a load balancer two bot
processes may both receive it. A process first *claims* the update id (INSERT ... ON CONFLICT
DO NOTHING: one INSERT wins, on SQLite and PostgreSQL alike), handles it, then marks it
finished. A claim that was never finished (its process died mid-update) can be taken over
once its lease has run out, so a crash loses nothing; a finished update is never handled again.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection, utc, write_transaction
from storage.dialects import insert_ignore
from storage.schema import metadata

__all__ = [
    "DEFAULT_CLAIM_LEASE",
    "UPDATE_RETENTION",
    "UpdateState",
    "claim_update",
    "finish_update",
    "prune_updates",
    "update_state",
]

# Defined here rather than in storage.schema (which is at its size limit); same metadata.
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


async def claim_update(
    engine: AsyncEngine, update_id: int, now: datetime, *, lease: timedelta = DEFAULT_CLAIM_LEASE
) -> bool:
    """Claim an update for this process; True exactly once per update (until its lease ends).

    False when another claim holds it: finished, or still within its lease. An unfinished
    claim older than `lease` is taken over (True) so a crashed process's update is not lost.
    """
    moment = utc(now)
    table = processed_updates
    async with write_transaction(engine) as conn:
        inserted = await conn.execute(
            insert_ignore(
                conn, table, {"update_id": update_id, "claimed_at": moment}, ["update_id"]
            )
        )
        if inserted.rowcount == 1:
            return True
        # Compare-and-set on the stale claim: of two processes taking it over, one UPDATE wins.
        taken = await conn.execute(
            update(table)
            .where(
                table.c.update_id == update_id,
                table.c.finished_at.is_(None),
                table.c.claimed_at < moment - lease,
            )
            .values(claimed_at=moment)
        )
        return taken.rowcount == 1


async def finish_update(engine: AsyncEngine, update_id: int, now: datetime) -> None:
    """Mark a claimed update as handled: from now on every redelivery of it is a no-op."""
    table = processed_updates
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(table).where(table.c.update_id == update_id).values(finished_at=utc(now))
        )


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
