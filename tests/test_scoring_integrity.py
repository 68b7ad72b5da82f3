"""Survey-integrity signals (scoring.integrity) on simulated waves: coached, rushing, honest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pandas as pd
import pytest

from sandbox.integrity_sim import (
    WIB,
    Behaviour,
    UnitPlan,
    false_flags,
    honest_units,
    simulate_wave,
    wave_frames,
)
from scoring.config import IntegrityConfig, integrity_config_from_mapping
from scoring.integrity import (
    BurstEvidence,
    ContradictionEvidence,
    RushingEvidence,
    SignalKind,
    UniformEvidence,
    find_signals,
)
from surveys import Group, bundled_questionnaires

OPENS = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
K = 5


def _wave(seed: int, units: list[UnitPlan]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return wave_frames(simulate_wave(units, seed=seed, opens=OPENS, briefing_day=3))


def _plans(seed: int) -> list[UnitPlan]:
    plans = honest_units(12, seed)
    plans[0] = UnitPlan("COACHED", Behaviour.COACHED, plans[0].respondents)
    plans[1] = UnitPlan("RUSHING", Behaviour.RUSHING, plans[1].respondents)
    return plans


@pytest.mark.parametrize("seed", [3, 11])
def test_the_coached_and_rushing_units_are_flagged_with_their_evidence_the_honest_not(
    seed: int,
) -> None:
    answers, arrivals = _wave(seed, _plans(seed))
    found = find_signals(answers, arrivals, bundled_questionnaires(), IntegrityConfig(), K)
    flagged = {(c.unit_code, c.group): c for c in found.flagged}
    coached = flagged.pop(("COACHED", Group.INTERNAL))
    rushing = flagged.pop(("RUSHING", Group.INTERNAL))
    assert flagged == {}  # no honest unit, and no honest group of those two units
    kinds = {s.kind: s for s in coached.signals}
    assert set(kinds) >= {SignalKind.BURST, SignalKind.UNIFORM}
    burst = kinds[SignalKind.BURST].evidence
    assert isinstance(burst, BurstEvidence)
    # After apel pagi on day 3 (5 March): at least 70% of the staff within an hour or two.
    assert burst.start.date() == date(2026, 3, 5)
    assert burst.start.time() == time(8, 0)
    assert burst.arrived >= 0.7 * burst.total
    assert burst.usual_share < 0.1
    # Responses keep only their day: the set is the day's responses of that unit × group.
    assert kinds[SignalKind.BURST].responses == burst.day_responses >= burst.arrived
    uniform = kinds[SignalKind.UNIFORM].evidence
    assert isinstance(uniform, UniformEvidence)
    assert uniform.similar >= K
    assert uniform.ideal_other_units is not None
    assert uniform.ideal_share > uniform.ideal_other_units + 0.2
    assert uniform.spread is not None
    assert uniform.spread_other_units is not None
    assert uniform.spread < uniform.spread_other_units
    (signal,) = rushing.signals
    assert signal.kind is SignalKind.RUSHING
    assert isinstance(signal.evidence, RushingEvidence)
    assert signal.evidence.floor_seconds == 2
    assert signal.responses == signal.evidence.fast >= 0.5 * rushing.n


def test_no_cell_under_k_is_looked_at_and_no_signal_touches_fewer_than_k() -> None:
    plans = [
        UnitPlan("SMALL", Behaviour.COACHED, {Group.INTERNAL: 4}),  # all four after apel
        *honest_units(6, 5),
    ]
    answers, arrivals = _wave(5, plans)
    found = find_signals(answers, arrivals, bundled_questionnaires(), IntegrityConfig(), K)
    assert all(cell.n >= K for cell in found.cells)
    assert "SMALL" not in {cell.unit_code for cell in found.cells}
    assert all(s.responses >= K for c in found.cells for s in c.signals)


def test_contradictions_are_counted_per_declared_pair() -> None:
    questionnaire = bundled_questionnaires()[Group.INTERNAL]
    merit = questionnaire.consistency[0]  # strongly agree on merit, yet heard of buying
    rows = []
    for unit, contradicting in (("ODD", 6), ("A", 0), ("B", 1)):
        for person in range(10):
            answers = {
                "sdm_kompetensi": "strongly_agree",
                "sdm_jual_jabatan": "yes" if person < contradicting else "no",
                "tr_layanan": "agree",
            }
            rows += [
                (f"{unit}{person}", "internal", unit, 2, 4, pd.Timestamp("2026-03-03"), q, v)
                for q, v in answers.items()
            ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "response_id",
            "grp",
            "unit_code",
            "duration_band",
            "pace_band",
            "completed_on",
            "question_id",
            "value",
        ],
    )
    arrivals = pd.DataFrame(columns=["unit_code", "grp", "hour", "count"])
    found = find_signals(frame, arrivals, {Group.INTERNAL: questionnaire}, IntegrityConfig(), K)
    flagged = {c.unit_code: c for c in found.flagged}
    assert set(flagged) == {"ODD"}
    (signal,) = flagged["ODD"].signals
    assert signal.kind is SignalKind.CONTRADICTION
    assert signal.response_ids == frozenset(f"ODD{i}" for i in range(6))
    evidence = signal.evidence
    assert isinstance(evidence, ContradictionEvidence)
    assert evidence.pairs == ((merit, 6),)
    assert evidence.usual_rate == pytest.approx(1 / 20)


def test_the_false_flag_rate_of_honest_waves_stays_under_five_percent() -> None:
    """The small seeded version of benchmarks/integrity_false_flags.py (20 waves there)."""
    rate = false_flags([101, 102], units=16)
    assert rate.cells > 60
    assert rate.rate < 0.05


def test_thresholds_are_configurable_and_checked() -> None:
    config = integrity_config_from_mapping({"burst_min_share": 0.6, "rushing_floor_seconds": 4})
    assert (config.burst_min_share, config.rushing_floor_seconds) == (0.6, 4)
    with pytest.raises(ValueError, match="pace band edge"):
        integrity_config_from_mapping({"rushing_floor_seconds": 3})
    with pytest.raises(ValueError, match="unknown keys \\['burst'\\]"):
        integrity_config_from_mapping({"burst": 1})
    with pytest.raises(ValueError, match="must be a number"):
        integrity_config_from_mapping({"burst_ratio": "high"})
    with pytest.raises(ValueError, match="whole number"):
        integrity_config_from_mapping({"burst_max_hours": 1.5})
    with pytest.raises(ValueError, match="shares"):
        IntegrityConfig(uniform_agreement=1.5)
    # A higher floor catches the rushing unit's whole group, an absolute rule: a wave where
    # everyone rushes is still caught, whatever the median.
    everyone = [
        UnitPlan(f"R{i}", Behaviour.RUSHING, {Group.INTERNAL: 10}, share=1.0) for i in range(3)
    ]
    answers, arrivals = _wave(9, everyone)
    found = find_signals(answers, arrivals, bundled_questionnaires(), IntegrityConfig(), K)
    assert {c.unit_code for c in found.flagged} == {"R0", "R1", "R2"}
    assert all(s.kind is SignalKind.RUSHING for c in found.flagged for s in c.signals)


def test_simulated_times_stay_in_waking_hours_and_the_wave() -> None:
    responses = simulate_wave(honest_units(4, 1), seed=1, opens=OPENS)
    local = [r.finished.astimezone(WIB) for r in responses]
    assert all(7 <= moment.hour < 21 for moment in local)
    assert min(local).date() >= OPENS.astimezone(WIB).date()
