"""The follow-up matrix (matriks tindak lanjut) as a file: `spibot actions export/import`.

One row per action in the layout of KPK's follow-up matrix, with the words the bot shows
(status "Berjalan", dimension "Pengelolaan PBJ"). Export → edit → import is a round trip:
a row's No is the action's number, so importing it changes that action (no duplicate), a row
without a No is a new action, and a No that does not exist is refused by its line. Every
problem of a file is reported at once, and nothing is stored unless every row is good.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

import storage.actions
import storage.units
from services.actions.plans import (
    NOTE_MAX,
    WHAT_MAX,
    ActionProblem,
    check_what,
    check_who,
    new_action,
    parse_dimension,
    parse_due,
    parse_status,
)
from services.names import dimension_labels, status_labels
from services.untrusted import defuse_xlsx, restore_cell, spreadsheet_cell
from storage.actions import Action, ActionEdit, NewAction
from storage.db import AsyncEngine
from surveys.model import Dimension

__all__ = [
    "MATRIX_COLUMNS",
    "ActionProblems",
    "MatrixResult",
    "MatrixRow",
    "apply_matrix",
    "export_matrix",
    "read_matrix",
]

# The matrix as KPK asks for it, one row per action. The headers are the document's own
# (Indonesian); import also accepts the English keys.
MATRIX_COLUMNS: Final[Mapping[str, str]] = {
    "no": "No",
    "unit_code": "Kode unit",
    "unit": "Unit",
    "dimension": "Dimensi",
    "recommendation": "Rekomendasi KPK",
    "what": "Rencana aksi",
    "who": "Penanggung jawab",
    "due_on": "Target waktu",
    "status": "Status",
    "note": "Bukti / catatan",
}
_SHOWN: Final = 10  # problems in one error message; the rest are counted


class ActionProblems(ValueError):
    """Every problem of a matrix, by line; `str()` shows the first ones."""

    def __init__(self, problems: Sequence[ActionProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.describe("en"))

    def describe(self, language: str) -> str:
        """Return the problems, one a line (at most `_SHOWN`, then how many more)."""
        lines = [p.describe(language) for p in self.problems[:_SHOWN]]
        if len(self.problems) > _SHOWN:
            lines.append(f"... and {len(self.problems) - _SHOWN} more")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One good row: the action it describes, and its number when it names one."""

    line: int
    number: int | None
    action: NewAction


@dataclass(frozen=True, slots=True)
class MatrixResult:
    """What an import did."""

    added: tuple[Action, ...]
    updated: tuple[Action, ...]
    unchanged: int


# -- export -----------------------------------------------------------------------------------


def _cells(action: Action, language: str) -> list[object]:
    dimensions = dimension_labels(language)
    dimension = dimensions.get(Dimension(action.dimension)) if action.dimension else ""
    return [
        action.id,
        action.unit_code,
        action.unit_name,
        dimension or "",
        action.recommendation,
        action.what,
        action.who,
        action.due_on,
        status_labels(language)[action.status],
        action.note,
    ]


def export_matrix(actions: Sequence[Action], path: Path, language: str = "id") -> int:
    """Write the matrix as .csv or .xlsx (by the file's suffix); return the rows written.

    No is the action's number (what an import matches on); statuses and dimensions are
    written as the bot shows them.
    """
    rows = [_cells(a, language) for a in actions]
    header = list(MATRIX_COLUMNS.values())
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Tindak lanjut"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
            sheet.cell(sheet.max_row, 8).number_format = "yyyy-mm-dd"
        defuse_xlsx(book)  # an action text typed as "=…" stays text, never a formula
        book.save(path)
    elif path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR stays in its cell
            writer.writerow(header)
            writer.writerows(
                [c.isoformat() if isinstance(c, date) else _safe(c) for c in row] for row in rows
            )
    else:
        raise ActionProblem("actions_bad_format", path.suffix)
    return len(rows)


def _safe(value: object) -> object:
    return spreadsheet_cell(value) if isinstance(value, str) else value


# -- import -----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number Excel stored as 12.0
    return str(value)


def _records(path: Path) -> tuple[list[list[str]], str]:
    """Return the file's rows as text, and what its lines are called ("line" or "row")."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.active
            assert sheet is not None
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)], "row"
        finally:
            book.close()
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as source:
            # An exported "'=…" cell comes back as the text it was.
            return [[restore_cell(c) for c in row] for row in csv.reader(source)], "line"
    raise ActionProblem("actions_bad_format", path.suffix)


def _header_keys(header: Iterable[str]) -> list[str | None]:
    by_label = {" ".join(label.lower().split()): key for key, label in MATRIX_COLUMNS.items()}
    by_label.update({key: key for key in MATRIX_COLUMNS})
    return [by_label.get(" ".join(str(h).lower().split())) for h in header]


def _number(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise ActionProblem("actions_bad_number", text.strip()[:20])
    return int(cleaned)


def read_matrix(path: Path) -> list[MatrixRow]:
    """Read a matrix (.csv or .xlsx); ActionProblems lists every bad line."""
    records, where = _records(path)
    numbered = [(n, r) for n, r in enumerate(records, start=1) if any(v.strip() for v in r)]
    if not numbered:
        raise ActionProblems([ActionProblem("actions_empty_file")])
    keys = _header_keys(numbered[0][1])
    needed = {"unit_code", "what", "who", "due_on"}
    missing = [k for k in MATRIX_COLUMNS if k in needed and k not in keys]
    if missing:
        labels = ", ".join(MATRIX_COLUMNS[k] for k in missing)
        raise ActionProblems([ActionProblem("actions_missing_columns", labels)])
    rows: list[MatrixRow] = []
    problems: list[ActionProblem] = []
    for line, record in numbered[1:]:
        values = {k: v for k, v in zip(keys, record, strict=False) if k is not None}
        found = _row_problems(values)
        number: int | None = None
        try:
            number = _number(values["no"]) if values.get("no", "").strip() else None
        except ActionProblem as bad_number:
            found.insert(0, bad_number)
        action: NewAction | None = None
        try:
            action = _row_action(values)
        except ActionProblem as bad_field:
            found.append(bad_field)
        problems += [ActionProblem(p.key, p.detail, line, where) for p in _dedupe(found)]
        if action is not None and not found:
            rows.append(MatrixRow(line, number, action))
    if problems:
        raise ActionProblems(problems)
    return rows


def _row_action(values: Mapping[str, str]) -> NewAction:
    return new_action(
        values.get("unit_code", ""),
        values.get("what", ""),
        values.get("who", ""),
        values.get("due_on", ""),
        dimension=values.get("dimension", ""),
        recommendation=values.get("recommendation", ""),
        status=values.get("status", ""),
        note=values.get("note", ""),
    )


def _row_problems(values: Mapping[str, str]) -> list[ActionProblem]:
    """Check each field on its own, so a row with two bad labels names both."""
    found: list[ActionProblem] = []
    checks = (
        (check_what, "what"),
        (check_who, "who"),
        (parse_due, "due_on"),
        (parse_dimension, "dimension"),
        (parse_status, "status"),
    )
    for check, key in checks:
        try:
            check(values.get(key, ""))
        except ActionProblem as problem:
            found.append(problem)
    if not values.get("unit_code", "").strip():
        found.append(ActionProblem("actions_no_unit"))
    return found


def _dedupe(problems: list[ActionProblem]) -> list[ActionProblem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        if (problem.key, problem.detail) not in seen:
            seen.add((problem.key, problem.detail))
            out.append(problem)
    return out


def _edit(number: int, new: NewAction) -> ActionEdit:
    return ActionEdit(
        id=number,
        dimension=new.dimension,
        recommendation=new.recommendation[:WHAT_MAX],
        what=new.what,
        who=new.who,
        due_on=new.due_on,
        status=new.status,
        note=new.note[:NOTE_MAX],
    )


def _same(action: Action, edit: ActionEdit) -> bool:
    return (
        action.dimension,
        action.recommendation,
        action.what,
        action.who,
        action.due_on,
        action.status,
        action.note,
    ) == (
        edit.dimension,
        edit.recommendation,
        edit.what,
        edit.who,
        edit.due_on,
        edit.status,
        edit.note,
    )


async def apply_matrix(
    engine: AsyncEngine, rows: Sequence[MatrixRow], now: datetime, where: str = "line"
) -> MatrixResult:
    """Add the rows without a number and change the numbered ones that differ, all or none.

    ActionProblems names every line whose number does not exist, belongs to another unit,
    or appears twice, and every unknown unit code.
    """
    existing = {a.id: a for a in await storage.actions.list_actions(engine)}
    units = {u.code for u in await storage.units.list_units(engine)}
    problems: list[ActionProblem] = []
    first_line: dict[int, int] = {}
    new: list[NewAction] = []
    edits: list[ActionEdit] = []
    unchanged = 0
    for row in rows:
        code = row.action.unit_code
        if code not in units:
            problems.append(ActionProblem("actions_unknown_unit", code[:40], row.line, where))
            continue
        if row.number is None:
            new.append(row.action)
            continue
        current = existing.get(row.number)
        if row.number in first_line:
            detail = f"{row.number} ({first_line[row.number]})"
            problems.append(ActionProblem("actions_duplicate_number", detail, row.line, where))
        elif current is None:
            detail = str(row.number)
            problems.append(ActionProblem("actions_unknown_number", detail, row.line, where))
        elif current.unit_code != code:
            detail = f"{row.number} ({current.unit_code})"
            problems.append(ActionProblem("actions_number_other_unit", detail, row.line, where))
        else:
            edit = _edit(row.number, row.action)
            if _same(current, edit):
                unchanged += 1
            else:
                edits.append(edit)
        first_line.setdefault(row.number, row.line)
    if problems:
        raise ActionProblems(problems)
    added, updated = await storage.actions.apply_actions(engine, new, edits, now)
    return MatrixResult(added, updated, unchanged)
