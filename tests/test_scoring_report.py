"""build_report on a tiny dataset where every number was computed on paper.

Likert options 1..5 score 0, 25, 50, 75, 100; "tt" (tidak tahu) has no score.
Each group answers q1, q2 (transparency, T), q3 (task integrity, TI, reverse-keyed: 100 − s).
k = 2 so two responses make a shown cell; durations are equal so no speeder is flagged; three
Likert items are below both the straight-lining (8) and cluster (5 answers) minimums.

Internal   unit  q1  q2  q3   T                 TI                resp score
  r1       A     5   3   2    (100+50)/2 = 75   100−25 = 75      75
  r2       A     4   tt  tt   75                missing          75
  r3       B     1   1   5    0                 100−100 = 0      0
  r4       B     5   5   tt   100               missing          100
External
  e1       A     4   4   2    75                75               75
  e2       A     5   5   3    100               50               75
Expert
  x1       A     3   3   3    50                50               50
  x2       A     5   4   1    87.5              100              93.75

Institution, internal: T = (75+75+0+100)/4 = 62.5; TI = (75+0)/2 = 37.5 → score 50.
  resp scores 75, 75, 0, 100: mean 62.5, SS = 156.25+156.25+3906.25+1406.25 = 5625,
  s² = 5625/3 = 1875, s = 43.30127; moe = 1.96·43.30127/√4 = 42.43524.
  needed: n0 = 1.96²·1875/25 = 288.12 → 289 (above the minimum 30).
External: T = 87.5, TI = 62.5 → 75; s = 0 → moe 0; needed = minimum 30.
Expert: T = (50+87.5)/2 = 68.75, TI = (50+100)/2 = 75 → 71.875;
  s = 43.75/√2 = 30.93592; moe = 1.96·30.93592/√2 = 1.96·21.875 = 42.875;
  needed: n0 = 1.96²·957.03125/25 = 147.0612 → 148.
Index = 0.3046·50 + 0.3279·75 + 0.3675·71.875 = 15.23 + 24.5925 + 26.4140625 = 66.2365625,
  minus corrections 1.0 + 0.5 → 64.7365625 (Rentan).
Index moe = √((0.3046·42.43524)² + 0 + (0.3675·42.875)²) = √(167.0781 + 248.2692) = 20.3801.
Combined T = 0.3046·62.5 + 0.3279·87.5 + 0.3675·68.75 = 72.994375 (n 8);
combined TI = 0.3046·37.5 + 0.3279·62.5 + 0.3675·75 = 59.47875 (n 6).

Unit A: internal (r1, r2) T 75, TI 75 (n 1 → hidden at k = 2) → 75, s 0; external 75; expert
  71.875 → index (no corrections for units) 0.3046·75 + 0.3279·75 + 0.3675·71.875
  = 22.845 + 24.5925 + 26.4140625 = 73.8515625 (Waspada).
Unit B: internal (r3, r4) T 50, TI 0 → 25; s = 100/√2 = 70.71068, moe = 1.96·50 = 98;
  needed n0 = 1.96²·5000/25 = 768.32 → 769. No external, no expert responses:
  index None, partial index 25 over (internal,); external needed at prior σ 20: 62.
"""

from __future__ import annotations

import json
import math

import pytest

from scoring import Corrections, QualityConfig, ScoringConfig, WaveResult, build_report
from surveys.model import Dimension, Group
from tests.test_scoring_support import answers_frame, two_dimension_questionnaires, units

T, TI = Dimension.TRANSPARENCY, Dimension.TASK_INTEGRITY
IN, EX, XP = Group.INTERNAL, Group.EXTERNAL, Group.EXPERT

HAND = [
    ("r1", IN, "A", 300, {"q1": "5", "q2": "3", "q3": "2", "note": "bagus"}),
    ("r2", IN, "A", 300, {"q1": "4", "q2": "tt", "q3": "tt"}),
    ("r3", IN, "B", 300, {"q1": "1", "q2": "1", "q3": "5"}),
    ("r4", IN, "B", 300, {"q1": "5", "q2": "5", "q3": "tt", "note": "-"}),
    ("e1", EX, "A", 300, {"q1": "4", "q2": "4", "q3": "2"}),
    ("e2", EX, "A", 300, {"q1": "5", "q2": "5", "q3": "3"}),
    ("x1", XP, "A", 300, {"q1": "3", "q2": "3", "q3": "3"}),
    ("x2", XP, "A", 300, {"q1": "5", "q2": "4", "q3": "1"}),
]
CONFIG = ScoringConfig(min_cell_size=2, benchmark_year=2024)


def hand_report(*, categorical: bool = False, **kwargs):
    return build_report(
        answers_frame(HAND, categorical=categorical),
        two_dimension_questionnaires(),
        CONFIG,
        wave="2025-1",
        wave_open=True,
        units=units("A", "B"),
        corrections=Corrections(1.0, 0.5, "test"),
        **kwargs,
    )


def dims(result):
    return {d.dimension: (d.score, d.n) for d in result.dimensions}


def test_institution_numbers_by_hand():
    report = hand_report()
    inst = report.institution
    internal, external, expert = inst.groups
    assert (internal.n, internal.score, internal.needed) == (4, 50.0, 289)
    assert internal.moe == pytest.approx(1.96 * math.sqrt(1875) / 2)
    assert dims(internal) == {T: (62.5, 4), TI: (37.5, 2)}
    assert (external.score, external.moe, external.needed, external.remaining) == (75, 0, 30, 28)
    assert dims(external) == {T: (87.5, 2), TI: (62.5, 2)}
    assert expert.score == 71.875
    assert expert.moe == pytest.approx(42.875)
    assert expert.needed == 148
    assert inst.index == pytest.approx(66.2365625 - 1.5)
    assert inst.partial_index == inst.index
    assert inst.index_moe == pytest.approx(20.3801, abs=1e-4)
    assert inst.category is not None
    assert inst.category.key == "rentan"
    assert inst.groups_included == (IN, EX, XP)
    assert inst.corrections == Corrections(1.0, 0.5, "test")
    assert dims(inst)[T] == (pytest.approx(72.994375), 8)
    assert dims(inst)[TI] == (pytest.approx(59.47875), 6)
    assert report.provisional is True
    assert report.quality.excluded == 0


def test_unit_numbers_by_hand():
    report = hand_report()
    a, b = report.unit("A"), report.unit("B")
    assert a.index == pytest.approx(73.8515625)
    assert a.category is not None
    assert a.category.key == "waspada"
    assert a.corrections is None
    # TI in unit A rests on one respondent (r1) < k = 2: hidden, though the cell is shown.
    assert dims(a.group(IN)) == {T: (75.0, 2), TI: (None, 1)}
    assert a.group(IN).needed == 2  # s = 0 → n0 = 0 → the unit minimum k

    assert b.group(IN).score == 25.0
    assert b.group(IN).moe == pytest.approx(98.0)
    assert b.group(IN).needed == 769
    assert b.index is None
    assert b.partial_index == 25.0
    assert b.groups_included == (IN,)
    assert b.category is None
    assert b.suppressed is False  # no responses is missing, not suppressed
    assert (b.group(EX).n, b.group(EX).score, b.group(EX).needed) == (0, None, 62)


def test_categorical_columns_give_the_same_report():
    assert hand_report(categorical=True) == hand_report()


def test_missing_group_gives_no_index_only_a_labelled_partial():
    frame = answers_frame([r for r in HAND if r[1] is not XP])
    report = build_report(
        frame,
        two_dimension_questionnaires(),
        CONFIG,
        wave="w",
        wave_open=False,
        units=units("A", "B"),
    )
    inst = report.institution
    assert inst.index is None
    assert inst.category is None
    assert inst.index_moe is None
    assert inst.groups_included == (IN, EX)
    # (0.3046·50 + 0.3279·75) / (0.3046 + 0.3279) = 39.8225 / 0.6325 = 62.9605.
    assert inst.partial_index == pytest.approx(39.8225 / 0.6325)
    assert all(b.delta is None for b in inst.benchmarks)


def test_previous_wave_and_benchmarks():
    history = [
        WaveResult("2024-1", 60.0, {IN: 40.0, EX: 70.0, XP: None}),
        WaveResult("2024-2", 62.0, {IN: 45.0, EX: 80.0, XP: 70.0}),
        WaveResult("2025-1", 99.0),  # this wave itself: ignored
    ]
    inst = hand_report(history=history).institution
    assert inst.previous is not None
    assert inst.previous.wave == "2024-2"
    assert inst.previous.delta == pytest.approx(64.7365625 - 62.0)
    assert inst.previous.group_deltas[IN] == pytest.approx(5.0)
    assert inst.previous.group_deltas[EX] == pytest.approx(-5.0)
    bench = {b.key: b for b in inst.benchmarks}
    # 2024: national 71.53, kabupaten 69.99, RPJMN target 76.
    assert set(bench) == {"national", "level:kabupaten", "rpjmn_target"}
    assert bench["national"].delta == pytest.approx(64.7365625 - 71.53)
    assert hand_report().institution.previous is None


def test_to_dict_is_json_and_rounds_only_there():
    report = hand_report()
    data = report.to_dict()
    json.dumps(data)  # serialisable
    assert data["institution"]["index"] == 64.74
    assert data["institution"]["category"]["label"] == {"id": "Rentan", "en": "Vulnerable"}
    assert data["institution"]["groups"][0]["group"] == "internal"
    assert data["quality"]["flagged"] == {"straight_lining": 0, "speeder": 0, "cluster": 0}
    assert data["config"]["quality"]["exclude"] == ["cluster", "speeder", "straight_lining"]
    assert report.institution.index == pytest.approx(64.7365625)  # full precision kept


def test_round_trip_history():
    first = hand_report()
    second = hand_report(history=[first.to_wave_result()])
    # Same wave name: a report never compares with itself.
    assert second.institution.previous is None


def test_dimension_weights_are_configurable():
    # Internal with T weight 3, TI weight 1: (3·62.5 + 37.5)/4 = 56.25.
    config = ScoringConfig(min_cell_size=2, dimension_weights={T: 3.0})
    report = build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        config,
        wave="w",
        wave_open=False,
        units=units("A", "B"),
    )
    assert report.institution.group(IN).score == pytest.approx(56.25)


def test_quality_exclusion_can_be_switched_off():
    config = ScoringConfig(min_cell_size=2, quality=QualityConfig(exclude=frozenset()))
    report = build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        config,
        wave="w",
        wave_open=False,
        units=units("A", "B"),
    )
    assert report.quality.excluded_by_rule == {}


def test_margins_and_needed_samples_with_rosters():
    """Finite-population corrections, by hand.

    Unit A, internal, q1 = 1,2,3,4,5,5 → scores 0, 25, 50, 75, 100, 100: mean 58.333,
    SS = 3402.78 + 1111.11 + 69.44 + 277.78 + 1736.11 + 1736.11 = 8333.33, s² = 1666.67.
    moe without N: 1.96·√1666.67/√6 = 1.96·16.6667 = 32.6667.
    Unit A roster N = 10: moe × √((10−6)/9) = 21.7778;
      n0 = 1.96²·1666.67/25 = 256.107, n = 256.107/(1 + 255.107/10) = 9.66 → 10; remaining 4.
    Institution: N = 10 + 20 (unit B's roster) = 30: moe × √(24/29) = 29.7174;
      n = 256.107/(1 + 255.107/30) = 26.95 → 27 → KPK minimum 30 (≤ N).
    Expert list of unit A given as 8 → population 8; needed capped at 8. Institution expert
    population unknown (unit B has none) → no correction, prior σ 20 → 62.
    Unit B does not serve the public: external needs 0.
    """
    from scoring import UnitInfo

    rows = [(f"r{i}", IN, "A", 300, {"q1": v}) for i, v in enumerate("123455")]
    report = build_report(
        answers_frame(rows),
        two_dimension_questionnaires(),
        ScoringConfig(),
        wave="w",
        wave_open=True,
        units=[
            UnitInfo("A", "Dinas A", "opd", None, True, 10),
            UnitInfo("B", "Kecamatan B", "kecamatan", "A", False, 20),
        ],
        roster_sizes={"A": {XP: 8}},
    )
    a = report.unit("A").group(IN)
    assert a.score == pytest.approx(350 / 6)
    assert (a.population, a.needed, a.remaining) == (10, 10, 4)
    assert a.moe == pytest.approx(1.96 * math.sqrt(1666.6667 / 6) * math.sqrt(4 / 9), abs=1e-3)
    inst = report.institution.group(IN)
    assert (inst.population, inst.needed, inst.remaining) == (30, 30, 24)
    assert inst.moe == pytest.approx(32.6667 * math.sqrt(24 / 29), abs=1e-3)
    assert report.unit("A").group(XP).population == 8
    assert report.unit("A").group(XP).needed == 8
    assert report.institution.group(XP).population is None
    assert report.institution.group(XP).needed == 62
    assert report.unit("B").group(EX).needed == 0
    assert report.unit("B").parent_code == "A"


def test_empty_answers_give_an_empty_but_complete_report():
    frame = answers_frame([])
    report = build_report(
        frame,
        two_dimension_questionnaires(),
        ScoringConfig(),
        wave="w",
        wave_open=True,
        units=units("A"),
    )
    assert report.institution.index is None
    assert report.institution.partial_index is None
    assert [g.needed for g in report.unit("A").groups] == [62, 62, 62]
    assert report.quality.responses == 0
    json.dumps(report.to_dict())


def test_unknown_unit_codes_still_count():
    rows = [(f"r{i}", IN, "ZZ", 300, {"q1": "5"}) for i in range(5)]
    report = build_report(
        answers_frame(rows),
        two_dimension_questionnaires(),
        ScoringConfig(),
        wave="w",
        wave_open=True,
        units=units("A"),
    )
    assert report.unit("ZZ").kind == "unknown"
    assert report.institution.group(IN).n == 5


def test_expert_and_service_user_populations_set_unit_targets():
    """Populations per unit and group; KPK's 30 is a floor for the institution, not a unit.

    No answers yet, so σ is the prior 20: n0 = (1.96·20/5)² = 61.4656.
    Expert list of 12 per unit: n = 61.4656/(1 + 60.4656/12) = 10.18 → 11 (not 30, not 62).
    Institution: N = 3·12 = 36: n = 61.4656/(1 + 60.4656/36) = 22.93 → 23 → floor 30 (≤ 36).
    Service users 1,000 a year in unit A: n = 61.4656/(1 + 60.4656/1000) = 57.96 → 58.
    Unit B has no service-user count: the prior target 62 stays (the docs say to fill it in).
    """
    from scoring import UnitInfo

    rows = [(f"r{i}", IN, "A", 300, {"q1": v}) for i, v in enumerate("12345")]
    report = build_report(
        answers_frame(rows),
        two_dimension_questionnaires(),
        ScoringConfig(),
        wave="w",
        wave_open=True,
        units=[
            UnitInfo(
                "A", "Dinas A", "opd", serves_public=True, expert_count=12, service_user_count=1000
            ),
            UnitInfo("B", "Dinas B", "opd", serves_public=True, expert_count=12),
            UnitInfo("C", "Dinas C", "opd", expert_count=12),
        ],
    )
    for code in "ABC":
        expert = report.unit(code).group(XP)
        assert (expert.population, expert.needed) == (12, 11)
    inst = report.institution.group(XP)
    assert (inst.population, inst.needed, inst.remaining) == (36, 30, 30)
    a_users = report.unit("A").group(EX)
    assert (a_users.population, a_users.needed) == (1000, 58)
    b_users = report.unit("B").group(EX)
    assert (b_users.population, b_users.needed) == (None, 62)
    assert report.institution.group(EX).population is None  # unit B's is unknown
