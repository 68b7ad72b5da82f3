"""Roster CSVs an admin sent to the bot, waiting for the admin to say which group they are.

Only Telegram's file id is stored (the roster's names never reach the database); the one tap
that sets the group takes the row, so a double tap cannot create the links twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import (
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

from storage.db import read_connection, utc, write_transaction
from storage.metadata import metadata

__all__ = [
    "RosterUpload",
    "roster_upload_taken",
    "roster_uploads",
    "save_roster_upload",
    "take_roster_upload",
]


# A roster CSV an admin sent to the bot, waiting for "internal or expert?" (issue 10). Only
# Telegram's file id is kept (the names stay in Telegram); `grp` is set by the one tap that
# uses it, so a double tap cannot create the links twice. Old rows are pruned.
roster_uploads = Table(
    "roster_uploads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", String(255), nullable=False),
    Column("file_name", String(255), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("grp", String(10), nullable=True),
)

# An upload nobody answered for is forgotten after this long.
KEEP: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RosterUpload:
    """A roster document to process: Telegram's file id and the name it was sent under."""

    id: int
    file_id: str
    file_name: str | None


async def save_roster_upload(
    engine: AsyncEngine, file_id: str, file_name: str | None, now: datetime
) -> int:
    """Keep a roster's file id until its group is chosen; return the row id."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            delete(roster_uploads).where(roster_uploads.c.created_at < utc(now - KEEP))
        )
        result = await conn.execute(
            roster_uploads.insert()
            .values(file_id=file_id, file_name=file_name, created_at=utc(now))
            .returning(roster_uploads.c.id)
        )
        return int(result.scalar_one())


async def take_roster_upload(
    engine: AsyncEngine, upload_id: int, group: str
) -> RosterUpload | None:
    """Take an upload for one group; None when it was taken (a double tap) or is gone."""
    async with write_transaction(engine) as conn:
        taken = await conn.execute(
            update(roster_uploads)
            .where(roster_uploads.c.id == upload_id, roster_uploads.c.grp.is_(None))
            .values(grp=group)
        )
        if taken.rowcount != 1:
            return None
        row = (
            await conn.execute(select(roster_uploads).where(roster_uploads.c.id == upload_id))
        ).one()
    return RosterUpload(row.id, row.file_id, row.file_name)


async def roster_upload_taken(engine: AsyncEngine, upload_id: int) -> bool:
    """Tell whether an upload exists and was already used."""
    async with read_connection(engine) as conn:
        grp = (
            await conn.execute(select(roster_uploads.c.grp).where(roster_uploads.c.id == upload_id))
        ).scalar_one_or_none()
    return grp is not None
