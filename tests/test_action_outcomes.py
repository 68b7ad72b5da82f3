"""A unit's dimension changes between two closed waves beside the actions done there (the
final report's follow-up text), on the hand report of test_scoring_report: never a number
that suppression hid."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from scoring import ScoringConfig, build_report
from scoring.changes import unit_dimension_changes
from services.actions import outcomes_text
from services.actions.texts import TEXT_LIMIT
from storage.actions import Action, ActionStatus
from surveys.model import Dimension
from tests.test_scoring_report import CONFIG, HAND, hand_report
from tests.test_scoring_support import answers_frame, two_dimension_questionnaires, units

T, TI = Dimension.TRANSPARENCY, Dimension.TASK_INTEGRITY
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _scores(report, code: str) -> dict[Dimension, float | None]:
    return {d.dimension: d.score for d in report.unit(code).dimensions}


def _lower(k: int = CONFIG.min_cell_size):
    """The hand wave a wave earlier, with every q1 answer one option lower."""

    def lower(question: str, value: str) -> str:
        return str(int(value) - 1) if question == "q1" and value in "2345" else value

    rows = [
        (rid, grp, unit, secs, {q: lower(q, v) for q, v in answers.items()})
        for rid, grp, unit, secs, answers in HAND
    ]
    return build_report(
        answers_frame(rows),
        two_dimension_questionnaires(),
        replace(CONFIG, min_cell_size=k),
        wave="2025-0",
        wave_open=False,
        units=units("A", "B"),
    )


def _action(what: str, dimension: str | None, unit: str = "A", number: int = 1) -> Action:
    return Action(
        id=number,
        unit_id=1 if unit == "A" else 2,
        unit_code=unit,
        unit_name=f"Unit {unit}",
        dimension=dimension,
        recommendation="",
        what=what,
        who="Kepala Bidang",
        due_on=date(2026, 3, 1),
        status=ActionStatus.DONE,
        note="",
        document_file_id=None,
        version=2,
        created_at=NOW,
        updated_at=NOW,
    )


def test_changes_come_from_both_reports():
    now, before = hand_report(), _lower()
    changes = unit_dimension_changes(now, before, "A")
    assert set(changes) == set(Dimension)
    shown_now, shown_before = _scores(now, "A"), _scores(before, "A")
    assert changes[T].before == shown_before[T]
    assert changes[T].after == shown_now[T]
    assert changes[T].delta == pytest.approx(shown_now[T] - shown_before[T])
    assert changes[T].delta > 0
    # Dimensions the questionnaire does not ask have no numbers on either side.
    assert changes[Dimension.PROCUREMENT].delta is None
    # Without an earlier wave, or for a unit a report lacks, that side is empty.
    first = unit_dimension_changes(now, None, "A")
    assert first[T].before is None
    assert first[T].delta is None
    assert unit_dimension_changes(now, before, "NOPE")[T].after is None


def test_a_suppressed_side_has_no_number():
    hidden = build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        ScoringConfig(min_cell_size=3),
        wave="2025-1",
        wave_open=False,
        units=units("A", "B"),
    )
    assert hidden.unit("A").suppressed
    changes = unit_dimension_changes(hidden, _lower(), "A")
    assert changes[T].after is None
    assert changes[T].before is not None
    assert changes[T].delta is None
    text = outcomes_text(hidden, _lower(), [_action("Standar pelayanan", "transparency")], "id")
    line = next(x for x in text.split("\n") if x.startswith("• Transparansi"))
    before = _scores(_lower(), "A")[T]
    assert before is not None
    assert line == f"• Transparansi: {before:.2f}".replace(".", ",") + " → data belum cukup"
    # The hidden wave's numbers never appear: the line holds only the earlier, shown score.
    assert re.findall(r"\d+,\d\d", line) == [f"{before:.2f}".replace(".", ",")]


def test_text_by_hand_in_both_languages():
    now, before = hand_report(), _lower()
    done = [
        _action("Standar pelayanan terbit", "transparency", number=1),
        _action("Deklarasi benturan kepentingan", None, number=2),
        _action("Pakta integritas", "task_integrity", unit="B", number=3),
    ]
    text = outcomes_text(now, before, done, "id")
    after, was = _scores(now, "A")[T], _scores(before, "A")[T]
    assert after is not None
    assert was is not None
    delta = round(after, 2) - round(was, 2)
    lines = [x.strip() for x in text.split("\n")]
    assert lines[0] == "<b>Tindak lanjut dan perubahan dimensi — gelombang 2025-1</b>"
    assert "sejak gelombang 2025-0 ditutup" in lines[1]
    a = lines.index("<b>Unit A</b>")
    assert lines[a + 1 : a + 5] == [
        f"• Transparansi: {was:.2f} → {after:.2f} (+{delta:.2f})".replace(".", ","),
        "✅ Standar pelayanan terbit",
        "• Rekomendasi KPK / lainnya",
        "✅ Deklarasi benturan kepentingan",
    ]
    b = lines.index("<b>Unit B</b>")
    assert lines[b + 1].startswith("• Integritas dalam pelaksanaan tugas: ")
    english = outcomes_text(now, None, done, "en")
    assert "no earlier wave to compare with yet" in english
    assert f"• Transparency: {after:.2f}" in english
    assert "→" not in english  # nothing to compare with
    assert "No follow-up action was done" in outcomes_text(now, before, [], "en")


def test_a_long_list_fits_one_message():
    done = [_action("Perbaikan " + "x" * 80, "transparency", number=i) for i in range(200)]
    text = outcomes_text(hand_report(), _lower(), done, "id")
    assert len(text) <= TEXT_LIMIT
    assert text.endswith("…selebihnya di <code>spibot actions export</code>.")
