"""The wave calendar: planned waves with open and close times, and reopening a closed wave."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.errors import WaveConflict
from storage.models import WavePlan, WaveStatus
from storage.schema import wave_plans, waves

__all__ = ["list_wave_plans", "mark_plan_opened", "plan_wave", "reopen_wave"]


async def plan_wave(
    engine: AsyncEngine, name: str, opens_at: datetime, closes_at: datetime | None
) -> WavePlan:
    """Plan (or re-plan) a wave that does not exist yet; WaveConflict if it already does."""
    if closes_at is not None and closes_at <= opens_at:
        raise ValueError("a wave must close after it opens")
    closes = None if closes_at is None else utc(closes_at)
    values = {"name": name, "opens_at": utc(opens_at), "closes_at": closes, "wave_id": None}
    async with write_transaction(engine) as conn:
        taken = (await conn.execute(select(waves.c.id).where(waves.c.name == name))).first()
        if taken is not None:
            raise WaveConflict(f"a wave named {name!r} already exists")
        await conn.execute(upsert(conn, wave_plans, values, ["name"], ["opens_at", "closes_at"]))
    return WavePlan(name, utc(opens_at), closes, None)


async def list_wave_plans(engine: AsyncEngine) -> list[WavePlan]:
    """Return every plan, soonest first."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(select(wave_plans).order_by(wave_plans.c.opens_at))
        return [
            WavePlan(
                row.name,
                from_db(row.opens_at),
                None if row.closes_at is None else from_db(row.closes_at),
                row.wave_id,
            )
            for row in rows
        ]


async def mark_plan_opened(engine: AsyncEngine, name: str, wave_id: int) -> None:
    """Record that a planned wave was opened."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(wave_plans).where(wave_plans.c.name == name).values(wave_id=wave_id)
        )


async def reopen_wave(engine: AsyncEngine, wave_id: int) -> bool:
    """Open a closed wave again; False if it was not closed, WaveConflict if another is open."""
    try:
        async with write_transaction(engine) as conn:
            result = await conn.execute(
                update(waves)
                .where(waves.c.id == wave_id, waves.c.status == WaveStatus.CLOSED.value)
                .values(status=WaveStatus.OPEN.value, closed_at=None)
            )
            return result.rowcount == 1
    except IntegrityError as exc:
        raise WaveConflict("another wave is open; close it first") from exc
