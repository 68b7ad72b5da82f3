"""What the rakor pages share: one writer per language over the catalog and the number
rules, and the pieces every page uses (a category pill, score cells, dimension bars).

Every number is written by `services.numbers` and every reason by `services.reports.texts`,
so the PDF says exactly what the bot says.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, tzinfo

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from scoring import ScopeResult
from scoring.report import CellStatus, DimensionScore, GroupResult, cell_status
from services.i18n import catalog
from services.numbers import format_count, format_date, format_delta, format_number
from services.rakor.document import (
    CATEGORY_FILL,
    CATEGORY_INK,
    FONT,
    FONT_BOLD,
    INK,
    LINE,
    MUTED,
    NAVY,
    para,
    styles,
)
from services.reports import ReportBundle, cell_reason
from surveys import Group

__all__ = ["Writer", "dimension_bars", "group_rows", "pill", "scope_headline"]


@dataclass(frozen=True)
class Writer:
    """The bundle, the language and the day the pack is made, with the catalog's words."""

    bundle: ReportBundle
    language: str
    made_on: date
    zone: tzinfo = UTC  # the bot's time zone: the day a wave closed is that zone's day

    @property
    def k(self) -> int:
        return self.bundle.report.config.min_cell_size

    def t(self, key: str, /, **values: object) -> str:
        return catalog().t(self.language, key, **values)

    def num(self, value: float) -> str:
        return format_number(value, self.language)

    def count(self, value: int) -> str:
        return format_count(value, self.language)

    def delta(self, value: float) -> str:
        return format_delta(value, self.language)

    def date(self, day: date) -> str:
        return format_date(day, self.language)

    def group(self, group: Group) -> str:
        return self.t(f"scores_group_{group.value}")

    def dimension(self, dim: DimensionScore) -> str:
        return self.t(f"scores_dim_{dim.dimension.value}")

    def name(self, scope: ScopeResult) -> str:
        return html.escape(scope.name or self.t("scores_institution"))

    def reason(self, cell: GroupResult) -> str:
        """Why a cell has no number, in the bot's words."""
        return html.escape(cell_reason(cell, self.k, self.language))

    def status(self, cell: GroupResult) -> CellStatus:
        return cell_status(cell, self.k)


def pill(word: str, key: str | None, *, size: float = 14) -> Table:
    """Return a category word on its colour (the word always travels with the colour)."""
    style = styles().head.clone("pill", fontSize=size, leading=size * 1.2, textColor=INK)
    fill = CATEGORY_FILL.get(key or "")
    if fill is not None:
        style.textColor = CATEGORY_INK[key or ""]
    text_w = stringWidth(word, FONT_BOLD, size)
    out = Table([[Paragraph(f"<b>{html.escape(word)}</b>", style)]], colWidths=[text_w + 7 * mm])
    commands: list[tuple[object, ...]] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
    ]
    if fill is not None:
        commands.append(("BACKGROUND", (0, 0), (-1, -1), fill))
    else:
        commands.append(("BOX", (0, 0), (-1, -1), 0.8, LINE))
    out.setStyle(TableStyle(commands))
    out.hAlign = "LEFT"
    return out


def dimension_bars(
    w: Writer, dims: Sequence[DimensionScore], width: float, *, row_h: float = 13 * mm
) -> Flowable:
    """Draw the dimensions weakest first as labelled bars on 0–100 (hidden ones last, with
    why); a drawing, so it stays sharp on a projector."""
    shown = sorted((d for d in dims if d.score is not None), key=lambda d: d.score or 0.0)
    hidden = [d for d in dims if d.score is None]
    rows = [*shown, *hidden]
    label_w, value_w = 80 * mm, 20 * mm
    bar_w = width - label_w - value_w
    height = max(1, len(rows)) * row_h + 6 * mm
    drawing = Drawing(width, height)
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        drawing.add(Line(x, 5 * mm, x, height, strokeColor=LINE, strokeWidth=0.4))
        drawing.add(
            String(x, 1.2 * mm, str(tick), fontName=FONT, fontSize=8.5, fillColor=MUTED,
                   textAnchor="middle")
        )  # fmt: skip
    for i, dim in enumerate(rows):
        y = height - (i + 1) * row_h
        lines = _label_lines(w.dimension(dim), label_w - 3 * mm)
        # One line sits on the bar's middle; two lines straddle it.
        first = y + row_h / 2 - 1.5 * mm + (2.6 * mm if len(lines) == 2 else 0)
        for j, line in enumerate(lines):
            drawing.add(
                String(0, first - j * 5.2 * mm, line, fontName=FONT, fontSize=13, fillColor=INK)
            )
        if dim.score is None:
            word = w.t("cell_small", k=w.k) if dim.n > 0 else w.t("cell_no_answers")
            drawing.add(
                String(label_w + 2 * mm, y + row_h / 2 - 1.5 * mm, _fit(word, 60), fontName=FONT,
                       fontSize=9.5, fillColor=MUTED)
            )  # fmt: skip
            continue
        weakest = i == 0
        drawing.add(
            Rect(label_w, y + 2 * mm, bar_w * dim.score / 100, row_h - 4 * mm,
                 fillColor=NAVY if not weakest else CATEGORY_FILL["rentan"], strokeColor=None)
        )  # fmt: skip
        drawing.add(
            String(width, y + row_h / 2 - 1.5 * mm, w.num(dim.score), fontName=FONT_BOLD,
                   fontSize=13, fillColor=INK, textAnchor="end")
        )  # fmt: skip
    return drawing


def _label_lines(text: str, width: float, size: float = 13) -> list[str]:
    """Split a label over at most two lines so each fits `width` points."""
    if stringWidth(text, FONT, size) <= width:
        return [text]
    words = text.split()
    for cut in range(len(words) - 1, 0, -1):
        first = " ".join(words[:cut])
        if stringWidth(first, FONT, size) <= width:
            return [first, _fit(" ".join(words[cut:]), 40)]
    return [_fit(text, 30)]


def _fit(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def scope_headline(w: Writer, scope: ScopeResult, *, big: float = 60) -> list[Flowable]:
    """The index with its margin and category; the labelled partial composite; or why none."""
    s = styles()
    number = s.big.clone("number", fontSize=big, leading=big * 1.1)
    if scope.index is not None:
        value = para(w.num(scope.index), number)
        value_w = stringWidth(w.num(scope.index), FONT_BOLD, big) + 6 * mm
        row: list[object] = [value, ""]
        if scope.category is not None:
            row[1] = pill(scope.category.label.get(w.language), scope.category.key, size=big / 3.5)
        line = Table([row], colWidths=[value_w, None])
        line.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        line.hAlign = "LEFT"
        parts: list[Flowable] = [line]
        if scope.index_moe is not None:
            margin = s.small.clone("margin", spaceBefore=1.5 * mm)
            parts.append(para(w.t("pdf_margin", moe=w.num(scope.index_moe)), margin))
        return parts
    if scope.partial_index is not None:
        groups = ", ".join(w.group(g) for g in scope.groups_included)
        return [
            para(w.num(scope.partial_index), number.clone("partial", textColor=MUTED)),
            para(w.t("pdf_partial", value=w.num(scope.partial_index), groups=groups), s.body),
        ]
    from services.reports import index_reason

    reason = index_reason(scope, w.k, w.language)
    return [para(html.escape(reason), s.body.clone("reason", fontSize=15, leading=19))]


def group_rows(w: Writer, scope: ScopeResult) -> list[list[object]]:
    """A table of a scope's three groups: score, margin, n, target, and why when hidden."""
    s = styles()
    rows: list[list[object]] = [
        [
            para(w.t("pdf_col_group"), s.head),
            para(w.t("pdf_col_score"), s.head),
            para(w.t("pdf_col_moe"), s.head),
            para(w.t("pdf_col_n"), s.head),
            para(w.t("pdf_col_target"), s.head),
            para(w.t("pdf_col_note"), s.head),
        ]
    ]
    right = s.cell_right
    for cell in scope.groups:
        shown = cell.score is not None
        note = "" if shown else w.reason(cell)
        if shown and cell.waiting:
            note = w.t("scores_waiting_note", count=w.count(cell.waiting), k=w.k)
        applies = w.status(cell) is not CellStatus.NOT_APPLICABLE
        rows.append(
            [
                para(w.group(cell.group), s.cell),
                para(
                    f"<b>{w.num(cell.score)}</b>" if cell.score is not None else "—", s.cell_right
                ),
                para(w.num(cell.moe) if cell.moe is not None else "—", s.cell_right),
                # n: what the score rests on; without a score, every response so far.
                para(
                    w.count(cell.n if shown else cell.submitted) if applies else "—", s.cell_right
                ),
                para(w.count(cell.needed) if cell.needed else "—", right),
                para(note, s.note),
            ]
        )
    return rows
