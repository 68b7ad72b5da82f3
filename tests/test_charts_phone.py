"""Chart fixes seen on a phone (issue 22.8), checked on the drawn figure: where each text's
box lands, not only what it says. Charts are 1080 px wide, the width of a phone screen."""

from __future__ import annotations

import dataclasses

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text as TextArtist
from matplotlib.transforms import Bbox

from scoring import ScoringConfig, UnitInfo, build_report
from scoring.charts import render
from scoring.charts.actions import _figure as actions_figure
from scoring.charts.dimensions import _dimensions_figure
from scoring.charts.groups import _groups_figure
from scoring.charts.index_card import _index_figure
from scoring.charts.labels import label
from scoring.charts.progress import _progress_figure
from scoring.charts.ranking import _ranking_figure
from surveys.model import Group
from tests.test_charts import png_size
from tests.test_scoring_support import synthetic_frame

LONG = "Dinas Pengendalian Penduduk KB Pemberdayaan Perempuan dan Perlindungan Anak"


def _report(**kwargs: object):
    frame, qns, units = synthetic_frame(900, 8, 10, seed=4)
    units[0] = dataclasses.replace(units[0], name=LONG)
    # u01 serves no public and its external answers are gone: a partial, not-applicable unit.
    units[1] = dataclasses.replace(units[1], serves_public=False)
    frame = frame[~((frame["unit_code"] == "u01") & (frame["grp"] == "external"))]
    options: dict = {"wave": "2026-S1", "wave_open": True, "units": units, "year": 2026}
    options.update(kwargs)
    return build_report(frame, qns, ScoringConfig(), institution_name="Kab. Mojokerto", **options)


def _boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    renderer = canvas.get_renderer()
    out = []
    for text in fig.findobj(TextArtist):
        if text.get_text() and text.get_visible():
            out.append((text.get_text(), text.get_window_extent(renderer)))
    return out


def _box(boxes: list[tuple[str, Bbox]], wanted: str) -> Bbox:
    (found,) = [b for t, b in boxes if t == wanted]
    return found


@pytest.mark.parametrize("draw", [_index_figure, _groups_figure, _dimensions_figure])
@pytest.mark.parametrize("language", ["id", "en"])
def test_a_long_unit_name_never_runs_under_the_provisional_badge(draw, language: str) -> None:
    report = _report()
    boxes = _boxes(draw(report, language, "u00"))
    badge = _box(boxes, label("provisional", language))
    named = [(t, b) for t, b in boxes if "Pengendalian" in t or "Perlindungan" in t]
    assert named  # the whole name is drawn, on lines of its own
    assert " ".join(" ".join(t for t, _ in named).split()) == LONG
    for _, box in named:
        assert not box.overlaps(badge)
        assert box.y1 < badge.y0  # below the badge's row
        assert box.x1 <= 1080
    assert not any("…" in t for t, _ in named)


@pytest.mark.parametrize("language", ["id"])  # "Alert" fits its band: no key line in English
def test_the_index_key_sits_below_the_axis_numbers(language: str) -> None:
    report = _report()
    fig = _index_figure(report, language)
    boxes = _boxes(fig)
    keys = [b for t, b in boxes if t == label("category_key", language, w=73, t=78)]
    assert keys, "a narrow Waspada band puts the key on its own line"
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    ticks = [
        t.get_window_extent(canvas.get_renderer())
        for ax in fig.axes
        if ax.axison  # the band and the table are drawn without axes
        for t in ax.get_xticklabels()
        if t.get_text()
    ]
    assert ticks
    for key in keys:
        assert not any(key.overlaps(tick) for tick in ticks)
        assert all(key.y1 < tick.y0 for tick in ticks)


def test_the_rpjmn_target_says_which_year_it_is() -> None:
    texts = [t for t, _ in _boxes(_index_figure(_report(year=2026), "id"))]
    assert "Target RPJMN 2024 (belum ada target 2026)" in texts
    assert not any("RPJMN 2023" in t for t in texts)
    english = [t for t, _ in _boxes(_index_figure(_report(year=2024), "en"))]
    assert "RPJMN target 2024" in english  # the wave's own year's target, sourced


def test_a_group_that_does_not_apply_says_so() -> None:
    report = _report()
    texts = [t for t, _ in _boxes(_groups_figure(report, "id", "u01"))]
    assert "tidak berlaku" in texts
    assert "belum ada jawaban" not in texts
    assert "Pengguna layanan" in texts  # no "n = 0" under a group that does not apply
    english = [t for t, _ in _boxes(_groups_figure(report, "en", "u01"))]
    assert "not applicable" in english


def test_partial_units_are_set_apart_not_ranked_below_full_ones() -> None:
    report = _report()
    partial = [u for u in report.units if u.index is None and u.partial_index is not None]
    assert partial
    fig = _ranking_figure(report, "id")
    boxes = _boxes(fig)
    heading = _box(boxes, label("unranked_header", "id"))
    for unit in report.units:
        if unit.index is None and unit.partial_index is not None:
            (row,) = [b for t, b in boxes if t.replace("\n", " ") == unit.name]
            assert row.y1 < heading.y0  # under the heading (figure y grows upwards)
        elif unit.index is not None:
            (row,) = [b for t, b in boxes if t.replace("\n", " ").endswith(unit.name)]
            assert row.y0 > heading.y1


def test_the_progress_chart_wraps_names_and_puts_the_furthest_behind_first() -> None:
    report = _report()
    fig = _progress_figure(report, "id")
    texts = [t for t, _ in _boxes(fig)]
    assert not any("…" in t for t in texts)
    assert any(t.replace("\n", " ") == LONG for t in texts)
    names = [u.name for u in report.units]
    shown = [" ".join(t.split()) for t in texts if " ".join(t.split()) in names]

    def share(name: str) -> float:
        unit = next(u for u in report.units if u.name == name)
        needed = sum(c.needed for c in unit.groups)
        return sum(min(c.submitted, c.needed) for c in unit.groups) / needed

    shares = [share(n) for n in shown]
    assert shares == sorted(shares)
    assert label("progress_order", "id") in "\n".join(texts)


def test_the_actions_chart_counts_in_whole_numbers() -> None:
    rows = [("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", {"done": 1, "planned": 1})]
    rows += [("Dinas Kesehatan", {"in_progress": 1})]
    fig = actions_figure(rows, title="t", subtitle="s", status_words={}, language="id")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks
    assert all(tick.isdigit() for tick in ticks), ticks
    texts = [t for t, _ in _boxes(fig)]
    assert "Dinas Penanaman Modal dan\nPelayanan Terpadu Satu Pintu" in texts


def test_day_zero_says_when_responses_show() -> None:
    """No number yet, but responses arrived today: the charts say when they show."""
    frame, qns, units = synthetic_frame(0, 3, 5, seed=1)
    units = [UnitInfo("A", "Unit A", "opd", None, True), UnitInfo("B", "Unit B", "opd")]
    waiting = {("A", Group.INTERNAL): 7, ("B", Group.EXPERT): 2}
    report = build_report(
        frame, qns, ScoringConfig(), wave="w", wave_open=True, units=units,
        waiting=waiting, waiting_today=waiting,
    )  # fmt: skip
    index = [t for t, _ in _boxes(_index_figure(report, "id"))]
    assert "9 jawaban hari ini, tampil besok" in index
    assert "7 jawaban hari ini, tampil besok" in [
        t for t, _ in _boxes(_groups_figure(report, "id", "A"))
    ]
    assert "2 jawaban hari ini, tampil setelah ≥ 5" in [
        t for t, _ in _boxes(_groups_figure(report, "id", "B"))
    ]
    for name in ("index", "groups", "ranking", "progress"):
        width, _ = png_size(render(name, report, "id"))
        assert width == 1080
