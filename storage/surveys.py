"""Questionnaire versions, survey waves and personal one-time invitations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import NotFound, QuestionnaireConflict, WaveConflict
from storage.models import (
    ClaimStatus,
    Invitation,
    InvitationClaim,
    NewInvitation,
    StoredQuestionnaire,
    Wave,
    WaveStatus,
)
from storage.schema import invitations, questionnaires, wave_questionnaires, waves

__all__ = [
    "claim_invitation",
    "close_wave",
    "create_invitations",
    "current_wave",
    "get_invitation",
    "get_questionnaire",
    "get_wave",
    "get_wave_by_id",
    "latest_questionnaire",
    "latest_questionnaires",
    "list_waves",
    "open_wave",
    "save_questionnaire",
]

# Rows per INSERT statement for bulk invitations: well under SQLite's variable limit.
_BATCH: Final = 1000


def _questionnaire(row: Row[Any]) -> StoredQuestionnaire:
    """Build a StoredQuestionnaire from a questionnaires row."""
    return StoredQuestionnaire(
        id=row.id,
        key=row.key,
        version=row.version,
        grp=row.grp,
        source_yaml=row.source_yaml,
        loaded_at=from_db(row.loaded_at),
    )


async def _find_questionnaire(
    conn: AsyncConnection, key: str, version: int
) -> StoredQuestionnaire | None:
    """Return the stored questionnaire with this key and version, or None."""
    row = (
        await conn.execute(
            select(questionnaires).where(
                questionnaires.c.key == key, questionnaires.c.version == version
            )
        )
    ).first()
    return None if row is None else _questionnaire(row)


def _same_or_conflict(
    found: StoredQuestionnaire, grp: str, source_yaml: str
) -> StoredQuestionnaire:
    """Return `found` if it holds the same text, else raise QuestionnaireConflict."""
    if found.source_yaml != source_yaml or found.grp != grp:
        raise QuestionnaireConflict(
            f"questionnaire {found.key!r} version {found.version} was loaded before with "
            "different content; raise its version number"
        )
    return found


async def save_questionnaire(
    engine: AsyncEngine, key: str, version: int, grp: str, source_yaml: str, now: datetime
) -> StoredQuestionnaire:
    """Store a questionnaire version; the same key, version and text returns the stored one."""
    async with write_transaction(engine) as conn:
        found = await _find_questionnaire(conn, key, version)
        if found is not None:
            return _same_or_conflict(found, grp, source_yaml)
        try:
            async with conn.begin_nested():
                result = await conn.execute(
                    questionnaires.insert()
                    .values(
                        key=key,
                        version=version,
                        grp=grp,
                        source_yaml=source_yaml,
                        loaded_at=utc(now),
                    )
                    .returning(questionnaires.c.id)
                )
        except IntegrityError:
            # Someone saved the same version between our SELECT and INSERT (PostgreSQL).
            found = await _find_questionnaire(conn, key, version)
            if found is None:
                raise
            return _same_or_conflict(found, grp, source_yaml)
        new_id = result.scalar_one()
    return StoredQuestionnaire(new_id, key, version, grp, source_yaml, utc(now))


async def get_questionnaire(
    engine: AsyncEngine, questionnaire_id: int
) -> StoredQuestionnaire | None:
    """Return the questionnaire with this id, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                select(questionnaires).where(questionnaires.c.id == questionnaire_id)
            )
        ).first()
    return None if row is None else _questionnaire(row)


async def latest_questionnaires(engine: AsyncEngine) -> dict[str, StoredQuestionnaire]:
    """Return the highest version of every questionnaire key."""
    newest = (
        select(questionnaires.c.key, func.max(questionnaires.c.version).label("version"))
        .group_by(questionnaires.c.key)
        .subquery()
    )
    stmt = select(questionnaires).join(
        newest,
        (newest.c.key == questionnaires.c.key) & (newest.c.version == questionnaires.c.version),
    )
    async with read_connection(engine) as conn:
        return {row.key: _questionnaire(row) for row in await conn.execute(stmt)}


async def latest_questionnaire(engine: AsyncEngine, key: str) -> StoredQuestionnaire | None:
    """Return the highest version of questionnaire `key`, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                select(questionnaires)
                .where(questionnaires.c.key == key)
                .order_by(questionnaires.c.version.desc())
                .limit(1)
            )
        ).first()
    return None if row is None else _questionnaire(row)


async def _waves(conn: AsyncConnection, *conditions: Any) -> list[Wave]:
    """Return the waves matching `conditions`, newest first, with their questionnaires."""
    rows = (
        await conn.execute(
            select(waves).where(*conditions).order_by(waves.c.opened_at.desc(), waves.c.id.desc())
        )
    ).all()
    if not rows:
        return []
    links: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    for wave_id, grp, questionnaire_id in await conn.execute(
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


async def open_wave(
    engine: AsyncEngine, name: str, questionnaire_ids: Mapping[str, int], now: datetime
) -> Wave:
    """Open a new wave in which each group answers the given questionnaire.

    Raises WaveConflict when a wave is already open or the name is taken, and NotFound for
    an unknown questionnaire id.
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
    async with read_connection(engine) as conn:
        found = await _waves(conn, waves.c.status == WaveStatus.OPEN.value)
    return found[0] if found else None


async def get_wave(engine: AsyncEngine, name: str) -> Wave | None:
    """Return the wave with this name, or None."""
    async with read_connection(engine) as conn:
        found = await _waves(conn, waves.c.name == name)
    return found[0] if found else None


async def get_wave_by_id(engine: AsyncEngine, wave_id: int) -> Wave | None:
    """Return the wave with this id, or None."""
    async with read_connection(engine) as conn:
        found = await _waves(conn, waves.c.id == wave_id)
    return found[0] if found else None


async def create_invitations(
    engine: AsyncEngine, new: Iterable[NewInvitation], now: datetime
) -> int:
    """Store invitations (token hashes only) in one transaction; return how many."""
    created_at = utc(now)
    rows = [
        {
            "token_hash": item.token_hash,
            "wave_id": item.wave_id,
            "grp": item.grp,
            "unit_id": item.unit_id,
            "created_at": created_at,
            "used": False,
        }
        for item in new
    ]
    async with write_transaction(engine) as conn:
        for start in range(0, len(rows), _BATCH):
            await conn.execute(invitations.insert(), rows[start : start + _BATCH])
    return len(rows)


def _invitation(row: Row[Any]) -> Invitation:
    """Build an Invitation from an invitations row."""
    return Invitation(
        id=row.id,
        wave_id=row.wave_id,
        grp=row.grp,
        unit_id=row.unit_id,
        used=bool(row.used),
        created_at=from_db(row.created_at),
    )


async def get_invitation(engine: AsyncEngine, token_hash: str) -> Invitation | None:
    """Return the invitation with this token hash, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(select(invitations).where(invitations.c.token_hash == token_hash))
        ).first()
    return None if row is None else _invitation(row)


async def claim_invitation(engine: AsyncEngine, token_hash: str) -> InvitationClaim:
    """Mark an unused invitation used and return it; exactly one concurrent claim wins."""
    async with write_transaction(engine) as conn:
        # The conditional UPDATE is the claim: only one transaction can flip used to true.
        claimed = await conn.execute(
            update(invitations)
            .where(invitations.c.token_hash == token_hash, invitations.c.used.is_(False))
            .values(used=True)
        )
        row = (
            await conn.execute(select(invitations).where(invitations.c.token_hash == token_hash))
        ).first()
    if row is None:
        return InvitationClaim(ClaimStatus.UNKNOWN)
    status = ClaimStatus.CLAIMED if claimed.rowcount == 1 else ClaimStatus.ALREADY_USED
    return InvitationClaim(status, _invitation(row))
