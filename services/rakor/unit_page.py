"""One page per unit of the rakor pack: its scores (or why none), its weakest dimension, how
it compares with the institution, its follow-up actions with their status, and the
responses left out of it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Table, TableStyle

import storage.actions
from scoring import ScopeResult
from scoring.report import CellStatus, DimensionScore
from services.actions import ActionStatus, status_word
from services.rakor.content import Writer, scope_headline
from services.rakor.document import (
    CATEGORY_FILL,
    CONTENT_W,
    NAVY,
    PAPER_TINT,
    ROW_TINT,
    para,
    styles,
    table,
)
from services.rakor.method import exclusion_line
from services.reports import unit_reason

__all__ = ["unit_page"]

_OPEN = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


def _uncorrected(w: Writer) -> float | None:
    """The institution's index without KPK's corrections: what a unit's index compares with."""
    inst = w.bundle.report.institution
    if inst.index is None:
        return None
    return inst.index + (inst.corrections.total if inst.corrections is not None else 0.0)


def _comparison(w: Writer, unit: ScopeResult) -> str:
    institution = _uncorrected(w)
    if unit.index is None or institution is None:
        return w.t("pdf_unit_vs_none")
    return w.t(
        "pdf_unit_vs",
        unit=f"<b>{w.num(unit.index)}</b>",
        institution=w.num(institution),
        delta=w.delta(unit.index - institution),
    )


def _weakest(unit: ScopeResult) -> DimensionScore | None:
    shown = [d for d in unit.dimensions if d.score is not None]
    return min(shown, key=lambda d: d.score or 0.0) if shown else None


def _dimensions(w: Writer, unit: ScopeResult) -> Flowable:
    """The unit's dimensions against the institution's, weakest first; hidden ones say why
    (a unit with no dimension score at all says it once)."""
    s = styles()
    if all(d.score is None for d in unit.dimensions):
        reason = html.escape(unit_reason(unit, w.k, w.language))
        return para(w.t("pdf_dimensions_none", reason=reason), s.body)
    inst = {d.dimension: d.score for d in w.bundle.report.institution.dimensions}
    shown = sorted((d for d in unit.dimensions if d.score is not None), key=lambda d: d.score or 0)
    hidden = [d for d in unit.dimensions if d.score is None]
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_dimension"), s.head),
            para(w.t("pdf_col_score"), s.head),
            para(w.t("pdf_col_institution"), s.head),
            para(w.t("pdf_col_diff"), s.head),
        ]
    ]
    extra: list[tuple[Any, ...]] = []
    for dim in [*shown, *hidden]:
        other = inst.get(dim.dimension)
        if dim.score is None:
            why = w.t("cell_small", k=w.k) if dim.n > 0 else w.t("cell_no_answers")
            value, diff = para(html.escape(why), s.note), "—"
        else:
            value = para(f"<b>{w.num(dim.score)}</b>", s.cell_right)
            diff = w.delta(dim.score - other) if other is not None else "—"
        rows.append(
            [
                para(w.dimension(dim), s.cell),
                value,
                para(w.num(other) if other is not None else "—", s.cell_right),
                para(diff, s.cell_right),
            ]
        )
    if shown:  # the weakest dimension, where to act first, stands out
        extra.append(("BACKGROUND", (0, 1), (-1, 1), CATEGORY_FILL["rentan"].clone(alpha=0.15)))
    widths = [0.5, 0.17, 0.17, 0.16]
    return table(rows, [f * CONTENT_W * 0.55 for f in widths], extra=extra)


def _actions(
    w: Writer, unit: ScopeResult, actions: Sequence[storage.actions.Action]
) -> list[Flowable]:
    """The unit's follow-up actions with their status. The heading is the table's first row
    (a heading never ends a page alone, yet a long list may split), and names the unit: the
    rest of a long list is read on the next page, away from the unit's name."""
    s = styles()
    heading = f"{w.t('pdf_actions_title')} — {w.name(unit)}"
    if not actions:
        return [para(w.t("pdf_actions_title"), s.h2), para(w.t("pdf_actions_none"), s.body)]
    small = s.cell.clone("action", fontSize=10, leading=12)
    heads = ["pdf_col_rank", "pdf_col_dim_short", "pdf_col_what", "pdf_col_who"]
    heads += ["pdf_col_due", "pdf_col_status"]
    rows: list[list[object]] = [
        [para(heading, s.h2.clone("in_table", spaceBefore=0, spaceAfter=0))],
        [para(w.t(key), s.head) for key in heads],
    ]
    rows[0] += [""] * (len(heads) - 1)
    extra: list[tuple[Any, ...]] = [
        ("SPAN", (0, 0), (-1, 0)),
        ("BACKGROUND", (0, 1), (-1, 1), PAPER_TINT),
        ("LINEBELOW", (0, 1), (-1, 1), 0.9, NAVY),
        ("LINEBELOW", (0, 0), (-1, 0), 0, colors.white),
        ("LEFTPADDING", (0, 0), (0, 0), 0),
    ]
    for action in actions:
        about = (
            w.t(f"scores_dim_{action.dimension}")
            if action.dimension
            else html.escape(action.recommendation)
        )
        status = status_word(action.status, w.language)
        if action.status in _OPEN and action.due_on < w.made_on:
            status += f" — <b>{w.t('pdf_overdue')}</b>"
        if len(rows) % 2 == 1:
            extra.append(("BACKGROUND", (0, len(rows)), (-1, len(rows)), ROW_TINT))
        rows.append(
            [
                para(str(action.id), small),
                para(about, small),
                para(html.escape(action.what), small),
                para(html.escape(action.who), small),
                para(w.date(action.due_on), small),
                para(status, small),
            ]
        )
    widths = [0.04, 0.19, 0.38, 0.16, 0.11, 0.12]
    out = table(rows, [f * CONTENT_W for f in widths], extra=extra, header=False)
    out.repeatRows = 2
    return [out]


def _excluded(w: Writer, unit: ScopeResult) -> list[Flowable]:
    """The responses left out of this unit: by the quality checks, and by the inspectorate
    (issue 24: with the signal, the day and the reason; none says so)."""
    s = styles()
    quality = sum(c.excluded for c in unit.groups)
    lines = [
        w.t("pdf_quality_unit", n=w.count(quality)) if quality else w.t("pdf_quality_unit_none")
    ]
    mine = [e for e in w.bundle.report.exclusions if e.unit_code == unit.code]
    lines += [exclusion_line(w, e) for e in mine] or [w.t("pdf_exclusions_none")]
    return [para(w.t("pdf_exclusions_title"), s.h2), para("<br/>".join(lines), s.note)]


def _groups(w: Writer, unit: ScopeResult) -> list[Flowable]:
    """The unit's three groups, compact, each hidden one's reason in full under the table."""
    s = styles()
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_group"), s.head),
            para(w.t("pdf_col_score"), s.head),
            para(w.t("pdf_col_n"), s.head),
            para(w.t("pdf_col_target"), s.head),
        ]
    ]
    reasons = []
    for cell in unit.groups:
        applies = w.status(cell) is not CellStatus.NOT_APPLICABLE
        if cell.score is not None:
            moe = f" ±{w.num(cell.moe)}" if cell.moe is not None else ""
            value = para(f"<b>{w.num(cell.score)}</b>{moe}", s.cell_right)
        else:
            value = para("—", s.cell_right)
            reasons.append(f"<b>{w.group(cell.group)}</b>: {w.reason(cell)}")
        n = cell.n if cell.score is not None else cell.submitted
        rows.append(
            [
                para(w.group(cell.group), s.cell),
                value,
                para(w.count(n) if applies else "—", s.cell_right),
                para(w.count(cell.needed) if cell.needed else "—", s.cell_right),
            ]
        )
    widths = [0.38, 0.3, 0.14, 0.18]
    out: list[Flowable] = [
        para(w.t("pdf_groups_title"), s.h2),
        table(rows, [f * (CONTENT_W * 0.44 - 6 * mm) for f in widths]),
    ]
    if reasons:
        out.append(para("<br/>".join(reasons), s.note.clone("reasons", spaceBefore=1 * mm)))
    return out


def unit_page(
    w: Writer, unit: ScopeResult, actions: Sequence[storage.actions.Action]
) -> list[Flowable]:
    """Return one unit's page (it runs onto the next only when many actions do not fit)."""
    s = styles()
    kind = w.t(f"pdf_unit_kind_{unit.kind if unit.kind in _KINDS else 'unknown'}")
    head = [
        para(w.name(unit), s.h1.clone("unit", spaceAfter=0.5 * mm)),
        para(f"{kind} · {html.escape(unit.code or '')}", s.small),
    ]
    weakest = _weakest(unit)
    left: list[Flowable] = list(scope_headline(w, unit, big=40))
    left.append(para(_comparison(w, unit), s.body.clone("vs", spaceBefore=1.5 * mm)))
    if weakest is not None and weakest.score is not None:
        left.append(
            para(w.t("pdf_weakest", name=w.dimension(weakest), value=w.num(weakest.score)), s.body)
        )
    else:
        left.append(para(w.t("pdf_weakest_none"), s.body))
    left += _groups(w, unit)
    right: list[Flowable] = [para(w.t("pdf_dimensions_title"), s.h2), _dimensions(w, unit)]
    right += _excluded(w, unit)
    right.append(para(f"{w.t('pdf_unit_star')} {w.t('pdf_unit_note')}", s.note))
    top = Table([[left, right]], colWidths=[CONTENT_W * 0.44, CONTENT_W * 0.56])
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 6 * mm),
            ]
        )
    )
    return [KeepTogether([*head, top]), *_actions(w, unit, actions), PageBreak()]


_KINDS = frozenset({"opd", "service", "kecamatan"})
