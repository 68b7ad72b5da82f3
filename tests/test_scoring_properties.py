"""Property tests: bounded scores, reverse keying as an involution."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import GROUP_ORDER, QualityConfig, ScoringConfig, build_report
from surveys.model import Dimension, Group
from tests.test_scoring_support import (
    LIKERT_SCORES,
    TIDAK_TAHU,
    answers_frame,
    likert,
    multiple,
    questionnaire,
    units,
)

VALUES = [*LIKERT_SCORES, TIDAK_TAHU]
QUESTIONS = [
    likert("t1", Dimension.TRANSPARENCY),
    likert("t2", Dimension.TRANSPARENCY, reverse=True),
    likert("h1", Dimension.HR_MANAGEMENT),
    likert("b1", Dimension.BUDGET_MANAGEMENT, reverse=True),
    multiple("m", Dimension.PROCUREMENT, {"x": 0.0, "y": 60.0, "z": 100.0, "n": None}),
]
QNS = {g: questionnaire(g, QUESTIONS) for g in Group}
NO_FLAGS = ScoringConfig(min_cell_size=1, quality=QualityConfig(exclude=frozenset()))

answer_sets = st.fixed_dictionaries(
    {},
    optional={
        "t1": st.sampled_from(VALUES),
        "t2": st.sampled_from(VALUES),
        "h1": st.sampled_from(VALUES),
        "b1": st.sampled_from(VALUES),
        "m": st.lists(st.sampled_from("xyzn"), min_size=1, max_size=4, unique=True).map(",".join),
    },
)
responses = st.lists(
    st.tuples(
        st.sampled_from(GROUP_ORDER),
        st.sampled_from(["A", "B", "C"]),
        st.one_of(st.none(), st.integers(1, 3600)),
        answer_sets,
    ),
    max_size=40,
)


def report_of(rows, qns=QNS, config=NO_FLAGS):
    frame = answers_frame(
        (f"r{i}", group, unit, duration, answers)
        for i, (group, unit, duration, answers) in enumerate(rows)
    )
    return build_report(frame, qns, config, wave="w", wave_open=True, units=units("A", "B", "C"))


def numbers(scope):
    yield scope.index
    yield scope.partial_index
    yield from (d.score for d in scope.dimensions)
    for cell in scope.groups:
        yield cell.score
        yield from (d.score for d in cell.dimensions)


@settings(max_examples=80, deadline=None)
@given(rows=responses, k=st.integers(1, 5))
def test_scores_stay_within_0_and_100(rows, k):
    config = dataclasses.replace(NO_FLAGS, min_cell_size=k)
    report = report_of(rows, config=config)
    for scope in (report.institution, *report.units):
        for value in numbers(scope):
            assert value is None or 0.0 <= value <= 100.0
        for cell in scope.groups:
            assert cell.moe is None or cell.moe >= 0
            assert cell.needed >= 0
            assert cell.remaining >= 0


@given(raw=st.sampled_from([*VALUES, "junk"]))
def test_reverse_scoring_is_an_involution(raw):
    question = likert("q", Dimension.TRANSPARENCY)
    flipped = dataclasses.replace(question, reverse=True)
    twice = dataclasses.replace(flipped, reverse=False)
    plain = question.item_score(raw)
    assert twice.item_score(raw) == plain
    reverse = flipped.item_score(raw)
    assert (plain is None and reverse is None) or 100.0 - reverse == plain


@settings(max_examples=40, deadline=None)
@given(rows=responses)
def test_flipping_reverse_keying_mirrors_every_single_item_dimension(rows):
    # h1 alone makes up hr_management, so flipping its keying maps each score s to 100 − s.
    flipped_qs = [
        dataclasses.replace(q, reverse=not q.reverse) if q.id == "h1" else q for q in QUESTIONS
    ]
    flipped = {g: questionnaire(g, flipped_qs) for g in Group}
    plain_report, flipped_report = report_of(rows), report_of(rows, flipped)
    for plain_scope, flipped_scope in zip(
        (plain_report.institution, *plain_report.units),
        (flipped_report.institution, *flipped_report.units),
        strict=True,
    ):
        for a, b in zip(plain_scope.groups, flipped_scope.groups, strict=True):
            hr_a = next(d for d in a.dimensions if d.dimension is Dimension.HR_MANAGEMENT)
            hr_b = next(d for d in b.dimensions if d.dimension is Dimension.HR_MANAGEMENT)
            assert hr_a.n == hr_b.n
            assert (hr_a.score is None) == (hr_b.score is None)
            if hr_a.score is not None and hr_b.score is not None:
                assert abs(hr_a.score + hr_b.score - 100.0) < 1e-9
