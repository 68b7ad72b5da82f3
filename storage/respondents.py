"""Respondents: the pseudonyms that have talked to the bot and the language each chose.

A respondent row holds a pseudonym (never a Telegram id) and nothing that links it to answers.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection, write_transaction
from storage.dialects import insert_ignore, upsert
from storage.onehop import run_write
from storage.schema import respondents

__all__ = [
    "add_respondent_now",
    "ensure_respondent",
    "get_respondent_language",
    "set_respondent_language",
]


def add_respondent_now(conn: Connection, pseudonym: str) -> None:
    """Insert the respondent row if it is missing (inside a one-hop write)."""
    conn.execute(insert_ignore(conn, respondents, {"pseudonym": pseudonym}, ["pseudonym"]))


async def ensure_respondent(engine: AsyncEngine, pseudonym: str) -> None:
    """Record that this pseudonym has talked to the bot (idempotent)."""
    await run_write(engine, lambda conn: add_respondent_now(conn, pseudonym))


async def set_respondent_language(
    engine: AsyncEngine, pseudonym: str, language: str | None
) -> None:
    """Store the respondent's chosen language (None: follow Telegram's)."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            upsert(
                conn,
                respondents,
                {"pseudonym": pseudonym, "language": language},
                ["pseudonym"],
                ["language"],
            )
        )


async def get_respondent_language(engine: AsyncEngine, pseudonym: str) -> str | None:
    """Return the respondent's chosen language, or None."""
    async with read_connection(engine) as conn:
        return (
            await conn.execute(
                select(respondents.c.language).where(respondents.c.pseudonym == pseudonym)
            )
        ).scalar_one_or_none()
