"""Targets per unit and group (responses needed), fixed when a wave opens (issue 22).

Written once per (wave, unit, group): a later write of the same key is ignored, so a unit's
target never moves during its wave, whichever process writes first.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection, write_transaction
from storage.dialects import insert_ignore
from storage.metadata import GROUPS, metadata

__all__ = ["INSTITUTION", "fix_targets", "targets_of", "wave_targets"]


# The responses each unit × group needs (`needed`), fixed when the wave opens so targets do
# not move overnight. unit_code '' is the institution.
wave_targets = Table(
    "wave_targets",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_code", String(40), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("needed", Integer, nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    CheckConstraint("needed >= 0", name="needed"),
)

INSTITUTION = ""  # the unit_code of the institution's own targets


async def fix_targets(
    engine: AsyncEngine, wave_id: int, targets: Mapping[tuple[str, str], int]
) -> None:
    """Store `targets[(unit_code, group)] = needed` for a wave, keeping any already stored."""
    if not targets:
        return
    rows = [
        {"wave_id": wave_id, "unit_code": unit, "grp": grp, "needed": needed}
        for (unit, grp), needed in targets.items()
    ]
    async with write_transaction(engine) as conn:
        await conn.execute(insert_ignore(conn, wave_targets, rows, ["wave_id", "unit_code", "grp"]))


async def targets_of(engine: AsyncEngine, wave_id: int) -> dict[tuple[str, str], int]:
    """Return a wave's fixed targets, keyed by (unit_code, group); empty when none are."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(wave_targets.c.unit_code, wave_targets.c.grp, wave_targets.c.needed).where(
                wave_targets.c.wave_id == wave_id
            )
        )
        return {(row.unit_code, row.grp): row.needed for row in rows}
