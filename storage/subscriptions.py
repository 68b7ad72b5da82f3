"""Chat subscriptions to reports: one row per chat, paused (not deleted) when Telegram refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.metadata import metadata

__all__ = [
    "Subscription",
    "get_subscription",
    "list_subscriptions",
    "pause_subscription",
    "subscribe",
    "subscriptions",
    "unsubscribe",
]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat that receives scheduled reports; paused chats keep their row and reason."""

    id: int
    chat_id: int
    language: str
    active: bool
    paused_reason: str | None
    created_at: datetime
    created_by: str | None = None  # the pseudonym of the official who set it up


# Leadership chats that receive scheduled reports. Chat ids of groups/officials, not respondents.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False, unique=True),
    Column("language", String(5), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("paused_reason", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The official who subscribed it (or resumed it last): their pseudonym, so revoking
    # their role pauses what they set up. NULL for rows from before issue 20.
    Column("created_by", String(64), nullable=True),
)


def _subscription(row: Any) -> Subscription:
    """Build a Subscription from a subscriptions row."""
    return Subscription(
        id=row.id,
        chat_id=row.chat_id,
        language=row.language,
        active=bool(row.active),
        paused_reason=row.paused_reason,
        created_at=from_db(row.created_at),
        created_by=row.created_by,
    )


async def subscribe(
    engine: AsyncEngine,
    chat_id: int,
    language: str,
    now: datetime,
    created_by: str | None = None,
) -> Subscription:
    """Subscribe a chat to reports, or re-activate it with a new language.

    `created_by` is the pseudonym of the official doing it (the last one to (re)subscribe):
    revoking that person's role pauses the subscription.
    """
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
                    "created_by": created_by,
                },
                ["chat_id"],
                ["language", "active", "paused_reason", "created_by"],
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
