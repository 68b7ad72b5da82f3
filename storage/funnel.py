"""How a wave's surveys are going per unit and group: begun, in progress, stopped, abandoned,
completed (the `/progres` funnel). Counts only: no pseudonym and no time leaves here.

A survey that ends without a submission (cancelled, or expired unfinished) is deleted with
its drafts; `tally_dropouts` counts it first, in the same transaction, into `dropouts`
(defined here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.answers import responses
from storage.db import read_connection, utc
from storage.dialects import upsert_add
from storage.metadata import metadata
from storage.respondents import survey_sessions
from storage.units import units

__all__ = ["UnitFunnel", "dropouts", "tally_dropouts", "unit_funnel"]


@dataclass(frozen=True, slots=True)
class UnitFunnel:
    """A unit's surveys of one group in a wave, by where they are.

    `in_progress`: moved recently; `stopped`: idle for a while (still resumable, reminded);
    `abandoned`: ended without a submission (cancelled, or expired); `completed`: submitted.
    Counts surveys begun, not people: someone who cancels and starts again counts twice.
    """

    unit_code: str
    unit_name: str
    grp: str
    in_progress: int
    stopped: int
    abandoned: int
    completed: int

    @property
    def started(self) -> int:
        """Every survey begun, however it is going."""
        return self.in_progress + self.stopped + self.abandoned + self.completed


# Surveys begun and ended without a submission (cancelled, or expired), counted per wave, unit
# and group when their partial response is deleted: /progres shows them as abandoned. Only a
# count: no pseudonym, no time.
dropouts = Table(
    "dropouts",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)


def tally_dropouts(conn: Connection, ended: Mapping[tuple[int, int, str], int]) -> None:
    """Count surveys about to be deleted unsubmitted, per (wave, unit, group), as abandoned
    (inside the caller's transaction: the one that cancels or expires them)."""
    rows = [
        {"wave_id": wave_id, "unit_id": unit_id, "grp": grp, "count": count}
        for (wave_id, unit_id, grp), count in ended.items()
        if count
    ]
    if rows:
        conn.execute(upsert_add(conn, dropouts, rows, ["wave_id", "unit_id", "grp"], "count"))


async def unit_funnel(engine: AsyncEngine, wave_id: int, idle_before: datetime) -> list[UnitFunnel]:
    """Return per unit and group: surveys in progress (moved since `idle_before`), stopped
    (idle since then, still resumable), abandoned (ended unsubmitted) and completed."""
    idle = survey_sessions.c.updated_at <= utc(idle_before)
    sessions = (
        select(
            survey_sessions.c.unit_id.label("unit_id"),
            survey_sessions.c.grp.label("grp"),
            func.sum(case((idle, 0), else_=1)).label("active"),
            func.sum(case((idle, 1), else_=0)).label("stopped"),
            literal(0).label("ended"),
            literal(0).label("completed"),
        )
        .where(survey_sessions.c.wave_id == wave_id)
        .group_by(survey_sessions.c.unit_id, survey_sessions.c.grp)
    )
    ended = select(
        dropouts.c.unit_id,
        dropouts.c.grp,
        literal(0),
        literal(0),
        dropouts.c.count,
        literal(0),
    ).where(dropouts.c.wave_id == wave_id)
    completed = (
        select(
            responses.c.unit_id,
            responses.c.grp,
            literal(0),
            literal(0),
            literal(0),
            func.count(),
        )
        .where(responses.c.wave_id == wave_id)
        .group_by(responses.c.unit_id, responses.c.grp)
    )
    parts = sessions.union_all(ended, completed).subquery()
    stmt = (
        select(
            units.c.code,
            units.c.name,
            parts.c.grp,
            func.sum(parts.c.active),
            func.sum(parts.c.stopped),
            func.sum(parts.c.ended),
            func.sum(parts.c.completed),
        )
        .join(units, units.c.id == parts.c.unit_id)
        .group_by(units.c.code, units.c.name, parts.c.grp)
        .order_by(units.c.code, parts.c.grp)
    )
    async with read_connection(engine) as conn:
        return [
            UnitFunnel(code, name, grp, int(active), int(stopped), int(ended), int(done))
            for code, name, grp, active, stopped, ended, done in await conn.execute(stmt)
        ]
