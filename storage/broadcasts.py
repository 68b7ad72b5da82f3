"""Outreach broadcasts: the confirmed text, and the claim that sends it to each person once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.contacts import ReminderStatus
from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import insert_ignore
from storage.metadata import metadata

__all__ = [
    "Broadcast",
    "broadcast_claims",
    "broadcasts",
    "claim_broadcast",
    "claim_broadcasts",
    "confirm_broadcast",
    "create_broadcast",
    "delete_draft",
    "finish_broadcast",
    "finish_broadcasts",
    "get_broadcast",
    "latest_draft",
    "remember_photo_file_id",
]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An outreach message; `unit_codes` empty means every unit's opted-in people.

    A picture is `photo` (uploaded bytes) and/or `photo_file_id` (Telegram's id for it).
    """

    id: int
    text: str
    unit_codes: tuple[str, ...]
    created_at: datetime
    confirmed: bool
    author: str | None = None
    photo: bytes | None = None
    photo_file_id: str | None = None

    @property
    def has_photo(self) -> bool:
        """Tell whether the broadcast carries a picture."""
        return self.photo is not None or self.photo_file_id is not None


# Outreach broadcasts (sosialisasi): the text an admin confirmed, and to which units (NULL: all).
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("unit_codes", String(400), nullable=True),  # comma-separated; NULL = every unit
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed", Boolean, nullable=False, server_default="0"),
    # The admin who drafted it in chat (a photo sent next attaches to their draft); NULL: CLI.
    Column("author", String(64), nullable=True),
    # An optional picture: the uploaded bytes (CLI) and/or Telegram's file id for it (a photo
    # sent in chat, or learned from the first upload so later sends do not upload again).
    Column("photo", LargeBinary, nullable=True),
    Column("photo_file_id", String(255), nullable=True),
)


# One row per (broadcast, person): the claim that sends each broadcast to each person once.
broadcast_claims = Table(
    "broadcast_claims",
    metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("status", String(10), nullable=False),
    CheckConstraint("status IN ('claimed', 'sent', 'gone', 'failed')", name="status"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


async def create_broadcast(
    engine: AsyncEngine,
    text: str,
    unit_codes: Sequence[str] | None,
    now: datetime,
    *,
    author: str | None = None,
    photo: bytes | None = None,
    photo_file_id: str | None = None,
) -> Broadcast:
    """Store a broadcast draft (not sent until confirmed)."""
    codes = None if not unit_codes else ",".join(unit_codes)
    values = {
        "text": text,
        "unit_codes": codes,
        "created_at": utc(now),
        "confirmed": False,
        "author": author,
        "photo": photo,
        "photo_file_id": photo_file_id,
    }
    async with write_transaction(engine) as conn:
        result = await conn.execute(broadcasts.insert().values(values).returning(broadcasts.c.id))
        broadcast_id = int(result.scalar_one())
    return Broadcast(
        broadcast_id,
        text,
        tuple(unit_codes or ()),
        utc(now),
        confirmed=False,
        author=author,
        photo=photo,
        photo_file_id=photo_file_id,
    )


def _broadcast(row: Row[Any]) -> Broadcast:
    codes = tuple(row.unit_codes.split(",")) if row.unit_codes else ()
    return Broadcast(
        row.id,
        row.text,
        codes,
        from_db(row.created_at),
        bool(row.confirmed),
        author=row.author,
        photo=bytes(row.photo) if row.photo is not None else None,
        photo_file_id=row.photo_file_id,
    )


async def get_broadcast(engine: AsyncEngine, broadcast_id: int) -> Broadcast | None:
    """Return a broadcast, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))
        ).first()
    return None if row is None else _broadcast(row)


async def latest_draft(engine: AsyncEngine, author: str, since: datetime) -> Broadcast | None:
    """Return the newest unconfirmed draft of this author made at or after `since`, or None."""
    stmt = (
        select(broadcasts)
        .where(
            broadcasts.c.author == author,
            broadcasts.c.confirmed.is_(False),
            broadcasts.c.created_at >= utc(since),
        )
        .order_by(broadcasts.c.id.desc())
        .limit(1)
    )
    async with read_connection(engine) as conn:
        row = (await conn.execute(stmt)).first()
    return None if row is None else _broadcast(row)


async def delete_draft(engine: AsyncEngine, broadcast_id: int) -> bool:
    """Delete an unconfirmed draft (replaced by a new one); False if confirmed or gone."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(broadcasts).where(
                broadcasts.c.id == broadcast_id, broadcasts.c.confirmed.is_(False)
            )
        )
        return result.rowcount == 1


async def confirm_broadcast(engine: AsyncEngine, broadcast_id: int) -> bool:
    """Mark a draft confirmed; False when it was already confirmed (or does not exist)."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.confirmed.is_(False))
            .values(confirmed=True)
        )
        return result.rowcount == 1


async def remember_photo_file_id(engine: AsyncEngine, broadcast_id: int, file_id: str) -> None:
    """Keep Telegram's id of an uploaded picture, so no later send uploads it again."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.photo_file_id.is_(None))
            .values(photo_file_id=file_id)
        )


async def claim_broadcasts(
    engine: AsyncEngine, broadcast_id: int, pseudonyms: Sequence[str]
) -> set[str]:
    """Claim several people's copies of a broadcast in one statement; return those won."""
    if not pseudonyms:
        return set()
    rows = [
        {"broadcast_id": broadcast_id, "pseudonym": p, "status": ReminderStatus.CLAIMED.value}
        for p in pseudonyms
    ]
    async with write_transaction(engine) as conn:
        stmt = insert_ignore(conn, broadcast_claims, rows, ["broadcast_id", "pseudonym"])
        return set((await conn.execute(stmt.returning(broadcast_claims.c.pseudonym))).scalars())


async def claim_broadcast(engine: AsyncEngine, broadcast_id: int, pseudonym: str) -> bool:
    """Claim one person's copy of a broadcast; False when it was already claimed."""
    return bool(await claim_broadcasts(engine, broadcast_id, [pseudonym]))


async def finish_broadcasts(
    engine: AsyncEngine, broadcast_id: int, outcomes: Mapping[str, ReminderStatus]
) -> None:
    """Record what became of claimed copies (one statement per outcome)."""
    by_status: dict[ReminderStatus, list[str]] = {}
    for pseudonym, status in outcomes.items():
        by_status.setdefault(status, []).append(pseudonym)
    if not by_status:
        return
    async with write_transaction(engine) as conn:
        for status, people in by_status.items():
            await conn.execute(
                update(broadcast_claims)
                .where(
                    broadcast_claims.c.broadcast_id == broadcast_id,
                    broadcast_claims.c.pseudonym.in_(people),
                )
                .values(status=status.value)
            )


async def finish_broadcast(
    engine: AsyncEngine, broadcast_id: int, pseudonym: str, status: ReminderStatus
) -> None:
    """Record what became of one person's copy."""
    await finish_broadcasts(engine, broadcast_id, {pseudonym: status})
