"""Per-wave index corrections (deductions); the newest one is in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Table,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from scoring.config import check_correction  # the one rule for a usable correction
from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import NotFound
from storage.metadata import metadata
from storage.waves import waves

__all__ = [
    "Correction",
    "add_correction",
    "correction_history",
    "corrections",
    "current_correction",
    "insert_correction",
]


@dataclass(frozen=True, slots=True)
class Correction:
    """Deductions from a wave's index (non-negative points); the newest is in force."""

    id: int
    wave_id: int
    integrity: float
    prevalence: float
    note: str
    created_at: datetime


# Corrections per wave, with history: the newest row is in force.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("integrity", Float, nullable=False),
    Column("prevalence", Float, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("integrity >= 0 AND prevalence >= 0", name="non_negative"),
)


def _correction(row: Any) -> Correction:
    """Build a Correction from a corrections row."""
    return Correction(
        id=row.id,
        wave_id=row.wave_id,
        integrity=row.integrity,
        prevalence=row.prevalence,
        note=row.note,
        created_at=from_db(row.created_at),
    )


async def add_correction(
    engine: AsyncEngine,
    wave_id: int,
    integrity: float,
    prevalence: float,
    note: str,
    now: datetime,
) -> Correction:
    """Record new corrections for a wave; they replace the previous ones from now on.

    ValueError unless both are finite deductions of 0-20 points (`check_correction`).
    """
    async with write_transaction(engine) as conn:
        return await insert_correction(conn, wave_id, integrity, prevalence, note, now)


async def insert_correction(
    conn: AsyncConnection,
    wave_id: int,
    integrity: float,
    prevalence: float,
    note: str,
    now: datetime,
) -> Correction:
    """Check and insert a correction inside the caller's write transaction.

    ValueError for a deduction outside 0-20 points; NotFound for an unknown wave.
    """
    integrity = check_correction("integrity", integrity)
    prevalence = check_correction("prevalence", prevalence)
    if (await conn.execute(select(waves.c.id).where(waves.c.id == wave_id))).first() is None:
        raise NotFound(f"unknown wave id {wave_id}")
    correction_id = (
        await conn.execute(
            corrections.insert()
            .values(
                wave_id=wave_id,
                integrity=integrity,
                prevalence=prevalence,
                note=note,
                created_at=utc(now),
            )
            .returning(corrections.c.id)
        )
    ).scalar_one()
    return Correction(correction_id, wave_id, integrity, prevalence, note, utc(now))


async def correction_history(engine: AsyncEngine, wave_id: int) -> list[Correction]:
    """Return a wave's corrections, newest (the one in force) first."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(corrections)
            .where(corrections.c.wave_id == wave_id)
            .order_by(corrections.c.created_at.desc(), corrections.c.id.desc())
        )
        return [_correction(row) for row in rows]


async def current_correction(engine: AsyncEngine, wave_id: int) -> Correction | None:
    """Return the correction in force for a wave, or None."""
    history = await correction_history(engine, wave_id)
    return history[0] if history else None
