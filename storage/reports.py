"""Report delivery and inputs: chat subscriptions and per-wave index corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.errors import NotFound
from storage.models import Correction, Subscription
from storage.schema import corrections, subscriptions, waves

__all__ = [
    "add_correction",
    "correction_history",
    "current_correction",
    "get_subscription",
    "list_subscriptions",
    "pause_subscription",
    "subscribe",
    "unsubscribe",
]


def _subscription(row: Any) -> Subscription:
    """Build a Subscription from a subscriptions row."""
    return Subscription(
        id=row.id,
        chat_id=row.chat_id,
        language=row.language,
        active=bool(row.active),
        paused_reason=row.paused_reason,
        created_at=from_db(row.created_at),
    )


async def subscribe(
    engine: AsyncEngine, chat_id: int, language: str, now: datetime
) -> Subscription:
    """Subscribe a chat to reports, or re-activate it with a new language."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            upsert(
                conn,
                subscriptions,
                {
                    "chat_id": chat_id,
                    "language": language,
                    "active": True,
                    "paused_reason": None,
                    "created_at": utc(now),
                },
                ["chat_id"],
                ["language", "active", "paused_reason"],
            )
        )
        row = (
            await conn.execute(select(subscriptions).where(subscriptions.c.chat_id == chat_id))
        ).one()
    return _subscription(row)


async def unsubscribe(engine: AsyncEngine, chat_id: int) -> bool:
    """Remove a chat's subscription; return False if it had none."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == chat_id))
        return result.rowcount == 1


async def pause_subscription(engine: AsyncEngine, chat_id: int, reason: str) -> bool:
    """Stop sending to a chat (e.g. the bot was removed) but keep the row and the reason."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.chat_id == chat_id)
            .values(active=False, paused_reason=reason[:200])
        )
        return result.rowcount == 1


async def get_subscription(engine: AsyncEngine, chat_id: int) -> Subscription | None:
    """Return a chat's subscription, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(select(subscriptions).where(subscriptions.c.chat_id == chat_id))
        ).first()
    return None if row is None else _subscription(row)


async def list_subscriptions(
    engine: AsyncEngine, *, active_only: bool = True
) -> list[Subscription]:
    """Return subscriptions, oldest first (active ones only unless told otherwise)."""
    stmt = select(subscriptions).order_by(subscriptions.c.id)
    if active_only:
        stmt = stmt.where(subscriptions.c.active.is_(True))
    async with read_connection(engine) as conn:
        return [_subscription(row) for row in await conn.execute(stmt)]


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
    """Record new corrections for a wave; they replace the previous ones from now on."""
    if integrity < 0 or prevalence < 0:
        raise ValueError("corrections are deductions: use non-negative points")
    async with write_transaction(engine) as conn:
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
