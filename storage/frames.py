"""Scoring input: submitted answers as a pandas DataFrame, and response counts.

`answers_frame` is on the hot path of every report (about a million answers for a large
wave), so it reads packed rows through the raw driver connection instead of SQLAlchemy's
per-row Result processing, and builds the frame column by column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from scoring.columns import ANSWER_COLUMNS  # the contract scoring reads, in a leaf module
from storage.answers import SEPARATOR, responses
from storage.db import read_connection
from storage.errors import StorageError
from storage.respondents import survey_sessions
from storage.units import units

if TYPE_CHECKING:  # numpy and pandas load with the first frame, not when the bot starts
    import pandas as pd

__all__ = ["ANSWER_COLUMNS", "ResponseCount", "answers_frame", "response_counts"]


@dataclass(frozen=True, slots=True)
class ResponseCount:
    """Responses per unit and group in a wave: submitted, and surveys still in progress."""

    unit_code: str
    grp: str
    submitted: int
    in_progress: int


# One row per submitted response (the table holds nothing else), its answers packed into one string
# of alternating question ids and values. Decoding a million separate (response, question, value)
# rows is what costs time in the sqlite3 driver; a few thousand packed rows split with str.split
# cost little, and each pair is concatenated before aggregation, so pairing never depends on row
# order.
_FRAME_SQL: Final = {
    "sqlite": (
        "SELECT r.id, r.grp, u.code, r.duration_band, r.pace_band, r.completed_on, "
        "(SELECT group_concat(a.question_id || char(31) || a.value, char(31)) "
        "FROM answers a WHERE a.response_id = r.id) "
        "FROM responses r JOIN units u ON u.id = r.unit_id "
        "WHERE r.wave_id = ?"
    ),
    "postgresql": (
        "SELECT r.id, r.grp, u.code, r.duration_band, r.pace_band, r.completed_on, "
        "(SELECT string_agg(a.question_id || chr(31) || a.value, chr(31)) "
        "FROM answers a WHERE a.response_id = r.id) "
        "FROM responses r JOIN units u ON u.id = r.unit_id "
        "WHERE r.wave_id = $1"
    ),
}


async def _fetch(engine: AsyncEngine, wave_id: int) -> Sequence[Any]:
    """Return the packed rows of a wave's submitted responses, straight from the driver."""
    dialect = engine.dialect.name
    async with read_connection(engine) as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if dialect == "postgresql":
            return list(await driver.fetch(_FRAME_SQL[dialect], wave_id))
        cursor = await driver.execute(_FRAME_SQL[dialect], (wave_id,))
        try:
            return list(await cursor.fetchall())
        finally:
            await cursor.close()


def _build(rows: Sequence[Any]) -> pd.DataFrame:
    """Unpack response rows into one frame row per answer."""
    import numpy as np
    import pandas as pd

    ids: list[str] = []
    grps: list[str] = []
    codes: list[str] = []
    duration_bands: list[int | None] = []
    pace_bands: list[int | None] = []
    dates: list[object] = []
    counts: list[int] = []
    question_codes: list[np.ndarray[Any, np.dtype[np.int32]]] = []
    values: list[str] = []
    # Responses to one questionnaire mostly share the same question sequence, so question ids
    # are encoded once per distinct sequence instead of factorising a million strings.
    categories: dict[str, int] = {}
    sequences: dict[tuple[str, ...], np.ndarray[Any, np.dtype[np.int32]]] = {}
    for response_id, grp, code, duration, pace, completed_on, packed in rows:
        if not packed:
            continue  # submitted without answers: nothing to score
        parts = packed.split(SEPARATOR)
        if len(parts) % 2:
            raise StorageError("an answer holds the reserved separator character \\x1f")
        sequence = tuple(parts[0::2])
        encoded = sequences.get(sequence)
        if encoded is None:
            encoded = np.fromiter(
                (categories.setdefault(q, len(categories)) for q in sequence),
                dtype=np.int32,
                count=len(sequence),
            )
            sequences[sequence] = encoded
        ids.append(response_id)
        grps.append(grp)
        codes.append(code)
        duration_bands.append(duration)
        pace_bands.append(pace)
        dates.append(completed_on)
        counts.append(len(sequence))
        question_codes.append(encoded)
        values += parts[1::2]
    # Row of each answer's response in the per-response lists.
    position = np.repeat(np.arange(len(ids), dtype=np.intp), counts)
    grp_codes = pd.Categorical(grps)
    unit_codes = pd.Categorical(codes)
    completed = pd.to_datetime(pd.Series(dates, dtype=object)).to_numpy(dtype="datetime64[ns]")
    question_index = pd.Index(list(categories), dtype="str")
    all_question_codes = (
        np.concatenate(question_codes) if question_codes else np.zeros(0, dtype=np.int32)
    )
    return pd.DataFrame(
        {
            "response_id": pd.Categorical.from_codes(
                position, categories=pd.Index(ids, dtype="str")
            ),
            "grp": pd.Categorical.from_codes(grp_codes.codes[position], dtype=grp_codes.dtype),
            "unit_code": pd.Categorical.from_codes(
                unit_codes.codes[position], dtype=unit_codes.dtype
            ),
            "duration_band": pd.array(duration_bands, dtype="Int64").take(position),
            "pace_band": pd.array(pace_bands, dtype="Int64").take(position),
            "completed_on": completed[position],
            "question_id": pd.Categorical.from_codes(all_question_codes, categories=question_index),
            "value": pd.array(values, dtype="str"),
        },
        columns=list(ANSWER_COLUMNS),
    )


async def answers_frame(engine: AsyncEngine, wave_id: int) -> pd.DataFrame:
    """Return one row per answer of the wave's submitted responses.

    Columns: response_id, grp, unit_code, question_id (categorical), duration_band and
    pace_band (nullable Int64, scoring.paradata), completed_on (datetime64[ns], the date at
    midnight), value (str). Surveys in progress are never included (they are not responses).
    """
    return _build(await _fetch(engine, wave_id))


async def response_counts(engine: AsyncEngine, wave_id: int) -> list[ResponseCount]:
    """Return per unit and group of a wave: submitted responses, and surveys in progress."""
    parts = (
        select(
            responses.c.unit_id.label("unit_id"),
            responses.c.grp.label("grp"),
            literal(1).label("submitted"),
            literal(0).label("in_progress"),
        )
        .where(responses.c.wave_id == wave_id)
        .union_all(
            select(
                survey_sessions.c.unit_id,
                survey_sessions.c.grp,
                literal(0),
                literal(1),
            ).where(survey_sessions.c.wave_id == wave_id)
        )
        .subquery()
    )
    stmt = (
        select(
            units.c.code, parts.c.grp, func.sum(parts.c.submitted), func.sum(parts.c.in_progress)
        )
        .join(units, units.c.id == parts.c.unit_id)
        .group_by(units.c.code, parts.c.grp)
        .order_by(units.c.code, parts.c.grp)
    )
    async with read_connection(engine) as conn:
        return [
            ResponseCount(unit_code=code, grp=grp, submitted=int(s), in_progress=int(p))
            for code, grp, s, p in await conn.execute(stmt)
        ]
