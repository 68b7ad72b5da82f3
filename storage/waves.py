"""Survey waves: at most one open at a time, each group answering one questionnaire version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import NotFound, WaveConflict
from storage.models import Wave, WaveStatus
from storage.onehop import run_read
from storage.schema import questionnaires, wave_questionnaires, waves
from storage.wave_plans import move_planned_invitations

__all__ = [
    "close_wave",
    "current_wave",
    "get_wave",
    "get_wave_by_id",
    "list_waves",
    "open_wave",
]


def _waves_sync(conn: Connection, *conditions: Any) -> list[Wave]:
    """Return the waves matching `conditions`, newest first, with their questionnaires."""
    rows = conn.execute(
        select(waves).where(*conditions).order_by(waves.c.opened_at.desc(), waves.c.id.desc())
    ).all()
    if not rows:
        return []
    links: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    for wave_id, grp, questionnaire_id in conn.execute(
        select(
            wave_questionnaires.c.wave_id,
            wave_questionnaires.c.grp,
            wave_questionnaires.c.questionnaire_id,
        ).where(wave_questionnaires.c.wave_id.in_(list(links)))
    ):
        links[wave_id][grp] = questionnaire_id
    return [
        Wave(
            id=row.id,
            name=row.name,
            status=WaveStatus(row.status),
            opened_at=from_db(row.opened_at),
            closed_at=None if row.closed_at is None else from_db(row.closed_at),
            questionnaire_ids=links[row.id],
        )
        for row in rows
    ]


async def _waves(conn: AsyncConnection, *conditions: Any) -> list[Wave]:
    """`_waves_sync` on an async connection (inside a larger transaction)."""
    return await conn.run_sync(_waves_sync, *conditions)


async def _waves_now(engine: AsyncEngine, *conditions: Any) -> list[Wave]:
    """`_waves_sync` in one read of its own (one hop: the respondent path asks it)."""
    return await run_read(engine, lambda conn: _waves_sync(conn, *conditions))


async def open_wave(
    engine: AsyncEngine, name: str, questionnaire_ids: Mapping[str, int], now: datetime
) -> Wave:
    """Open a new wave in which each group answers the given questionnaire.

    Raises WaveConflict when a wave is already open or the name is taken, and NotFound for
    an unknown questionnaire id. A plan of this name is marked opened and the invitations
    issued for it become the wave's, in the same transaction.
    """
    async with write_transaction(engine) as conn:
        if await _waves(conn, waves.c.status == WaveStatus.OPEN.value):
            raise WaveConflict("a wave is already open; close it before opening another")
        if await _waves(conn, waves.c.name == name):
            raise WaveConflict(f"a wave named {name!r} already exists")
        known = set(
            (
                await conn.execute(
                    select(questionnaires.c.id).where(
                        questionnaires.c.id.in_(list(questionnaire_ids.values()))
                    )
                )
            ).scalars()
        )
        missing = sorted(set(questionnaire_ids.values()) - known)
        if missing:
            raise NotFound(f"unknown questionnaire id(s): {', '.join(map(str, missing))}")
        try:
            # The partial unique index uq_waves_one_open catches a concurrent opener.
            async with conn.begin_nested():
                wave_id = (
                    await conn.execute(
                        waves.insert()
                        .values(name=name, status=WaveStatus.OPEN.value, opened_at=utc(now))
                        .returning(waves.c.id)
                    )
                ).scalar_one()
        except IntegrityError as exc:
            raise WaveConflict("another wave was opened at the same time") from exc
        if questionnaire_ids:
            await conn.execute(
                wave_questionnaires.insert(),
                [
                    {"wave_id": wave_id, "grp": grp, "questionnaire_id": qid}
                    for grp, qid in questionnaire_ids.items()
                ],
            )
        await move_planned_invitations(conn, name, wave_id)
        return (await _waves(conn, waves.c.id == wave_id))[0]


async def close_wave(engine: AsyncEngine, wave_id: int, now: datetime) -> bool:
    """Close an open wave; return False if it was not open."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(waves)
            .where(waves.c.id == wave_id, waves.c.status == WaveStatus.OPEN.value)
            .values(status=WaveStatus.CLOSED.value, closed_at=utc(now))
        )
        return result.rowcount == 1


async def list_waves(engine: AsyncEngine) -> list[Wave]:
    """Return every wave, newest first."""
    async with read_connection(engine) as conn:
        return await _waves(conn)


async def current_wave(engine: AsyncEngine) -> Wave | None:
    """Return the open wave, or None."""
    found = await _waves_now(engine, waves.c.status == WaveStatus.OPEN.value)
    return found[0] if found else None


async def get_wave(engine: AsyncEngine, name: str) -> Wave | None:
    """Return the wave with this name, or None."""
    async with read_connection(engine) as conn:
        found = await _waves(conn, waves.c.name == name)
    return found[0] if found else None


async def get_wave_by_id(engine: AsyncEngine, wave_id: int) -> Wave | None:
    """Return the wave with this id, or None."""
    found = await _waves_now(engine, waves.c.id == wave_id)
    return found[0] if found else None
