"""Builders shared by the scoring tests: questionnaires in code, answer frames, units.

No tests here; the module is named test_* only to stay within the scoring tests' files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from scoring import ANSWER_COLUMNS, UnitInfo
from surveys.model import Dimension, Group, Option, Question, Questionnaire, QuestionType, Text

# Five-point Likert: evenly spaced 0..100; "tt" is *tidak tahu* (no score).
LIKERT_SCORES = {"1": 0.0, "2": 25.0, "3": 50.0, "4": 75.0, "5": 100.0}
TIDAK_TAHU = "tt"
DAY = dt.date(2025, 3, 1)


def likert(qid: str, dimension: Dimension, *, reverse: bool = False) -> Question:
    options = tuple(Option(v, Text(v, v), s) for v, s in LIKERT_SCORES.items())
    options += (Option(TIDAK_TAHU, Text("Tidak tahu", "Don't know"), None),)
    return Question(
        id=qid,
        type=QuestionType.LIKERT,
        text=Text(qid, qid),
        dimension=dimension,
        options=options,
        reverse=reverse,
    )


def multiple(qid: str, dimension: Dimension, scores: Mapping[str, float | None]) -> Question:
    options = tuple(Option(v, Text(v, v), s) for v, s in scores.items())
    return Question(qid, QuestionType.MULTIPLE, Text(qid, qid), dimension, options)


def free_text(qid: str) -> Question:
    return Question(qid, QuestionType.TEXT, Text(qid, qid), required=False)


def questionnaire(group: Group, questions: Sequence[Question]) -> Questionnaire:
    return Questionnaire(
        id=f"{group.value}-test",
        version=1,
        group=group,
        title=Text("t", "t"),
        intro=Text("i", "i"),
        questions=tuple(questions),
    )


def two_dimension_questionnaires() -> dict[Group, Questionnaire]:
    """Each group: q1, q2 (transparency), q3 (task_integrity, reverse-keyed), note (text)."""
    qs = [
        likert("q1", Dimension.TRANSPARENCY),
        likert("q2", Dimension.TRANSPARENCY),
        likert("q3", Dimension.TASK_INTEGRITY, reverse=True),
        free_text("note"),
    ]
    return {g: questionnaire(g, qs) for g in Group}


def answers_frame(
    responses: Iterable[tuple[str, Group | str, str, float | None, Mapping[str, str]]],
    *,
    categorical: bool = False,
) -> pd.DataFrame:
    """Build the long answers frame storage provides, one row per (response, question).

    Each response is (id, group, unit, pace band, answers); its duration band is unknown.
    """
    rows = [
        (rid, str(grp), unit, None, pace, DAY, qid, value)
        for rid, grp, unit, pace, answers in responses
        for qid, value in answers.items()
    ]
    frame = pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))
    for column in ("duration_band", "pace_band"):
        frame[column] = frame[column].astype("float64")
    if categorical:
        for col in ("grp", "unit_code", "question_id"):
            frame[col] = frame[col].astype("category")
    return frame


def units(*codes: str, roster: int | None = None, public: bool = True) -> list[UnitInfo]:
    return [UnitInfo(c, f"Unit {c}", "opd", None, public, roster) for c in codes]


def synthetic_frame(
    n_responses: int, n_units: int, n_items: int, *, seed: int = 1
) -> tuple[pd.DataFrame, dict[Group, Questionnaire], list[UnitInfo]]:
    """A large random wave: every response answers every item (used for timing)."""
    rng = np.random.default_rng(seed)
    dims = list(Dimension)
    qs = [likert(f"q{i:02d}", dims[i % len(dims)], reverse=i % 5 == 0) for i in range(n_items)]
    qns = {g: questionnaire(g, qs) for g in Group}
    resp = np.repeat(np.arange(n_responses), n_items)
    group_of = rng.integers(0, 3, n_responses)
    unit_of = rng.integers(0, n_units, n_responses)
    values = np.array(["1", "2", "3", "4", "5", TIDAK_TAHU])
    frame = pd.DataFrame(
        {
            "response_id": pd.Series([f"r{i:07d}" for i in range(n_responses)]).to_numpy()[resp],
            "grp": pd.Categorical.from_codes(
                group_of[resp], categories=pd.Index([g.value for g in Group])
            ),
            "unit_code": pd.Categorical.from_codes(
                unit_of[resp], categories=pd.Index([f"u{i:02d}" for i in range(n_units)])
            ),
            "duration_band": rng.integers(2, 6, n_responses)[resp],
            "pace_band": rng.integers(3, 6, n_responses)[resp],
            "completed_on": DAY,
            "question_id": pd.Categorical.from_codes(
                np.tile(np.arange(n_items), n_responses), categories=pd.Index([q.id for q in qs])
            ),
            "value": values[
                rng.choice(6, size=n_responses * n_items, p=[0.05, 0.1, 0.25, 0.3, 0.25, 0.05])
            ],
        }
    )
    unit_list = [UnitInfo(f"u{i:02d}", f"Unit {i}", "opd", None, True, 500) for i in range(n_units)]
    return frame, qns, unit_list
