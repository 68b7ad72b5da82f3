"""Charts: every chart renders a phone-sized PNG for every kind of wave, in both languages,
never shows a suppressed number, and never shows a category colour without its word."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text as TextArtist

from scoring import CATEGORIES, Report, ScoringConfig, WaveResult, build_report
from scoring.charts import CHART_NAMES, CHARTS, render, render_pack
from scoring.charts.dimensions import _dimensions_figure
from scoring.charts.groups import _groups_figure
from scoring.charts.index_card import _index_figure
from scoring.charts.labels import LABELS, format_count, format_delta, format_score, label
from scoring.charts.progress import _progress_figure
from scoring.charts.ranking import _ranking_figure
from scoring.charts.style import CATEGORY_COLOURS
from scoring.charts.trend import _trend_figure
from surveys.model import Group
from tests.test_scoring_support import answers_frame, synthetic_frame

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 300 * 1024
SMALL_UNIT = "u01"
HISTORY = [WaveResult("2023-1", 70.4), WaveResult("2024-1", 72.9)]


def png_size(png: bytes) -> tuple[int, int]:
    """Return (width, height) from the PNG's IHDR chunk."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def texts(fig: Figure) -> list[str]:
    """Return every piece of text on the figure (titles, labels, ticks, annotations).

    Tick labels are asked for explicitly: that lays the ticks out without drawing the figure.
    """
    ticks = [t for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())]
    return [t.get_text() for t in (*fig.findobj(TextArtist), *ticks) if t.get_text()]


def _frame(*, small_unit: bool) -> tuple[pd.DataFrame, dict, list]:
    frame, qns, units = synthetic_frame(600, 6, 14, seed=7)
    if small_unit:
        # Keep 2 responses per group in one unit: below k = 5, so every cell there is hidden.
        in_unit = frame["unit_code"] == SMALL_UNIT
        firsts = (
            frame.loc[in_unit, ["response_id", "grp"]]
            .drop_duplicates("response_id")
            .groupby("grp", observed=True)["response_id"]
            .head(2)
        )
        frame = frame[~in_unit | frame["response_id"].isin(firsts)]
    return frame, qns, units


def _build(frame: pd.DataFrame, qns: dict, units: list, **kwargs: object) -> Report:
    options: dict = {
        "wave": "2025-1",
        "wave_open": True,
        "units": units,
        "history": HISTORY,
        "institution_name": "Pemerintah Kabupaten Mojokerto",
    }
    options.update(kwargs)
    config = options.pop("config", ScoringConfig())
    return build_report(frame, qns, config, **options)


@pytest.fixture(scope="module")
def unsuppressed() -> Report:
    """The "suppressed" wave scored with k = 1: what suppression hides, to look for leaks."""
    return _build(*_frame(small_unit=True), config=ScoringConfig(min_cell_size=1))


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    full = _build(*_frame(small_unit=False))
    suppressed = _build(*_frame(small_unit=True))
    first = _build(*_frame(small_unit=False), history=[], wave_open=False)
    _, qns, units = _frame(small_unit=False)
    empty = _build(answers_frame([]), qns, units, history=[])
    return {"full": full, "suppressed": suppressed, "first": first, "empty": empty}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("kind", ["full", "suppressed", "first", "empty"])
def test_every_chart_renders_a_phone_sized_png(
    reports: dict[str, Report], kind: str, language: str
) -> None:
    pack = render_pack(reports[kind], language, history=HISTORY if kind != "first" else ())
    assert tuple(pack) == CHART_NAMES
    for name, png in pack.items():
        width, height = png_size(png)
        assert width == 1080, name
        assert 600 <= height <= 4000, name
        assert len(png) <= MAX_PNG_BYTES, name


def test_one_chart_table_names_the_pack_and_the_unit_charts() -> None:
    assert tuple(CHARTS) == CHART_NAMES
    assert CHART_NAMES == ("index", "groups", "dimensions", "ranking", "trend", "progress")
    assert {name for name, chart in CHARTS.items() if chart.per_unit} == {
        "index",
        "groups",
        "dimensions",
        "trend",  # a unit head's /tren: the unit's own history
    }


def test_render_draws_one_unit_and_refuses_what_it_cannot_draw(reports: dict[str, Report]) -> None:
    report = reports["full"]
    unit = report.units[0].code
    assert unit is not None
    one_unit = render("groups", report, "en", unit)
    assert png_size(one_unit)[0] == 1080
    assert one_unit != render("groups", report, "en")
    with pytest.raises(ValueError, match="unknown chart 'pie'"):
        render("pie", report)
    with pytest.raises(ValueError, match="whole institution"):
        render("ranking", report, "id", unit)


def test_the_fixture_reports_cover_the_cases(reports: dict[str, Report]) -> None:
    assert reports["full"].institution.index is not None
    assert not any(u.suppressed for u in reports["full"].units)
    small = reports["suppressed"].unit(SMALL_UNIT)
    assert small.suppressed
    assert small.partial_index is None
    assert reports["first"].institution.previous is None
    assert all(g.n == 0 for g in reports["empty"].institution.groups)


def _hidden_numbers(suppressed: Report, unsuppressed: Report) -> set[str]:
    """Format (both languages) every number k = 5 hides and k = 1 would have shown."""
    hidden: list[float] = []
    for unit in suppressed.units:
        plain = unsuppressed.unit(unit.code or "")
        for cell in unit.groups:
            shown = plain.group(cell.group)
            if cell.suppressed and shown.score is not None:
                hidden.append(shown.score)
                hidden.extend(d.score for d in shown.dimensions if d.score is not None)
        if unit.index is None and plain.index is not None:
            hidden.append(plain.index)
        if unit.partial_index != plain.partial_index and plain.partial_index is not None:
            hidden.append(plain.partial_index)
    return {format_score(v, lang) for v in hidden for lang in ("id", "en")}


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_suppressed_units_score_never_appears(
    reports: dict[str, Report], unsuppressed: Report, language: str
) -> None:
    report = reports["suppressed"]
    hidden = _hidden_numbers(report, unsuppressed)
    assert hidden  # the test would prove nothing if k = 5 hid nothing

    drawn = texts(_ranking_figure(report, language))
    leaked = [t for t in drawn for h in hidden if h in t]
    assert leaked == []
    # The unit has no row of its own: it is counted in the greyed line of units without a number.
    small = report.unit(SMALL_UNIT)
    assert not any(small.name in t for t in drawn)
    hidden_word = label("cell_small", language, k=5)  # it says why: too few respondents
    counted = [t for t in drawn if hidden_word in t]
    assert len(counted) == 1
    assert counted[0].startswith("1 ")

    # The unit's own charts and the progress chart show counts, never a hidden score.
    for fig in (
        _groups_figure(report, language, SMALL_UNIT),
        _dimensions_figure(report, language, SMALL_UNIT),
        _index_figure(report, language, SMALL_UNIT),
        _progress_figure(report, language),
    ):
        drawn = texts(fig)
        assert [t for t in drawn for h in hidden if h in t] == []
    assert hidden_word in texts(_groups_figure(report, language, SMALL_UNIT))


def _ranking_rows(fig: Figure) -> tuple[list[Rectangle], list[TextArtist]]:
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_zorder() == 2]
    return bars, [t for t in ax.texts if t.get_text()]


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_category_colour_carries_its_word(reports: dict[str, Report], language: str) -> None:
    word_of = {CATEGORY_COLOURS[c.key].lower(): c.label.get(language) for c in CATEGORIES}
    for kind in ("full", "suppressed"):
        bars, labels = _ranking_rows(_ranking_figure(reports[kind], language))
        coloured = 0
        for bar in bars:
            colour = to_hex(bar.get_facecolor())
            if colour not in word_of:
                continue
            coloured += 1
            y = bar.get_y() + bar.get_height() / 2
            same_row = [t.get_text() for t in labels if t.get_position()[1] == pytest.approx(y)]
            assert any(word_of[colour] in t for t in same_row), (colour, same_row)
        assert coloured > 0

    report = reports["full"]
    assert report.institution.category is not None
    word = report.institution.category.label.get(language)
    pill = [t for t in _index_figure(report, language).texts if t.get_text() == word]
    assert len(pill) == 1
    box = pill[0].get_bbox_patch()
    assert box is not None
    expected = CATEGORY_COLOURS[report.institution.category.key].lower()
    face = to_hex(box.get_facecolor())
    assert face == expected


def test_a_missing_group_gives_a_labelled_partial_index_and_no_category() -> None:
    frame, qns, units = _frame(small_unit=False)
    frame = frame[frame["grp"] != Group.EXPERT.value]
    report = _build(frame, qns, units)
    assert report.institution.index is None
    assert report.institution.partial_index is not None

    fig = _index_figure(report, "id")
    drawn = texts(fig)
    assert "indeks parsial (kelompok: Pegawai, Pengguna layanan)" in drawn
    # The band words stay (they explain the scale) but no category pill is drawn.
    pills = [t.get_text() for t in fig.texts if t.get_bbox_patch() is not None]
    assert pills == ["SEMENTARA"]
    assert format_score(report.institution.partial_index, "id") in drawn

    ranking = texts(_ranking_figure(report, "en"))
    assert any(t.endswith("partial") for t in ranking)
    assert not any(c.label.en in t for c in CATEGORIES for t in ranking if "partial" in t)


def test_the_trend_of_a_first_wave_is_a_single_point_with_a_note(
    reports: dict[str, Report],
) -> None:
    drawn = texts(_trend_figure(reports["first"], "id"))
    assert "gelombang pertama — belum ada tren" in drawn
    assert "2025-1" in drawn


def test_the_trend_draws_the_history_and_the_national_index(
    reports: dict[str, Report],
) -> None:
    fig = _trend_figure(reports["full"], "en", HISTORY)
    drawn = texts(fig)
    assert {"2023-1", "2024-1", "2025-1"} <= set(drawn)
    assert "72.90" in drawn
    assert "70.40" in drawn
    national = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert [np.asarray(line.get_ydata()).tolist() for line in national] == [[70.97, 71.53, 72.32]]
    # Without history the trend falls back to the report's previous wave.
    assert "2024-1" in texts(_trend_figure(reports["full"], "en"))


def test_an_empty_wave_says_so_everywhere(reports: dict[str, Report]) -> None:
    report = reports["empty"]
    assert "belum ada indeks" in texts(_index_figure(report, "id"))
    assert "belum ada jawaban" in texts(_index_figure(report, "id"))
    ranking = texts(_ranking_figure(report, "en"))
    count = len(report.units)
    assert [t for t in ranking if "no responses yet" in t] == [
        f"{count} units without a number — {count} no responses yet"
    ]
    assert not any(re.fullmatch(r"\d+\. .*", t) for t in ranking)  # nothing ranked


LONG_NAME = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Mojokerto"


def test_the_ranking_grows_with_units_and_wraps_long_names() -> None:
    frame, qns, units = synthetic_frame(2500, 45, 7, seed=3)  # every unit has an index
    units[0] = type(units[0])(units[0].code, LONG_NAME, "opd")
    big = _build(frame, qns, units)
    small = _build(*_frame(small_unit=False))
    big_fig, small_fig = _ranking_figure(big, "id"), _ranking_figure(small, "id")
    assert big_fig.get_size_inches()[1] > 2.5 * small_fig.get_size_inches()[1]
    assert big_fig.get_size_inches()[0] == small_fig.get_size_inches()[0] == 7.2
    names = [t for t in texts(big_fig) if "Dinas Penanaman" in t]
    assert len(names) == 1
    lines = names[0].split("\n")
    assert len(lines) > 1
    assert "…" not in names[0]
    assert all(len(line) <= 24 for line in lines)
    assert " ".join(re.sub(r"^\d+\. ", "", names[0]).split()) == LONG_NAME  # every word kept


def test_units_without_data_collapse_into_one_counted_line() -> None:
    """A 49-unit wave where 43 units have no answers: 6 rows and one line, not 49 rows."""
    frame, qns, units = synthetic_frame(400, 6, 7, seed=3)
    no_data = [type(units[0])(f"x{i:02d}", f"Kecamatan Kosong {i}", "kecamatan") for i in range(43)]
    report = _build(frame, qns, [*units, *no_data])
    assert len(report.units) == 49
    fig = _ranking_figure(report, "id")
    drawn = texts(fig)
    assert [t for t in drawn if "belum ada jawaban" in t] == [
        "43 unit tanpa angka — 43 belum ada jawaban"
    ]
    assert not any("Kecamatan Kosong" in t for t in drawn)
    bars, _ = _ranking_rows(fig)
    assert len(bars) == 6
    # One row per unit with a number plus the count line: about 7 rows high, not 49.
    six = _ranking_figure(_build(frame, qns, units), "id")
    assert fig.get_size_inches()[1] - six.get_size_inches()[1] < 0.5


def test_numbers_are_written_the_readers_way() -> None:
    assert format_score(74.0, "id") == "74,00"
    assert format_score(1234.5, "en") == "1,234.50"
    assert format_score(1234.5, "id") == "1.234,50"
    assert format_delta(-1.684, "id") == "−1,68"
    assert format_delta(0.001, "en") == "±0.00"
    assert format_count(1692, "id") == "1.692"
    assert all(text.id and text.en for text in LABELS.values())


def test_the_trend_shows_a_partial_composite_apart_and_labelled(
    reports: dict[str, Report],
) -> None:
    history = [
        WaveResult("2023-1", 70.4),
        WaveResult("2024-1", None, partial_index=66.25, groups_included=(Group.INTERNAL,)),
    ]
    fig = _trend_figure(reports["full"], "id", history)
    drawn = texts(fig)
    assert "66,25 parsial" in drawn
    assert "parsial (bukan indeks SPI)" in drawn  # the legend says what the hollow point is
    ax = fig.axes[0]
    full_line = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    # The line of full indices joins 2023-1 and this wave only: the partial is not on it.
    full_values = np.asarray(full_line[0].get_ydata()).tolist()
    assert full_values[0] == 70.4
    assert 66.25 not in full_values
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white"]
    assert [np.asarray(line.get_ydata()).tolist() for line in hollow] == [[66.25]]


KPK = {2022: 74.0, 2023: 71.8, 2024: 73.63}


def _kpk_line(fig: Figure) -> list[tuple[float, float]]:
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"]
    return list(zip(line.get_xdata(), line.get_ydata(), strict=True))


@pytest.mark.parametrize(
    ("language", "legend", "value"),
    [("id", "Hasil SPI KPK (per tahun)", "73,63"), ("en", "KPK's SPI result (per year)", "73.63")],
)
def test_the_trend_draws_our_kpk_results_as_their_own_series(
    reports: dict[str, Report], language: str, legend: str, value: str
) -> None:
    fig = _trend_figure(reports["full"], language, HISTORY, KPK)
    drawn = texts(fig)
    assert legend in drawn
    assert value in drawn
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    # 2022 has no wave of ours: a slot of its own, in year order before 2023-1.
    assert ticks == ["2022", "2023-1", "2024-1", "2025-1"]
    assert _kpk_line(fig) == [(0, 74.0), (1, 71.8), (2, 73.63)]
    # The national index now has a point at the KPK-only year too.
    national = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert np.asarray(national[0].get_ydata()).tolist() == [71.94, 70.97, 71.53, 72.32]
    # Our own line still joins our waves only.
    (ours,) = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "-"]
    assert np.asarray(ours.get_xdata()).tolist() == [1, 2, 3]


def test_a_first_wave_with_kpk_results_keeps_its_note(reports: dict[str, Report]) -> None:
    fig = _trend_figure(reports["first"], "id", (), KPK)
    drawn = texts(fig)
    assert "gelombang pertama — belum ada tren" in drawn
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2022", "2023", "2024", "2025-1"]
    assert _kpk_line(fig) == [(0, 74.0), (1, 71.8), (2, 73.63)]
    # Without published results nothing KPK is drawn or named.
    bare = _trend_figure(reports["first"], "id")
    assert "Hasil SPI KPK (per tahun)" not in texts(bare)
    assert not [line for line in bare.axes[0].get_lines() if line.get_linestyle() == ":"]


def test_kpk_results_beside_a_partial_composite(reports: dict[str, Report]) -> None:
    history = [WaveResult("2024-1", None, partial_index=66.25, groups_included=(Group.INTERNAL,))]
    fig = _trend_figure(reports["full"], "id", history, {2024: 73.63, 2026: 75.0})
    drawn = texts(fig)
    assert "66,25 parsial" in drawn
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2024-1", "2025-1", "2026"]  # a later KPK year goes at the end
    assert _kpk_line(fig) == [(0, 73.63), (2, 75.0)]  # at the 2024 wave, beside its partial
    hollow = [line for line in fig.axes[0].get_lines() if line.get_markerfacecolor() == "white"]
    assert [np.asarray(line.get_ydata()).tolist() for line in hollow] == [[66.25]]
    png = render("trend", reports["full"], "en", history=history, published={2024: 73.63})
    assert png_size(png)[0] == 1080
