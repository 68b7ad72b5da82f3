"""What-if on the hand report of test_scoring_report (numbers on paper below), on a report
with suppressed cells, and against build_report on answers that were really lifted.

Institution (corrections 1.5): internal 50 (T 62.5, TI 37.5), external 75 (T 87.5, TI 62.5),
expert 71.875 (T 68.75, TI 75); index 64.7365625. Each group has two equally weighted
dimensions, so lifting one by X moves the group score by X/2 until the dimension hits 100.

TI +10 in internal and expert: internal (62.5+47.5)/2 = 55, expert (68.75+85)/2 = 76.875;
  index 0.3046·55 + 0.3279·75 + 0.3675·76.875 − 1.5 = 16.753 + 24.5925 + 28.2515625 − 1.5
  = 68.0970625 (still Rentan).
To Terjaga (shown 78.00, i.e. index ≥ 77.995), lifting in every group:
  TI (weakest, combined 59.48): expert TI hits 100 at X = 25, so for X > 25 the index is
  64.7365625 + (0.3046 + 0.3279)·X/2 + 0.3675·12.5 = 69.3303125 + 0.31625·X ≥ 77.995
  ⇔ X ≥ 27.3981 → 27.40 (77.9955625; 27.39 gives 77.9924).
  T (combined 72.99): external T hits 100 at 12.5, expert at 31.25, so for X > 31.25 the
  index is 64.7365625 + 0.3279·6.25 + 0.3675·15.625 + 0.3046·X/2 = 72.528125 + 0.1523·X
  ≥ 77.995 ⇔ X ≥ 35.8954 → 35.90.
Unit A: internal 75 (T 75, TI hidden: one respondent), external 75, expert 71.875.
  TI +10 everywhere: internal skipped (hidden dimension), external (87.5+72.5)/2 = 80,
  expert 76.875 → 0.3046·75 + 0.3279·80 + 0.3675·76.875 = 77.3285625.
  T +10 in internal: (85 + 75)/2 = 80, from the shown score 75 + 10/2 (the hidden TI stays
  out of the computation).
"""

from __future__ import annotations

import json
import random

import pytest

from scoring import Corrections, ScoringConfig, build_report
from scoring.index import WASPADA
from scoring.whatif import Lift, reach_category, what_if
from surveys.model import Dimension, Group
from tests.test_scoring_report import HAND, hand_report
from tests.test_scoring_support import answers_frame, two_dimension_questionnaires, units

T, TI = Dimension.TRANSPARENCY, Dimension.TASK_INTEGRITY
IN, EX, XP = Group.INTERNAL, Group.EXTERNAL, Group.EXPERT


def test_lift_in_two_groups_by_hand():
    result = what_if(hand_report(), Lift(TI, 10.0, groups=(XP, IN)))
    assert result.lift.groups == (IN, XP)  # one order
    assert result.lifted_groups == (IN, XP)
    assert result.skipped_groups == ()
    after = {g.group: g.score for g in result.after.groups}
    assert after == {IN: pytest.approx(55.0), EX: 75.0, XP: pytest.approx(76.875)}
    assert result.after.index == pytest.approx(68.0970625)
    assert result.after.category is not None
    assert result.after.category.key == "rentan"
    assert result.index_change == pytest.approx(68.0970625 - 64.7365625)
    assert result.before.index == pytest.approx(64.7365625)
    data = result.to_dict()
    json.dumps(data)
    assert data["after"]["index"] == 68.1
    assert data["after"]["groups"] == {"internal": 55.0, "external": 75.0, "expert": 76.88}


def test_zero_lift_changes_nothing():
    report = hand_report()
    for unit in (None, "A", "B"):
        result = what_if(report, Lift(T, 0.0, unit=unit))
        assert result.after.index == result.before.index
        assert result.after.partial_index == pytest.approx(result.before.partial_index)
        assert [g.score for g in result.after.groups] == [g.score for g in result.before.groups]


def test_lift_is_capped_at_100_and_floored_at_0():
    report = hand_report()
    up = what_if(report, Lift(T, 100.0, groups=(EX,))).after
    assert up.group(EX).score == pytest.approx((100 + 62.5) / 2)
    down = what_if(report, Lift(T, -100.0, groups=(EX,))).after
    assert down.group(EX).score == pytest.approx((0 + 62.5) / 2)


def test_what_it_takes_to_reach_terjaga_by_hand():
    plan = reach_category(hand_report())
    assert plan.target.key == "terjaga"
    assert not plan.reached
    assert [n.dimension for n in plan.needs] == [TI, T]  # weakest first
    ti, t = plan.needs
    assert ti.lift == pytest.approx(27.40)
    assert ti.index_after == pytest.approx(69.3303125 + 0.31625 * 27.40)
    assert t.lift == pytest.approx(35.90)
    assert t.index_after == pytest.approx(72.528125 + 0.1523 * 35.90)
    # One hundredth less does not reach it: the lift is the smallest.
    short = what_if(hand_report(), Lift(TI, 27.39)).after
    assert short.category is not None
    assert short.category.key == "waspada"
    json.dumps(plan.to_dict())


def test_unreachable_and_already_reached():
    report = hand_report()
    # Waspada is 73: TI alone gets there, and the plan says how far.
    plan = reach_category(report, unit="A")
    assert plan.category is not None
    assert plan.category.key == "waspada"
    # Unit A reaches Terjaga with TI in external and expert only (internal TI is hidden).
    assert plan.needs[0].dimension is TI
    assert plan.needs[0].lift is not None
    # A huge correction makes Terjaga unreachable by any single dimension.
    heavy = build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        ScoringConfig(min_cell_size=2),
        wave="2025-1",
        wave_open=True,
        units=units("A", "B"),
        corrections=Corrections(20.0, 15.0, "cases"),
    )
    assert all(n.lift is None for n in reach_category(heavy).needs)
    # Already there: nothing to lift.
    there = reach_category(report, unit="A", target=WASPADA)
    assert there.reached
    assert there.needs == ()
    lifted = what_if(report, Lift(TI, 40.0, unit="A")).after
    assert lifted.category is not None
    assert lifted.category.key == "terjaga"


def test_hidden_dimension_is_skipped_and_not_revealed():
    report = hand_report()
    result = what_if(report, Lift(TI, 10.0, unit="A"))
    assert result.skipped_groups == (IN,)
    assert result.lifted_groups == (EX, XP)
    assert result.after.index == pytest.approx(77.3285625)
    internal = what_if(report, Lift(T, 10.0, groups=(IN,), unit="A")).after.group(IN)
    assert internal.score == pytest.approx(80.0)
    hidden = {d.dimension: d.score for d in internal.dimensions}
    assert hidden[TI] is None


def _suppressed_report():
    # k = 3: every cell of unit A (n = 2) and unit B's internal cell (n = 2) are suppressed.
    return build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        ScoringConfig(min_cell_size=3),
        wave="2025-1",
        wave_open=True,
        units=units("A", "B"),
    )


def test_suppressed_unit_never_shows_a_number():
    report = _suppressed_report()
    assert all(g.suppressed for g in report.unit("A").groups)
    result = what_if(report, Lift(T, 10.0, unit="A"))
    assert result.lifted_groups == ()
    assert result.skipped_groups == (IN, EX, XP)
    assert result.after.index is None
    assert result.after.partial_index is None
    assert all(g.score is None for g in result.after.groups)
    data = result.to_dict()
    assert data["after"] == data["before"]
    assert set(data["after"]["groups"].values()) == {None}
    assert data["index_change"] is None
    plan = reach_category(report, unit="A")
    assert plan.index is None
    assert plan.needs == ()


def test_bad_input_is_refused():
    report = hand_report()
    with pytest.raises(ValueError, match="unknown unit"):
        what_if(report, Lift(T, 5.0, unit="NOPE"))
    with pytest.raises(ValueError, match="between -100 and 100"):
        Lift(T, 150.0)
    with pytest.raises(ValueError, match="between -100 and 100"):
        Lift(T, float("nan"))
    with pytest.raises(ValueError, match="at least one group"):
        Lift(T, 5.0, groups=())
    # A dimension nobody was asked is skipped everywhere.
    result = what_if(report, Lift(Dimension.PROCUREMENT, 5.0))
    assert result.skipped_groups == (IN, EX, XP)
    assert result.after.index == result.before.index


def test_matches_build_report_on_really_lifted_answers():
    # Answers 1-4 on the transparency items; one option up adds exactly 25 to every item,
    # so a +25 lift must give what build_report gives for the lifted answers.
    rng = random.Random(7)
    base = []
    for i in range(60):
        group = (IN, EX, XP)[i % 3]
        unit = ("A", "B", "C")[i % 4 % 3]
        answers = {
            "q1": str(rng.randint(1, 4)),
            "q2": str(rng.randint(1, 4)),
            "q3": rng.choice(["1", "2", "3", "4", "5", "tt"]),
        }
        base.append((f"r{i}", group, unit, 300 + i % 7, answers))
    lifted_groups = (IN, XP)
    shifted = [
        (
            rid,
            g,
            u,
            d,
            {
                q: str(int(v) + 1) if q in ("q1", "q2") and g in lifted_groups else v
                for q, v in a.items()
            },
        )
        for rid, g, u, d, a in base
    ]

    def report(rows):
        return build_report(
            answers_frame(rows),
            two_dimension_questionnaires(),
            ScoringConfig(min_cell_size=3),
            wave="w",
            wave_open=False,
            units=units("A", "B", "C"),
            corrections=Corrections(2.0, 0.5, ""),
        )

    before, truth = report(base), report(shifted)
    assert not any(g.suppressed for u in before.units for g in u.groups)
    for unit in (None, "A", "B", "C"):
        got = what_if(before, Lift(T, 25.0, groups=lifted_groups, unit=unit)).after
        want = truth.institution if unit is None else truth.unit(unit)
        assert got.index == pytest.approx(want.index)
        assert got.partial_index == pytest.approx(want.partial_index)
        assert got.category == want.category
        for g, w in zip(got.groups, want.groups, strict=True):
            assert g.score == pytest.approx(w.score)
        assert [d.score for d in got.dimensions] == pytest.approx(
            [d.score for d in want.dimensions]
        )
