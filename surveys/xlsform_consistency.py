"""The ``consistency`` sheet of an XLSForm: answer pairs that cannot both be true (issue 24).

Pure apart from reading the given workbook. XLSForm has no such sheet; ours sits beside
survey, choices and settings (pyxform leaves an unknown sheet alone) with one row per pair:
``name``, ``first`` and ``second`` (two relevant-style expressions, one question each) and
the pair's text in ``label::Indonesian (id)`` and ``label::English (en)``. It is read from
.xlsx workbooks (the format Kobo and ODK export); the YAML loader then checks every pair
with the rules of docs/questionnaire-format.md, "Consistency pairs".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook, load_workbook

from surveys.checks import Problem
from surveys.model import Questionnaire

__all__ = [
    "CONSISTENCY_COLUMNS",
    "CONSISTENCY_SHEET",
    "locate_pair_problem",
    "read_consistency",
    "write_consistency",
]

CONSISTENCY_SHEET: Final = "consistency"
CONSISTENCY_COLUMNS: Final = (
    "name",
    "first",
    "second",
    "label::Indonesian (id)",
    "label::English (en)",
)
_LANGUAGE_RE: Final = re.compile(r"\((id|en)\)\s*$")
_PAIR_RE: Final = re.compile(r"^consistency pair (?:'([^']*)'|(#\d+))")
_XLSX: Final = (".xlsx", ".xlsm")


def write_consistency(book: Workbook, questionnaire: Questionnaire) -> None:
    """Add the consistency sheet to an XLSForm workbook (none when there are no pairs)."""
    if not questionnaire.consistency:
        return
    sheet = book.create_sheet(CONSISTENCY_SHEET)
    sheet.append(CONSISTENCY_COLUMNS)
    for pair in questionnaire.consistency:
        sheet.append([pair.id, str(pair.first), str(pair.second), pair.text.id, pair.text.en])


def _column(header: str) -> str | None:
    """Return what a header means: name, first, second, id or en (None: unknown)."""
    head = header.strip().lower()
    if head in ("name", "first", "second"):
        return head
    if head == "label":
        return "id"  # a plain label counts as Indonesian, as on the survey sheet
    if head.startswith("label::"):
        found = _LANGUAGE_RE.search(head)
        return found.group(1) if found else None
    return None


def read_consistency(path: Path) -> tuple[list[dict[str, Any]], dict[str, int], list[Problem]]:
    """Read the consistency sheet: the pairs as YAML mappings, the row of each pair's name,
    and the problems of the sheet's layout (the pairs themselves are checked by the loader)."""
    if path.suffix.lower() not in _XLSX:
        return [], {}, []
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if CONSISTENCY_SHEET not in book.sheetnames:
            return [], {}, []
        rows = list(book[CONSISTENCY_SHEET].iter_rows(values_only=True))
    finally:
        book.close()
    problems: list[Problem] = []
    where = f"{path}: sheet {CONSISTENCY_SHEET!r}"
    if not rows:
        return [], {}, []
    columns: dict[int, str] = {}
    for index, header in enumerate(rows[0]):
        if header is None or not str(header).strip():
            continue
        meaning = _column(str(header))
        if meaning is None:
            problems.append(
                Problem(
                    f"{where}, row 1, column {str(header)!r}",
                    None,
                    "unknown column (expected name, first, second, label::Indonesian (id), "
                    "label::English (en))",
                )
            )
        else:
            columns[index] = meaning
    pairs: list[dict[str, Any]] = []
    row_of: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {
            meaning: str(row[index]).strip()
            for index, meaning in columns.items()
            if index < len(row) and row[index] is not None and str(row[index]).strip()
        }
        if not cells:
            continue
        name = cells.get("name", "")
        row_of.setdefault(name, number)
        row_of[f"#{len(pairs) + 1}"] = number  # the loader names a pair without an id so
        pair: dict[str, Any] = {"id": name or None}
        sides = [cells[side] for side in ("first", "second") if side in cells]
        pair["not_both"] = sides
        text = {lang: cells[lang] for lang in ("id", "en") if lang in cells}
        if text:
            pair["text"] = text
        pairs.append(pair)
    return pairs, row_of, problems


def locate_pair_problem(problem: Problem, row_of: dict[str, int]) -> Problem | None:
    """Point a loader problem about a consistency pair at its row (None: not about a pair)."""
    found = _PAIR_RE.match(problem.message)
    key = None if found is None else found.group(1) or found.group(2)
    if key is None or key not in row_of:
        return None
    row = row_of[key]
    return Problem(
        f"{problem.source}: sheet {CONSISTENCY_SHEET!r}, row {row}", None, problem.message
    )
