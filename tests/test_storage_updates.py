"""The processed-update ledger on SQLite and PostgreSQL: exactly one claim per update; and
PostgreSQL connections that the server cut are replaced without a ping per checkout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database, create_engine
from storage.db import create_engine as create_engine_with
from storage.updates import UpdateState, claim_update, finish_update, prune_updates, update_state

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


async def test_a_claim_repeated_after_a_crash_window_never_hands_out_a_second_win(
    db: Database,
) -> None:
    # A process claims, handles and dies before `finish` (or its claim's answer was lost and
    # the statement is repeated): until the lease ends nobody else may take the update, and
    # whoever takes it over after that is alone; once finished, no redelivery ever wins.
    lease = timedelta(seconds=60)
    assert await claim_update(db.engine, 21, NOW, lease=lease)
    assert not await claim_update(db.engine, 21, NOW, lease=lease)  # the repeated statement
    assert await update_state(db.engine, 21) is UpdateState.IN_PROGRESS
    later = NOW + lease + timedelta(seconds=1)
    engines = [create_engine(db.url) for _ in range(3)]
    try:
        wins = await asyncio.gather(*(claim_update(e, 21, later, lease=lease) for e in engines))
        assert sum(wins) == 1
        await finish_update(db.engine, 21, later)
        much_later = later + 3 * lease
        wins = await asyncio.gather(
            *(claim_update(e, 21, much_later, lease=lease) for e in engines)
        )
        assert sum(wins) == 0
    finally:
        for engine in engines:
            await engine.dispose()
    assert await update_state(db.engine, 21) is UpdateState.FINISHED


# -- PostgreSQL: connections the server cut ---------------------------------------------------


async def _terminate_backends(url: str) -> int:
    """Do what a server restart does to the bot's connections: end every backend of `url`'s
    database, and wait until they are gone. Return how many there were."""
    parsed = make_url(url)
    admin = await asyncpg.connect(
        user=parsed.username,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database="postgres",
    )
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            parsed.database,
        )
        for _ in range(500):
            left = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", parsed.database
            )
            if left == 0:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the backends did not end")
    finally:
        await admin.close()
    return int(ended)


async def _fill_pool(engine: object, connections: int = 3) -> None:
    held = [await engine.connect() for _ in range(connections)]  # type: ignore[attr-defined]
    for conn in held:
        await conn.execute(text("SELECT 1"))
    for conn in held:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_ledger_carries_on_after_the_server_cut_every_connection(db: Database) -> None:
    await _fill_pool(db.engine)
    assert await claim_update(db.engine, 31, NOW)
    assert await _terminate_backends(db.url) >= 1
    # The very next statements, on a pool whose every connection is dead: no error, and
    # still exactly one claim.
    assert await claim_update(db.engine, 32, NOW)
    assert not await claim_update(db.engine, 31, NOW)
    await finish_update(db.engine, 32, NOW)
    assert await update_state(db.engine, 32) is UpdateState.FINISHED


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_connection_idle_past_the_setting_is_pinged_before_use(db: Database) -> None:
    # With a zero idle time every reused connection is pinged: one the server ended is
    # replaced at checkout even before its socket told the process anything.
    engine = create_engine_with(db.url, ping_idle_seconds=0)
    try:
        await _fill_pool(engine)
        await _terminate_backends(db.url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_connection_its_server_closed_is_replaced_without_a_ping(db: Database) -> None:
    engine = create_engine_with(db.url, ping_idle_seconds=3600)  # never pinged in this test
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            await conn.commit()
            # The socket is gone (as after a restart) while the connection is in the pool.
            (await conn.get_raw_connection()).driver_connection.terminate()
        async with engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        assert second != first
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_cut_the_driver_has_not_noticed_yet_costs_no_claim(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy event loop the pool's dead connections may not know yet that their server
    ended them: the first one to fail renews all of them, not just itself (seen as a 503 of
    the webhook at load 7, when the retry drew a second dead connection)."""
    await _fill_pool(db.engine, connections=4)
    assert await _terminate_backends(db.url) >= 4
    # The failure injected: no socket has told asyncpg of its end yet.
    monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda _self: False)
    assert await claim_update(db.engine, 41, NOW)
    await finish_update(db.engine, 41, NOW)
    monkeypatch.undo()
    assert await update_state(db.engine, 41) is UpdateState.FINISHED


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_cut_caught_half_read_by_the_driver_costs_no_claim(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's goodbye can reach an idle connection before its socket closes: asyncpg
    then refuses the next statement with an InternalClientError (seen once in five suites).
    That connection and its generation are renewed and the claim goes through."""
    await _fill_pool(db.engine, connections=2)
    assert await _terminate_backends(db.url) >= 2
    original = asyncpg.Connection.fetchval
    calls: list[int] = []

    async def half_read(self: asyncpg.Connection, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:  # the failure injected, as asyncpg raised it
            raise asyncpg.InternalClientError(
                "cannot switch to state 11; another operation (2) is in progress"
            )
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda _self: False)
    monkeypatch.setattr(asyncpg.Connection, "fetchval", half_read)
    assert await claim_update(db.engine, 51, NOW)
    monkeypatch.undo()
    assert len(calls) == 2
    assert await update_state(db.engine, 51) is UpdateState.IN_PROGRESS
