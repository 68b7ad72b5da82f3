"""Per-response facts for data exports: language and completion, beside the answers frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection
from storage.schema import responses, units

if TYPE_CHECKING:  # pandas loads with the first export, not when the bot starts
    import pandas as pd

__all__ = ["RESPONSE_COLUMNS", "responses_frame"]

RESPONSE_COLUMNS = (
    "response_id",
    "grp",
    "unit_code",
    "language",
    "completed_on",
    "duration_seconds",
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
            responses.c.duration_seconds,
        )
        .join(units, units.c.id == responses.c.unit_id)
        .where(responses.c.wave_id == wave_id, responses.c.status == "submitted")
        .order_by(responses.c.completed_on, responses.c.id)
    )
    async with read_connection(engine) as conn:
        rows = [tuple(row) for row in await conn.execute(stmt)]
    frame = pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))
    frame["duration_seconds"] = frame["duration_seconds"].astype("Int64")
    return frame
