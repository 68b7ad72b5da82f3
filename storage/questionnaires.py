"""Questionnaire versions: each (key, version) stored once, with its YAML source.

Which waves use each version is `storage.waves.questionnaire_waves`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import QuestionnaireConflict
from storage.metadata import GROUPS, metadata

__all__ = [
    "StoredQuestionnaire",
    "get_questionnaire",
    "latest_questionnaires",
    "list_questionnaires",
    "questionnaires",
    "save_questionnaire",
]


@dataclass(frozen=True, slots=True)
class StoredQuestionnaire:
    """A saved questionnaire version; `surveys.load_questionnaire_text` reloads its YAML."""

    id: int
    key: str
    version: int
    grp: str
    source_yaml: str
    loaded_at: datetime
    # Where it came from: "bundled", "yaml: FILE", "xlsform: FILE"; None when stored before
    # this was recorded (issue 22).
    origin: str | None = None


questionnaires = Table(
    "questionnaires",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(60), nullable=False),  # e.g. "internal"
    Column("version", Integer, nullable=False),
    Column("grp", String(10), nullable=False),
    # The validated YAML, reloaded with surveys.load_questionnaire_text.
    Column("source_yaml", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    # Where it came from (issue 22): "bundled", "yaml: FILE" or "xlsform: FILE"; NULL before.
    Column("origin", String(200), nullable=True),
    UniqueConstraint("key", "version", name="key_version"),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
)


def _questionnaire(row: Row[Any]) -> StoredQuestionnaire:
    """Build a StoredQuestionnaire from a questionnaires row."""
    return StoredQuestionnaire(
        id=row.id,
        key=row.key,
        version=row.version,
        grp=row.grp,
        source_yaml=row.source_yaml,
        loaded_at=from_db(row.loaded_at),
        origin=row.origin,
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
    engine: AsyncEngine,
    key: str,
    version: int,
    grp: str,
    source_yaml: str,
    now: datetime,
    origin: str | None = None,
) -> StoredQuestionnaire:
    """Store a questionnaire version; the same key, version and text returns the stored one.

    `origin` says where it came from ("bundled", "xlsform: FORM.xlsx"), for `survey list`.
    """
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
                        origin=None if origin is None else origin[:200],
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
    return StoredQuestionnaire(
        new_id, key, version, grp, source_yaml, utc(now), None if origin is None else origin[:200]
    )


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


async def list_questionnaires(engine: AsyncEngine) -> list[StoredQuestionnaire]:
    """Return every stored questionnaire version, by group, name and version."""
    stmt = select(questionnaires).order_by(
        questionnaires.c.grp, questionnaires.c.key, questionnaires.c.version
    )
    async with read_connection(engine) as conn:
        return [_questionnaire(row) for row in await conn.execute(stmt)]
