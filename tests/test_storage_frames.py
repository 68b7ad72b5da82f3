"""Scoring input: the answers DataFrame (submitted responses only) and response counts."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from storage import (
    ANSWER_COLUMNS,
    ResponseCount,
    answers_frame,
    response_counts,
    start_session,
    submit,
)
from tests.storage_fixtures import NOW, record_answers


async def _respond(setup, pseudonym, grp, unit, answers, *, finish=True, duration=300):
    db = setup.db
    session = await start_session(
        db.engine, pseudonym, setup.wave.id, grp, setup.units[unit].id, None, "id", "consent", NOW
    )
    await record_answers(db, session, answers)
    if finish:
        assert await submit(db.engine, pseudonym, date(2025, 5, 3), duration)
    return session.response_id


async def test_answers_frame_has_submitted_answers_only(survey_setup):
    db = survey_setup.db
    first = await _respond(survey_setup, "a" * 64, "external", "PKM-01", {"q1": "4", "q2": "a,b"})
    second = await _respond(
        survey_setup, "b" * 64, "internal", "DINKES", {"q1": "2", "q9": "teks bebas"}, duration=90
    )
    await _respond(survey_setup, "c" * 64, "external", "PKM-01", {"q1": "1"}, finish=False)

    frame = await answers_frame(db.engine, survey_setup.wave.id)

    assert list(frame.columns) == list(ANSWER_COLUMNS)
    for column in ("grp", "unit_code", "question_id"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype)
    rows = sorted(
        (
            r.response_id,
            r.grp,
            r.unit_code,
            r.duration_seconds,
            r.completed_on,
            r.question_id,
            r.value,
        )
        for r in frame.itertuples()
    )
    day = pd.Timestamp("2025-05-03")
    assert rows == sorted(
        [
            (first, "external", "PKM-01", 300, day, "q1", "4"),
            (first, "external", "PKM-01", 300, day, "q2", "a,b"),
            (second, "internal", "DINKES", 90, day, "q1", "2"),
            (second, "internal", "DINKES", 90, day, "q9", "teks bebas"),
        ]
    )


@pytest.mark.parametrize("other_wave", [False, True])
async def test_answers_frame_empty(survey_setup, other_wave):
    db = survey_setup.db
    if other_wave:
        await _respond(survey_setup, "a" * 64, "external", "PKM-01", {"q1": "4"})
    frame = await answers_frame(db.engine, survey_setup.wave.id + (1 if other_wave else 0))
    assert frame.empty
    assert list(frame.columns) == list(ANSWER_COLUMNS)
    assert isinstance(frame["question_id"].dtype, pd.CategoricalDtype)


async def test_response_counts(survey_setup):
    db = survey_setup.db
    await _respond(survey_setup, "a" * 64, "external", "PKM-01", {"q1": "4"})
    await _respond(survey_setup, "b" * 64, "external", "PKM-01", {"q1": "4"})
    await _respond(survey_setup, "c" * 64, "external", "PKM-01", {"q1": "4"}, finish=False)
    await _respond(survey_setup, "d" * 64, "internal", "DINKES", {"q1": "4"}, finish=False)
    assert await response_counts(db.engine, survey_setup.wave.id) == [
        ResponseCount("DINKES", "internal", submitted=0, in_progress=1),
        ResponseCount("PKM-01", "external", submitted=2, in_progress=1),
    ]
    assert await response_counts(db.engine, survey_setup.wave.id + 1) == []
