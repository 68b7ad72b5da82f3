"""The processed-update ledger on SQLite and PostgreSQL: exactly one claim per update."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    Database,
    UpdateState,
    claim_update,
    create_engine,
    finish_update,
    prune_updates,
    update_state,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def test_an_update_is_claimed_once(db: Database) -> None:
    assert await update_state(db.engine, 7) is UpdateState.UNKNOWN
    assert await claim_update(db.engine, 7, NOW) is True
    assert await update_state(db.engine, 7) is UpdateState.IN_PROGRESS
    assert await claim_update(db.engine, 7, NOW + timedelta(seconds=1)) is False
    await finish_update(db.engine, 7, NOW + timedelta(seconds=2))
    assert await update_state(db.engine, 7) is UpdateState.FINISHED
    # A finished update stays done however late the redelivery comes.
    assert await claim_update(db.engine, 7, NOW + timedelta(hours=3)) is False
    assert await claim_update(db.engine, 8, NOW) is True


async def test_a_dead_process_claim_is_taken_over_after_its_lease(db: Database) -> None:
    lease = timedelta(seconds=30)
    assert await claim_update(db.engine, 11, NOW, lease=lease)
    assert not await claim_update(db.engine, 11, NOW + timedelta(seconds=29), lease=lease)
    assert await claim_update(db.engine, 11, NOW + timedelta(seconds=31), lease=lease)
    # The new claim starts a new lease.
    assert not await claim_update(db.engine, 11, NOW + timedelta(seconds=32), lease=lease)


async def test_concurrent_claims_from_several_engines_have_one_winner(db: Database) -> None:
    # Separate engines stand for separate bot processes sharing the database.
    engines = [create_engine(db.url) for _ in range(4)]
    try:
        for update_id in range(100, 110):
            wins = await asyncio.gather(
                *(claim_update(engine, update_id, NOW) for engine in engines)
            )
            assert sum(wins) == 1
        # Taking over a stale claim is a race too: still one winner.
        later = NOW + timedelta(minutes=5)
        wins = await asyncio.gather(*(claim_update(engine, 100, later) for engine in engines))
        assert sum(wins) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_rows_older_than_a_day_are_pruned(db: Database) -> None:
    await claim_update(db.engine, 1, NOW - timedelta(days=2))
    await claim_update(db.engine, 2, NOW - timedelta(hours=23))
    await finish_update(db.engine, 2, NOW - timedelta(hours=23))
    assert await prune_updates(db.engine, NOW) == 1
    assert await update_state(db.engine, 1) is UpdateState.UNKNOWN
    assert await update_state(db.engine, 2) is UpdateState.FINISHED
    assert await prune_updates(db.engine, NOW) == 0


async def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await claim_update(db.engine, 1, datetime(2026, 3, 2))  # noqa: DTZ001


async def test_ping_tells_whether_the_database_answers(db: Database) -> None:
    assert await db.ping() is True
    assert await Database(db.url).ping() is False  # not initialised
    unreachable = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    await unreachable.initialize(migrate=False)  # creates the engine, connects lazily
    try:
        assert await unreachable.ping() is False
    finally:
        await unreachable.close()
