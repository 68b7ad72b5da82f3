"""Paradata as aggregates only: per item what everyone did, and submissions per hour.

What a person did on each item while answering is kept in their draft rows (seconds on the
item, answers changed on coming back, items passed without an answer) and folded in here as
counts when their survey ends, submitted or not, in the transaction that deletes the drafts.
Submissions are counted per wave, unit, group and clock hour in the submitting transaction.
Nothing here names a person or a response: these are the tables the survey-integrity rules
(issue 24) read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from scoring.paradata import ITEM_SECONDS_EDGES, item_seconds_band
from storage.db import from_db, utc
from storage.dialects import upsert_add
from storage.metadata import metadata
from storage.onehop import run_read
from storage.units import units

__all__ = [
    "ITEM_TIME_BANDS",
    "Arrival",
    "DraftRow",
    "ItemParadata",
    "ItemTally",
    "add_arrival",
    "arrivals",
    "item_paradata",
    "list_arrivals",
    "list_item_paradata",
]


# Bands of seconds per item in item_paradata (one column each).
ITEM_TIME_BANDS = len(ITEM_SECONDS_EDGES) + 1


# Submissions counted per wave, unit, group and clock hour (UTC): when answers arrived, for
# the survey-integrity rules (issue 24), as counts only. Incremented in the submitting
# transaction; nothing ties a count to a response.
arrivals = Table(
    "arrivals",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),  # the start of the hour
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# Per questionnaire item and wave, what everyone did there, summed when each survey ended
# (submitted, cancelled or expired): shown, answered, changed on coming back, skipped, and
# abandoned there (the survey ended unsubmitted on that item), and a histogram of seconds on
# the item (bands of scoring.paradata.ITEM_SECONDS_EDGES: time_band_0 is the fastest).
item_paradata = Table(
    "item_paradata",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), primary_key=True),
    Column("question_id", String(60), primary_key=True),
    Column("shown", Integer, nullable=False, server_default="0"),
    Column("answered", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("abandoned", Integer, nullable=False, server_default="0"),
    *(
        Column(f"time_band_{band}", Integer, nullable=False, server_default="0")
        for band in range(ITEM_TIME_BANDS)
    ),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)

_COUNTS: Final = ("shown", "answered", "changed", "skipped", "abandoned")
_BANDS: Final = tuple(f"time_band_{band}" for band in range(ITEM_TIME_BANDS))


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One draft answer as the tally reads it (value None: shown and passed unanswered)."""

    question_id: str
    value: str | None
    seconds: int
    changes: int


@dataclass(frozen=True, slots=True)
class ItemParadata:
    """What everyone did on one questionnaire item in a wave (surveys that have ended)."""

    questionnaire_id: int
    question_id: str
    shown: int
    answered: int
    changed: int  # answered, then changed on coming back
    skipped: int  # shown and passed without an answer
    abandoned: int  # the survey ended unsubmitted while on this item
    time_bands: tuple[int, ...]  # counts per band of scoring.paradata.ITEM_SECONDS_EDGES


@dataclass(frozen=True, slots=True)
class Arrival:
    """How many submissions a unit and group received in one clock hour (UTC)."""

    unit_code: str
    grp: str
    hour: datetime
    count: int


@dataclass
class ItemTally:
    """Counts of several ended surveys' drafts, written in one statement (`write`)."""

    rows: dict[tuple[int, int, str], dict[str, int]] = field(default_factory=dict)

    def _row(self, wave_id: int, questionnaire_id: int, question_id: str) -> dict[str, int]:
        key = (wave_id, questionnaire_id, question_id)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = dict.fromkeys((*_COUNTS, *_BANDS), 0)
        return row

    def add(
        self,
        wave_id: int,
        questionnaire_id: int,
        drafts: Iterable[DraftRow],
        abandoned_at: str | None = None,
    ) -> None:
        """Count one survey's drafts; `abandoned_at` is the item it ended on unsubmitted."""
        seen = set()
        for draft in drafts:
            seen.add(draft.question_id)
            row = self._row(wave_id, questionnaire_id, draft.question_id)
            row["shown"] += 1
            row["answered" if draft.value is not None else "skipped"] += 1
            row["changed"] += 1 if draft.changes > 0 else 0
            row[_BANDS[item_seconds_band(max(0, draft.seconds))]] += 1
        if abandoned_at is not None:
            row = self._row(wave_id, questionnaire_id, abandoned_at)
            row["abandoned"] += 1
            if abandoned_at not in seen:  # on screen, never answered nor passed
                row["shown"] += 1

    def in_key_order(self) -> list[tuple[tuple[int, int, str], dict[str, int]]]:
        """Return the rows by (wave, questionnaire, question): concurrent submissions add to
        the same rows, and taking their locks in one order is what keeps PostgreSQL from
        aborting one of them as a deadlock (the drafts come in each person's own order)."""
        return sorted(self.rows.items())

    def write(self, conn: Connection) -> None:
        """Add the counts to item_paradata (inside the caller's transaction)."""
        if not self.rows:
            return
        values: list[dict[str, Any]] = [
            {"wave_id": w, "questionnaire_id": q, "question_id": i, **counts}
            for (w, q, i), counts in self.in_key_order()
        ]
        key = ("wave_id", "questionnaire_id", "question_id")
        conn.execute(upsert_add(conn, item_paradata, values, key, (*_COUNTS, *_BANDS)))


def add_arrival(conn: Connection, wave_id: int, unit_id: int, grp: str, now: datetime) -> None:
    """Count one submission in its clock hour (inside the submitting transaction)."""
    hour = utc(now).replace(minute=0, second=0, microsecond=0)
    row = {"wave_id": wave_id, "unit_id": unit_id, "grp": grp, "hour": hour, "count": 1}
    conn.execute(upsert_add(conn, arrivals, row, ("wave_id", "unit_id", "grp", "hour"), "count"))


async def list_item_paradata(engine: AsyncEngine, wave_id: int) -> list[ItemParadata]:
    """Return the item paradata of a wave, by questionnaire and question id."""
    statement = (
        select(item_paradata)
        .where(item_paradata.c.wave_id == wave_id)
        .order_by(item_paradata.c.questionnaire_id, item_paradata.c.question_id)
    )
    rows = await run_read(engine, lambda conn: conn.execute(statement).all())
    return [
        ItemParadata(
            questionnaire_id=row.questionnaire_id,
            question_id=row.question_id,
            **{name: int(getattr(row, name)) for name in _COUNTS},
            time_bands=tuple(int(getattr(row, name)) for name in _BANDS),
        )
        for row in rows
    ]


async def list_arrivals(engine: AsyncEngine, wave_id: int) -> list[Arrival]:
    """Return a wave's submissions per unit, group and hour, oldest first."""
    statement = (
        select(units.c.code, arrivals.c.grp, arrivals.c.hour, arrivals.c.count)
        .join(units, units.c.id == arrivals.c.unit_id)
        .where(arrivals.c.wave_id == wave_id)
        .order_by(arrivals.c.hour, units.c.code, arrivals.c.grp)
    )
    rows = await run_read(engine, lambda conn: conn.execute(statement).all())
    return [Arrival(code, grp, from_db(hour), int(count)) for code, grp, hour, count in rows]
