"""Frozen reports (exact JSON round trip), corrections applied to them, their changes, and
why a cell shows no number."""

from __future__ import annotations

import dataclasses
import json

import pytest

from scoring import CategoryThresholds, Corrections, ScoringConfig, WaveResult, build_report
from scoring.frozen import FrozenReportError, report_from_json, report_to_json
from scoring.report import CellStatus, Exclusion, GroupResult, cell_status
from scoring.revisions import report_changes, with_corrections
from surveys.model import Group
from tests.test_scoring_support import synthetic_frame


def _report(**kwargs: object):
    frame, questionnaires, units = synthetic_frame(900, 6, 14, seed=5)
    return build_report(
        frame,
        questionnaires,
        ScoringConfig(),
        wave="2026-S1",
        wave_open=False,
        units=units,
        corrections=Corrections(1.2, 0.3, "kasus 2025"),
        history=[WaveResult("2025-S2", 70.1, {Group.INTERNAL: 71.0})],
        institution_name="Pemerintah Kabupaten Mojokerto",
        year=2026,
        **kwargs,
    )


def test_a_frozen_report_reads_back_equal_at_full_precision() -> None:
    report = _report(exclusions=[Exclusion("u01", Group.INTERNAL, 3, "kuesioner ganda")])
    text = report_to_json(report)
    back = report_from_json(text)
    assert back == report
    assert back.institution.index == report.institution.index  # not rounded
    assert back.exclusions[0].reason == "kuesioner ganda"
    assert report_to_json(back) == text


def test_a_report_with_suppressed_and_empty_units_round_trips() -> None:
    frame, questionnaires, units = synthetic_frame(40, 12, 7, seed=2)
    report = build_report(
        frame, questionnaires, ScoringConfig(), wave="w", wave_open=True, units=units
    )
    assert any(u.suppressed for u in report.units)
    assert report_from_json(report_to_json(report)) == report


def test_unknown_layouts_and_damaged_text_are_refused() -> None:
    data = json.loads(report_to_json(_report()))
    data["format"] = 99
    with pytest.raises(FrozenReportError, match="layout 99"):
        report_from_json(json.dumps(data))
    with pytest.raises(FrozenReportError, match="damaged"):
        report_from_json('{"format": 1}')
    with pytest.raises(FrozenReportError):
        report_from_json("not json")


def test_a_correction_moves_the_index_by_exactly_its_difference() -> None:
    report = _report()
    before = report.institution
    assert before.index is not None
    revised = with_corrections(report, Corrections(3.28, 0.32, "kasus baru"))
    after = revised.institution
    assert after.index == pytest.approx(before.index + 1.5 - 3.6)
    assert after.corrections == Corrections(3.28, 0.32, "kasus baru")
    assert after.groups == before.groups  # the cells are frozen
    assert revised.units == report.units  # units carry no correction
    for old, new in zip(before.benchmarks, after.benchmarks, strict=True):
        assert new.value == old.value
        assert new.delta == pytest.approx(after.index - new.value)
    assert after.previous is not None
    assert after.previous.delta == pytest.approx(after.index - 70.1)

    changes = {c.what: c for c in report_changes(report, revised)}
    assert changes["correction_integrity"].before == 1.2
    assert changes["correction_integrity"].after == 3.28
    assert changes["index"].before == before.index
    assert changes["index"].after == after.index
    assert "group:internal" not in changes
    assert report_changes(report, report) == ()


def test_a_correction_that_crosses_a_threshold_changes_the_category() -> None:
    report = _report()
    index = report.institution.index
    assert index is not None
    # Put the Waspada bound between the corrected index and the index without deductions.
    thresholds = CategoryThresholds(waspada_from=round(index + 0.75, 2), terjaga_from=95.0)
    frozen = with_corrections(
        dataclasses.replace(
            report, config=dataclasses.replace(report.config, thresholds=thresholds)
        ),
        Corrections(1.2, 0.3, "kasus 2025"),
    )
    assert frozen.institution.category is not None
    assert frozen.institution.category.key == "rentan"
    revised = with_corrections(frozen, Corrections(0.0, 0.0, "kasus dibatalkan"))
    changes = {c.what: c for c in report_changes(frozen, revised)}
    assert (changes["category"].before, changes["category"].after) == ("rentan", "waspada")


def _cell(**kwargs: object) -> GroupResult:
    base = GroupResult(Group.INTERNAL, 0, None, None, 30, 30, None, False, ())
    return dataclasses.replace(base, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        (_cell(n=6, score=70.0), CellStatus.SHOWN),
        (_cell(needed=0), CellStatus.NOT_APPLICABLE),
        (_cell(), CellStatus.NO_RESPONSES),
        (_cell(waiting=7, waiting_today=7), CellStatus.TODAY),
        (_cell(waiting=3, waiting_today=1), CellStatus.WAITING),
        (_cell(n=3, suppressed=True), CellStatus.SMALL),
        (_cell(n=3, excluded=4, suppressed=True), CellStatus.EXCLUDED),
        (_cell(n=0, excluded=6), CellStatus.EXCLUDED),
        (_cell(n=8, suppressed=True), CellStatus.PROTECTING),
    ],
)
def test_every_cell_without_a_number_has_a_reason(cell: GroupResult, status: CellStatus) -> None:
    assert cell_status(cell, 5) is status


def test_excluded_counts_reach_the_cells() -> None:
    frame, questionnaires, units = synthetic_frame(300, 3, 10, seed=9)
    # Every response of one unit answered at under a second per item: speeders, excluded.
    fast = frame["unit_code"] == "u00"
    frame.loc[fast, "pace_band"] = 0
    report = build_report(
        frame, questionnaires, ScoringConfig(), wave="w", wave_open=False, units=units
    )
    u00 = report.unit("u00")
    assert all(c.excluded > 0 and c.n == 0 for c in u00.groups)
    assert all(cell_status(c, 5) is CellStatus.EXCLUDED for c in u00.groups)
    assert sum(c.excluded for c in report.institution.groups) == report.quality.excluded
