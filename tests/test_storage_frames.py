"""Scoring input: the answers DataFrame (submitted responses only) and response counts."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from storage.frames import ANSWER_COLUMNS, ResponseCount, answers_frame, response_counts
from storage.sessions import start_session, submit
from tests.storage_fixtures import NOW, record_answers


async def _respond(setup, pseudonym, grp, unit, answers, *, finish=True, duration=300):
    db = setup.db
    session = await start_session(
        db.engine, pseudonym, setup.wave.id, grp, setup.units[unit].id, None, "id", "consent", NOW
    )
    await record_answers(db, session, answers)
    if finish:
        finished = NOW + timedelta(seconds=duration)
        assert await submit(db.engine, pseudonym, finished, date(2025, 5, 3))


async def test_answers_frame_has_submitted_answers_only(survey_setup):
    db = survey_setup.db
    await _respond(survey_setup, "a" * 64, "external", "PKM-01", {"q1": "4", "q2": "a,b"})
    await _respond(
        survey_setup, "b" * 64, "internal", "DINKES", {"q1": "2", "q9": "teks bebas"}, duration=90
    )
    await _respond(survey_setup, "c" * 64, "external", "PKM-01", {"q1": "1"}, finish=False)

    frame = await answers_frame(db.engine, survey_setup.wave.id)

    assert list(frame.columns) == list(ANSWER_COLUMNS)
    for column in ("grp", "unit_code", "question_id"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype)
    ids = {r.grp: r.response_id for r in frame.itertuples()}
    assert len(set(ids.values())) == 2
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids.values())
    rows = sorted(
        (
            r.response_id == ids[r.grp],
            r.grp,
            r.unit_code,
            r.duration_band,
            r.pace_band,
            r.completed_on,
            r.question_id,
            r.value,
        )
        for r in frame.itertuples()
    )
    day = pd.Timestamp("2025-05-03")
    # 300 s for two answers: duration band 3 (300-600), pace 150 s: band 7 (64+);
    # 90 s: band 1 (60-180), pace 45 s: band 6 (32-64). Never the seconds themselves.
    assert rows == sorted(
        [
            (True, "external", "PKM-01", 3, 7, day, "q1", "4"),
            (True, "external", "PKM-01", 3, 7, day, "q2", "a,b"),
            (True, "internal", "DINKES", 1, 6, day, "q1", "2"),
            (True, "internal", "DINKES", 1, 6, day, "q9", "teks bebas"),
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
