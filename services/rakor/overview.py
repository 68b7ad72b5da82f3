"""The institution's pages of the rakor pack: the cover (the index with its margin and
category, benchmarks, the change since the last wave), groups and dimensions with the trend,
and every unit at a glance."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from scoring import ScopeResult
from scoring.charts.style import no_number_word  # the charts' few words for a hidden cell
from scoring.report import GroupResult
from services.rakor.content import Writer, dimension_bars, group_rows, scope_headline
from services.rakor.document import (
    CATEGORY_FILL,
    CATEGORY_INK,
    CONTENT_W,
    ROW_TINT,
    para,
    styles,
    table,
)
from services.reports import benchmark_year, revised_mark, revision_note, unit_reason

__all__ = ["cover", "groups_page", "units_pages"]


def _status_line(w: Writer) -> str:
    wave = w.bundle.wave
    if w.bundle.report.provisional:
        as_of = w.bundle.as_of or w.made_on
        return w.t("pdf_status_provisional", date=w.date(as_of - timedelta(days=1)))
    closed = wave.closed_at.astimezone(w.zone).date() if wave.closed_at else w.made_on
    return w.t("pdf_status_final", date=w.date(closed))


def _benchmarks(w: Writer, scope: ScopeResult) -> list[Flowable]:
    """The benchmarks table and the change since the previous wave."""
    s = styles()
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_benchmark"), s.head),
            para(w.t("pdf_col_value"), s.head),
            para(w.t("pdf_col_delta"), s.head),
        ]
    ]
    report = w.bundle.report
    for bench in scope.benchmarks:
        name = f"{bench.label.get(w.language)} {benchmark_year(bench, report.year, w.language)}"
        delta = w.delta(bench.delta) if bench.delta is not None else "—"
        rows.append(
            [para(html.escape(name), s.cell), para(w.num(bench.value), s.cell_right),
             para(delta, s.cell_right)]
        )  # fmt: skip
    prev = scope.previous
    if prev is not None:
        mark = revised_mark(_revised_on(w, prev.wave), w.language)
        rows.append(
            [
                para(html.escape(w.t("pdf_previous", wave=prev.wave)) + mark, s.cell),
                para(w.num(prev.index) if prev.index is not None else "—", s.cell_right),
                para(w.delta(prev.delta) if prev.delta is not None else "—", s.cell_right),
            ]
        )
    out: list[Flowable] = [para(w.t("pdf_benchmarks"), s.h2)]
    widths = [0.58, 0.18, 0.24]
    out.append(table(rows, [f * CONTENT_W * 0.5 for f in widths]))
    out.append(Spacer(1, 3 * mm))
    if prev is None:
        out.append(para(w.t("pdf_first_wave"), s.body))
    elif prev.delta is not None:
        change = w.t(
            "pdf_change", wave=html.escape(prev.wave), delta=f"<b>{w.delta(prev.delta)}</b>"
        )
        out.append(para(change, s.body.clone("change", fontSize=14, leading=18)))
    else:
        out.append(para(w.t("pdf_change_none", wave=html.escape(prev.wave)), s.body))
    return out


def _revised_on(w: Writer, wave: str) -> date | None:
    return next((h.revised_on for h in w.bundle.history if h.wave == wave), None)


def _summary(w: Writer) -> str:
    report = w.bundle.report
    ranked = [u for u in report.units if u.index is not None]
    counts = {key: sum(1 for u in ranked if u.category and u.category.key == key) for key in
              ("terjaga", "waspada", "rentan")}  # fmt: skip
    partial = sum(1 for u in report.units if u.index is None and u.partial_index is not None)
    none = len(report.units) - len(ranked) - partial
    return w.t(
        "pdf_summary",
        responses=w.count(report.quality.responses),
        ranked=len(ranked),
        partial=partial,
        none=none,
        **counts,
    )


def cover(w: Writer) -> list[Flowable]:
    """The cover: who, which wave, its status; the index with its margin and category, the
    benchmarks and the change since the last wave; the three groups; the units in brief."""
    s = styles()
    report = w.bundle.report
    inst = report.institution
    head: list[Flowable] = [
        para(w.t("pdf_title"), s.title),
        para(w.t("pdf_subtitle", institution=w.name(inst), wave=html.escape(report.wave)),
             s.subtitle),
        para(_status_line(w), s.body),
    ]  # fmt: skip
    note = revision_note(w.bundle.revision, w.language)
    if note:
        head.append(para(note, s.body))
    left: list[Flowable] = [para(w.t("pdf_index_label"), s.h2), *scope_headline(w, inst)]
    corr = inst.corrections
    if corr is not None and corr.total:
        left += [
            Spacer(1, 2 * mm),
            para(
                w.t(
                    "pdf_corrections",
                    integrity=w.num(corr.integrity),
                    prevalence=w.num(corr.prevalence),
                    note=html.escape(corr.note),
                ),
                s.note,
            ),
        ]
    right = _benchmarks(w, inst)
    body = _columns(left, right, 0.46)
    widths = [0.16, 0.08, 0.07, 0.07, 0.07, 0.55]
    groups = table(group_rows(w, inst), [f * CONTENT_W for f in widths])
    return [
        *head,
        Spacer(1, 4 * mm),
        body,
        para(w.t("pdf_groups_title"), s.h2),
        groups,
        Spacer(1, 3 * mm),
        para(_summary(w), s.body),
        PageBreak(),
    ]


def _columns(left: list[Flowable], right: list[Flowable], share: float) -> Table:
    """Two columns side by side, `share` of the width on the left."""
    body = Table([[left, right]], colWidths=[CONTENT_W * share, CONTENT_W * (1 - share)])
    body.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 8 * mm),
            ]
        )
    )
    return body


def groups_page(w: Writer) -> list[Flowable]:
    """Dimensions weakest first (where to act), and the index across waves."""
    s = styles()
    inst = w.bundle.report.institution
    left: list[Flowable] = [
        para(w.t("pdf_dimensions_title"), s.h1),
        dimension_bars(w, inst.dimensions, CONTENT_W * 0.6 - 8 * mm),
    ]
    right: list[Flowable] = [para(w.t("pdf_trend_title"), s.h1), _trend(w)]
    right += [Spacer(1, 4 * mm), para(w.t("pdf_by_group_title"), s.h2), _by_group(w)]
    return [_columns(left, right, 0.6), PageBreak()]


def _by_group(w: Writer) -> Flowable:
    """Each dimension's score in each group (a hidden one says so in a word)."""
    s = styles()
    inst = w.bundle.report.institution
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_dimension"), s.head),
            *(para(w.group(c.group), s.head) for c in inst.groups),
        ]
    ]
    for dim in inst.dimensions:
        cells: list[object] = [para(w.dimension(dim), s.cell)]
        for cell in inst.groups:
            found = next((d for d in cell.dimensions if d.dimension is dim.dimension), None)
            if found is None:
                cells.append(para("—", s.cell_right))
            elif found.score is None:
                cells.append(para(w.t("pdf_hidden_word"), s.note))
            else:
                cells.append(para(w.num(found.score), s.cell_right))
        rows.append(cells)
    return table(rows, [CONTENT_W * f for f in (0.14, 0.08, 0.1, 0.07)])


def _trend(w: Writer) -> Flowable:
    s = styles()
    rows: list[list[object]] = [
        [para(w.t("pdf_col_wave"), s.head), para(w.t("pdf_col_index"), s.head)]
    ]
    current = w.bundle.report.to_wave_result()
    waves = [*w.bundle.history, current]
    for result in waves:
        if result.index is not None:
            value = f"<b>{w.num(result.index)}</b>"
        elif result.partial_index is not None:
            groups = ", ".join(w.group(g) for g in result.groups_included)
            value = f"{w.num(result.partial_index)} {w.t('pdf_trend_partial', groups=groups)}"
        else:
            value = w.t("pdf_trend_none")
        revised = result.revised_on
        if result is current and w.bundle.revision is not None:
            revised = w.bundle.revision.created_on
        rows.append(
            [para(html.escape(result.wave) + revised_mark(revised, w.language), s.cell),
             para(value, s.cell)]
        )  # fmt: skip
    return table(rows, [CONTENT_W * 0.16, CONTENT_W * 0.23])


def units_pages(w: Writer) -> list[Flowable]:
    """Every unit on a line: ranked by index, then partial ones by name, then those without a
    number with the reason; each group's score or, when hidden, why in a word or two."""
    s = styles()
    report = w.bundle.report
    ranked = sorted((u for u in report.units if u.index is not None), key=lambda u: -(u.index or 0))
    partial = sorted(
        (u for u in report.units if u.index is None and u.partial_index is not None),
        key=lambda u: u.name,
    )
    rest = [u for u in report.units if u.index is None and u.partial_index is None]
    groups = [g.group for g in report.institution.groups]
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_rank"), s.head),
            para(w.t("pdf_col_unit"), s.head),
            para(w.t("pdf_col_index"), s.head),
            para(w.t("pdf_col_category"), s.head),
            *(para(w.group(g), s.head) for g in groups),
        ]
    ]
    extra: list[tuple[Any, ...]] = []
    for rank, unit in enumerate([*ranked, *partial, *rest], start=1):
        row = len(rows)
        if unit.index is not None:
            number, value = str(rank), f"<b>{w.num(unit.index)}</b>"
            word = unit.category.label.get(w.language) if unit.category else ""
            key = unit.category.key if unit.category else ""
            if key in CATEGORY_FILL:
                extra += [
                    ("BACKGROUND", (3, row), (3, row), CATEGORY_FILL[key]),
                    ("TEXTCOLOR", (3, row), (3, row), CATEGORY_INK[key]),
                ]
            ink = CATEGORY_INK.get(key, s.cell.textColor)
            category = para(f"<b>{html.escape(word)}</b>", s.cell.clone("cat", textColor=ink))
        elif unit.partial_index is not None:
            number, value = "–", w.num(unit.partial_index)
            category = para(f"<i>{w.t('pdf_partial_word')}</i>", s.note)
        else:
            number, value = "–", "—"
            category = para(html.escape(unit_reason(unit, w.k, w.language)), s.note)
        if row % 2 == 0:
            extra.append(("BACKGROUND", (0, row), (2, row), ROW_TINT))
            extra.append(("BACKGROUND", (4, row), (-1, row), ROW_TINT))
        cells = [
            para(f"<b>{w.num(c.score)}</b>", s.cell_right)
            if c.score is not None
            else para(html.escape(_short_reason(w, c)), s.note)
            for c in unit.groups
        ]
        rows.append(
            [para(number, s.cell), para(w.name(unit), s.cell), para(value, s.cell_right),
             category, *cells]
        )  # fmt: skip
    widths = [0.05, 0.31, 0.09, 0.13, 0.14, 0.14, 0.14]
    return [
        para(w.t("pdf_units_title"), s.h1),
        para(w.t("pdf_units_note"), s.note),
        Spacer(1, 2 * mm),
        table(rows, [f * CONTENT_W for f in widths], extra=extra),
        PageBreak(),
    ]


def _short_reason(w: Writer, cell: GroupResult) -> str:
    return no_number_word(cell, w.language, w.k)
