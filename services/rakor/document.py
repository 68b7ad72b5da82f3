"""The rakor PDF's page and type: A4 landscape (a projector's shape), fonts that write
Indonesian and the signs the report uses (− ± → ≥), colours, styles and the page frame.

Fonts are the DejaVu Sans files matplotlib ships (a dependency already): nothing to install,
the same letters as the charts, and every character of both catalogs. reportlab's built-in
Helvetica has no "−" (U+2212) or "→", which every delta and revision line uses.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle

__all__ = [
    "CATEGORY_FILL",
    "CATEGORY_INK",
    "CONTENT_W",
    "FONT",
    "FONT_BOLD",
    "INK",
    "LINE",
    "MUTED",
    "NAVY",
    "PAGE",
    "PAPER_TINT",
    "ROW_TINT",
    "PageFrame",
    "Styles",
    "fonts",
    "para",
    "styles",
    "table",
    "write_pdf",
]

PAGE: Final = landscape(A4)  # 297 x 210 mm
MARGIN: Final = 14 * mm
HEADER_H: Final = 8 * mm
FOOTER_H: Final = 9 * mm

FONT: Final = "SpiSans"
FONT_BOLD: Final = "SpiSans-Bold"
_FILES: Final = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    "SpiSans-Oblique": "DejaVuSans-Oblique.ttf",
    "SpiSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}

# A sober palette: navy headings, greys for structure, the charts' category colours.
NAVY: Final = colors.HexColor("#1E3A5F")
INK: Final = colors.HexColor("#212121")
MUTED: Final = colors.HexColor("#5F6368")
LINE: Final = colors.HexColor("#C9CED6")
ROW_TINT: Final = colors.HexColor("#F3F5F8")
PAPER_TINT: Final = colors.HexColor("#E8EEF5")
PROVISIONAL: Final = colors.HexColor("#E65100")
CATEGORY_FILL: Final = {
    "sangat_rentan": colors.HexColor("#7F0000"),
    "rentan": colors.HexColor("#C62828"),
    "waspada": colors.HexColor("#F9A825"),
    "terjaga": colors.HexColor("#2E7D32"),
}
CATEGORY_INK: Final = {
    "sangat_rentan": colors.white,
    "rentan": colors.white,
    "waspada": INK,
    "terjaga": colors.white,
}


@functools.cache
def fonts() -> str:
    """Register the fonts once per process; return the regular font's name."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    # <b> and <i> in paragraphs pick the family's bold and oblique faces.
    pdfmetrics.registerFontFamily(
        FONT,
        normal=FONT,
        bold=FONT_BOLD,
        italic="SpiSans-Oblique",
        boldItalic="SpiSans-BoldOblique",
    )
    return FONT


@dataclass(frozen=True, slots=True)
class Styles:
    """The paragraph styles of the pack (sizes for a projector: 11 pt is the smallest)."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    head: ParagraphStyle
    big: ParagraphStyle
    note: ParagraphStyle


@functools.cache
def styles() -> Styles:
    """Return the pack's paragraph styles."""
    font = fonts()

    def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
        base: dict[str, Any] = {
            "fontName": font,
            "fontSize": size,
            "leading": size * 1.25,
            "textColor": INK,
        }
        base.update(kw)
        return ParagraphStyle(name, **base)

    return Styles(
        title=style("title", 28, fontName=FONT_BOLD, textColor=NAVY, leading=34, spaceAfter=2 * mm),
        subtitle=style("subtitle", 16, textColor=MUTED, leading=21),
        h1=style("h1", 20, fontName=FONT_BOLD, textColor=NAVY, leading=25, spaceAfter=3 * mm),
        h2=style(
            "h2",
            14,
            fontName=FONT_BOLD,
            textColor=NAVY,
            spaceBefore=2 * mm,
            spaceAfter=1.5 * mm,
            keepWithNext=1,  # a heading never ends a page alone
        ),
        body=style("body", 12, spaceAfter=1.5 * mm),
        small=style("small", 11, textColor=MUTED),
        cell=style("cell", 11, leading=13.5),
        cell_right=style("cell_right", 11, leading=13.5, alignment=TA_RIGHT),
        head=style("head", 11, fontName=FONT_BOLD, textColor=NAVY, leading=13.5),
        big=style("big", 60, fontName=FONT_BOLD, leading=66, alignment=TA_LEFT),
        note=style("note", 11, textColor=MUTED, leading=14),
    )


def para(text: str, style: ParagraphStyle | None = None) -> Paragraph:
    """Return a paragraph (text may hold <b>, <i> and escaped entities, as the catalogs do)."""
    return Paragraph(text, style or styles().body)


def table(
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    *,
    extra: Sequence[tuple[Any, ...]] = (),
    header: bool = True,
) -> Table:
    """Return a ruled table with a tinted header row that repeats on every page it spans."""
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), PAPER_TINT),
            ("LINEBELOW", (0, 0), (-1, 0), 0.9, NAVY),
        ]
    commands += list(extra)
    out = Table(list(rows), colWidths=list(widths), repeatRows=1 if header else 0)
    out.setStyle(TableStyle(commands))
    out.hAlign = "LEFT"
    return out


# -- page frame ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageFrame:
    """What every page's frame says: who and which wave, the status, the page line."""

    left: str  # institution · wave
    mark: str  # SEMENTARA / FINAL
    provisional: bool
    made: str  # "Dibuat 5 Maret 2026"
    page: Callable[[int, int], str]  # "Halaman 3 dari 54"


def _numbered(frame: PageFrame, pages: list[int]) -> type[Canvas]:
    """Return a canvas that writes "page n of N" once it knows N (two passes over the pages
    would lay the whole document out twice: this keeps each page and stamps it at the end)."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            pages.append(total)
            for state in self._saved:
                self.__dict__.update(state)
                self._stamp(total)
                super().showPage()
            super().save()

        def _stamp(self, total: int) -> None:
            width, _ = PAGE
            self.setFont(FONT, 9)
            self.setFillColor(MUTED)
            self.drawRightString(
                width - MARGIN, MARGIN - 2 * mm, frame.page(self._pageNumber, total)
            )

    return Numbered


def _decorate(frame: PageFrame) -> Callable[[Canvas, BaseDocTemplate], None]:
    def draw(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        width, height = PAGE
        canvas.saveState()
        top = height - MARGIN + 2 * mm
        canvas.setFont(FONT, 9.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, top, frame.left)
        # The status on every page: pages get shown one at a time, out of context.
        colour = PROVISIONAL if frame.provisional else NAVY
        canvas.setFont(FONT_BOLD, 9.5)
        mark_w = canvas.stringWidth(frame.mark, FONT_BOLD, 9.5) + 5 * mm
        canvas.setStrokeColor(colour)
        canvas.setFillColor(colors.white)
        canvas.roundRect(width - MARGIN - mark_w, top - 1.6 * mm, mark_w, 5.4 * mm, 1.2 * mm)
        canvas.setFillColor(colour)
        canvas.drawCentredString(width - MARGIN - mark_w / 2, top, frame.mark)
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, top - 3 * mm, width - MARGIN, top - 3 * mm)
        canvas.line(MARGIN, MARGIN + 2.5 * mm, width - MARGIN, MARGIN + 2.5 * mm)
        canvas.setFont(FONT, 9)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, frame.made)
        canvas.restoreState()

    return draw


def write_pdf(
    story: list[Any], frame: PageFrame, *, title: str, subject: str, language: str
) -> tuple[bytes, int]:
    """Lay `story` out on A4 landscape pages with the frame; return the PDF and its pages."""
    fonts()
    out = io.BytesIO()
    width, height = PAGE
    doc = BaseDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_H,
        bottomMargin=MARGIN + FOOTER_H,
        title=title,
        author="SPI-Bot",
        subject=subject,
        creator="SPI-Bot (reportlab)",
        lang=language,
        displayDocTitle=True,
    )
    body = Frame(
        MARGIN,
        MARGIN + FOOTER_H,
        width - 2 * MARGIN,
        height - 2 * MARGIN - HEADER_H - FOOTER_H,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[body], onPage=_decorate(frame))])
    pages: list[int] = []
    doc.build(story, canvasmaker=_numbered(frame, pages))
    return out.getvalue(), pages[-1]


CONTENT_W: Final = PAGE[0] - 2 * MARGIN
CONTENT_H: Final = PAGE[1] - 2 * MARGIN - HEADER_H - FOOTER_H
