"""Differencing protection: provisional results move only in whole days and steps of ≥ k."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from scoring import ScoringConfig, build_report
from scoring.provisional import shown_responses
from surveys.model import Group
from tests.test_scoring_support import answers_frame, two_dimension_questionnaires, units

IN = Group.INTERNAL
D1, D2, D3, D4 = (dt.date(2025, 3, d) for d in (1, 2, 3, 4))


def _frame(days: list[tuple[str, str, dt.date, str]]) -> pd.DataFrame:
    """Responses (id, unit, completion day, q1 answer) of the internal group."""
    frame = answers_frame((rid, IN, unit, 300, {"q1": v, "q2": v}) for rid, unit, _, v in days)
    day_of = {rid: day for rid, _, day, _ in days}
    frame["completed_on"] = pd.to_datetime(frame["response_id"].map(day_of))
    return frame


def _shown(frame: pd.DataFrame, today: dt.date, k: int = 5) -> set[str]:
    return set(shown_responses(frame, k, today)["response_id"])


def test_today_is_never_shown_and_steps_need_k() -> None:
    three_then_three = [(f"a{i}", "A", D1, "4") for i in range(3)]
    three_then_three += [(f"b{i}", "A", D2, "4") for i in range(3)]
    frame = _frame(three_then_three)
    assert _shown(frame, D2) == set()  # day 1 alone has 3 < 5; day 2 is today
    assert _shown(frame, D3) == {"a0", "a1", "a2", "b0", "b1", "b2"}  # 6 ≥ 5 closes a step
    one_more = _frame([*three_then_three, ("c0", "A", D3, "1")])
    assert _shown(one_more, D4) == _shown(frame, D3)  # one new response waits for k − 1 more


def test_each_unit_and_group_steps_on_its_own() -> None:
    rows = [(f"a{i}", "A", D1, "4") for i in range(5)] + [(f"b{i}", "B", D1, "4") for i in range(4)]
    shown = _shown(_frame(rows), D2)
    assert shown == {f"a{i}" for i in range(5)}
    assert shown_responses(_frame([]), 5, D2).empty


def _unit_view(frame: pd.DataFrame, today: dt.date, *, protect: bool = True) -> tuple[object, ...]:
    """Everything a unit head reads about unit A: its cells, indices and dimensions."""
    report = build_report(
        shown_responses(frame, 5, today) if protect else frame,
        two_dimension_questionnaires(),
        ScoringConfig(),
        wave="w",
        wave_open=True,
        units=units("A", "B"),
    )
    unit, inst = report.unit("A"), report.institution
    return (unit.groups, unit.partial_index, unit.dimensions, inst.groups, inst.partial_index)


@pytest.mark.parametrize("colleague_answer", ["1", "5"])
def test_two_step_attack_learns_nothing(colleague_answer: str) -> None:
    """A unit head reads /unit, a known colleague submits, the head reads again (and tomorrow).

    Without the rule the two readings differ by exactly the colleague's answers; with it they
    are identical on the day and the next day, whatever the colleague answered.
    """
    before = [(f"r{i}", "A", D1, "3") for i in range(6)]
    frame = _frame(before)
    first = _unit_view(frame, D2)
    assert first[0][0].score is not None  # the head does see a result

    after = _frame([*before, ("colleague", "A", D2, colleague_answer)])
    # The attack works on unprotected results: the difference is the colleague's answer.
    assert _unit_view(after, D2, protect=False) != _unit_view(frame, D2, protect=False)
    assert _unit_view(after, D2) == first  # same day: today is not shown
    assert _unit_view(after, D3) == first  # next day: 1 < k new responses since the last step

    # Once k responses arrived since the last step, the result moves by all of them at once.
    crowd = [(f"n{i}", "A", D3, "4") for i in range(4)]
    later = _frame([*before, ("colleague", "A", D2, colleague_answer), *crowd])
    assert _unit_view(later, D4) != first
    assert len(set(shown_responses(later, 5, D4)["response_id"]) - {r[0] for r in before}) == 5
