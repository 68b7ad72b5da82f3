"""Item scoring (tidak tahu, reverse, multiple choice) and the data-quality rules, with counts."""

from __future__ import annotations

import pytest

from scoring import QualityConfig, QualityRule, ScoringConfig, build_report
from surveys.model import Dimension, Group
from tests.test_scoring_support import (
    answers_frame,
    likert,
    multiple,
    questionnaire,
    two_dimension_questionnaires,
    units,
)

T = Dimension.TRANSPARENCY
IN = Group.INTERNAL
EIGHT = [likert(f"l{i}", T, reverse=i == 0) for i in range(8)]
EIGHT_QNS = {g: questionnaire(g, EIGHT) for g in Group}


def report_of(rows, questionnaires, config=None, unit_codes=("A",)):
    return build_report(
        answers_frame(rows),
        questionnaires,
        config or ScoringConfig(min_cell_size=1),
        wave="w",
        wave_open=False,
        units=units(*unit_codes),
    )


def test_tidak_tahu_and_skipped_items_are_missing_not_zero():
    # q1 = 5 (100), q2 = tt, q3 skipped: transparency = 100, not (100 + 0)/2 = 50.
    rows = [("r1", IN, "A", 60, {"q1": "5", "q2": "tt"})]
    result = report_of(rows, two_dimension_questionnaires()).institution.group(IN)
    assert result.score == 100.0
    assert [(d.dimension, d.score) for d in result.dimensions] == [
        (T, 100.0),
        (Dimension.TASK_INTEGRITY, None),
    ]


def test_only_tidak_tahu_is_not_a_valid_response():
    rows = [("r1", IN, "A", 60, {"q1": "tt", "q2": "tt", "q3": "tt", "note": "x"})]
    result = report_of(rows, two_dimension_questionnaires()).institution.group(IN)
    assert (result.n, result.score) == (0, None)


def test_reverse_scoring():
    # q3 is reverse-keyed: option 2 (25) scores 75, option 5 (100) scores 0.
    rows = [
        ("r1", IN, "A", 60, {"q3": "2"}),
        ("r2", IN, "B", 60, {"q3": "5"}),
    ]
    report = report_of(rows, two_dimension_questionnaires(), unit_codes=("A", "B"))
    assert report.unit("A").group(IN).score == 75.0
    assert report.unit("B").group(IN).score == 0.0


def test_multiple_choice_and_unknown_values():
    qn = questionnaire(IN, [multiple("m", T, {"a": 100.0, "b": 0.0, "c": None})])
    rows = [
        ("r1", IN, "A", 60, {"m": "a,b"}),  # mean(100, 0) = 50
        ("r2", IN, "B", 60, {"m": "a,c"}),  # c unscored: 100
        ("r3", IN, "C", 60, {"m": "zzz"}),  # unknown value: missing
    ]
    report = report_of(rows, {IN: qn}, unit_codes=("A", "B", "C"))
    assert [report.unit(u).group(IN).score for u in "ABC"] == [50.0, 100.0, None]


def straight(rid, value, unit="A", pace=4):
    return (rid, IN, unit, pace, {q.id: value for q in EIGHT})


def varied(rid, shift, unit="A", pace=4):
    return (rid, IN, unit, pace, {q.id: str((i + shift) % 5 + 1) for i, q in enumerate(EIGHT)})


def test_straight_lining_needs_the_minimum_number_of_likert_answers():
    seven = ("s7", IN, "A", 300, {q.id: "4" for q in EIGHT[:7]})
    rows = [straight("s1", "4"), straight("s2", "tt"), seven, varied("v1", 0), varied("v2", 1)]
    report = report_of(rows, EIGHT_QNS)
    assert report.quality.flagged[QualityRule.STRAIGHT_LINING] == 2  # s1, s2; not s7 (7 < 8)
    assert report.quality.excluded == 2
    assert report.institution.group(IN).n == 3  # s7, v1, v2


def test_speeders_against_the_group_median_pace_band():
    # Pace bands (seconds per answered item, doubling: scoring.paradata) 4, 4, 4, 4, 2, 3:
    # the median band is 4; band 2 is two bands faster (under about half the median pace),
    # band 3 only one.
    rows = [varied(f"v{i}", i, pace=4) for i in range(4)]
    rows += [varied("fast", 0, pace=2), varied("ok", 1, pace=3)]
    # An unknown pace is never a speeder.
    rows += [("nopace", IN, "A", None, {"l1": "3"})]
    report = report_of(rows, EIGHT_QNS, ScoringConfig(min_cell_size=1))
    assert report.quality.flagged[QualityRule.SPEEDER] == 1
    lenient = ScoringConfig(min_cell_size=1, quality=QualityConfig(speeder_bands_below=3))
    assert report_of(rows, EIGHT_QNS, lenient).quality.flagged[QualityRule.SPEEDER] == 0


def test_speeder_bands_below_must_be_positive():
    with pytest.raises(ValueError, match="speeder_bands_below"):
        QualityConfig(speeder_bands_below=0)


def test_cluster_of_identical_vectors_within_unit_and_group():
    # Unit A: 6 identical varied vectors among 10 (60% ≥ 10%, 6 ≥ 5) → flagged.
    # Unit B: 4 identical (below 5) → not flagged.
    rows = [varied(f"a{i}", 2) for i in range(6)]
    rows += [varied(f"a-other{i}", 3 + i) for i in range(4)]
    rows += [varied(f"b{i}", 2, unit="B") for i in range(4)]
    rows += [varied("b-other", 0, unit="B")]
    report = report_of(rows, EIGHT_QNS, unit_codes=("A", "B"))
    assert report.quality.flagged[QualityRule.CLUSTER] == 6
    assert report.unit("A").group(IN).n == 4
    assert report.unit("B").group(IN).n == 5


def test_cluster_share_is_configurable():
    rows = [varied(f"a{i}", 2) for i in range(5)] + [varied(f"o{i}", i % 5) for i in range(60)]
    # Clusters by shift 0..4 hold 12, 12, 5 + 12 = 17, 12, 12 of 65 responses: all ≥ 5 and
    # ≥ 10% of 65 (6.5), so all 65 are flagged by default; none reaches a 50% share.
    strict = ScoringConfig(min_cell_size=1, quality=QualityConfig(cluster_min_share=0.5))
    assert report_of(rows, EIGHT_QNS, strict).quality.flagged[QualityRule.CLUSTER] == 0
    assert report_of(rows, EIGHT_QNS).quality.flagged[QualityRule.CLUSTER] == 65


def test_overlapping_rules_count_per_rule_and_distinct_total():
    # Five fast straight-liners in one unit: each hits all three rules.
    rows = [straight(f"s{i}", "5", pace=0) for i in range(5)]
    rows += [varied(f"v{i}", i, pace=5) for i in range(5)]
    quality = report_of(rows, EIGHT_QNS).quality
    assert quality.flagged == {
        QualityRule.STRAIGHT_LINING: 5,
        QualityRule.SPEEDER: 5,
        QualityRule.CLUSTER: 5,
    }
    assert quality.excluded_by_rule == quality.flagged
    assert (quality.responses, quality.excluded) == (10, 5)


def test_reported_but_not_excluded():
    rows = [straight(f"s{i}", "5") for i in range(3)] + [varied("v", 0)]
    config = ScoringConfig(
        min_cell_size=1, quality=QualityConfig(exclude=frozenset({QualityRule.SPEEDER}))
    )
    report = report_of(rows, EIGHT_QNS, config)
    assert report.quality.flagged[QualityRule.STRAIGHT_LINING] == 3
    assert report.quality.excluded_by_rule == {QualityRule.SPEEDER: 0}
    assert report.institution.group(IN).n == 4


def test_missing_columns_are_rejected():
    frame = answers_frame([varied("v", 0)]).drop(columns=["value"])
    with pytest.raises(ValueError, match="value"):
        build_report(frame, EIGHT_QNS, ScoringConfig(), wave="w", wave_open=False, units=[])
