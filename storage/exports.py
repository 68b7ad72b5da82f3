"""Per-response facts for data exports: language, completion date and the duration and pace
bands, beside the answers frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.answers import responses
from storage.db import read_connection
from storage.units import units

if TYPE_CHECKING:  # pandas loads with the first export, not when the bot starts
    import pandas as pd

__all__ = ["RESPONSE_COLUMNS", "responses_frame"]

RESPONSE_COLUMNS = (
    "response_id",
    "grp",
    "unit_code",
    "language",
    "completed_on",
    "duration_band",
    "pace_band",
)


async def responses_frame(engine: AsyncEngine, wave_id: int) -> pd.DataFrame:
    """Return one row per submitted response of the wave (no answers, no time of day)."""
    import pandas as pd

    stmt = (
        select(
            responses.c.id,
            responses.c.grp,
            units.c.code,
            responses.c.language,
            responses.c.completed_on,
            responses.c.duration_band,
            responses.c.pace_band,
        )
        .join(units, units.c.id == responses.c.unit_id)
        .where(responses.c.wave_id == wave_id)
        .order_by(responses.c.completed_on, responses.c.id)
    )
    async with read_connection(engine) as conn:
        rows = [tuple(row) for row in await conn.execute(stmt)]
    frame = pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))
    for column in ("duration_band", "pace_band"):
        frame[column] = frame[column].astype("Int64")
    return frame
