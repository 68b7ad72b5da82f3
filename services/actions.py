"""Follow-up plans (tindak lanjut): who may change which action, input checks, and the
follow-up matrix as CSV or XLSX (`spibot actions import/export`).

Unit heads manage their own unit's actions; leadership and admins see every unit's (and may
manage them from the shell). Every change carries the version the editor saw.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Final

import storage
from services.access import Decision, Viewer
from services.i18n import catalog
from services.untrusted import defuse_xlsx, restore_cell, spreadsheet_cell
from storage import Action, ActionStatus, AsyncEngine, NewAction
from surveys.model import Dimension

__all__ = [
    "MATRIX_COLUMNS",
    "SHOW_BUTTON",
    "Action",
    "ActionProblem",
    "ActionStatus",
    "Change",
    "Outcome",
    "add_for",
    "export_matrix",
    "find_action",
    "list_for",
    "may_manage",
    "may_see",
    "new_action",
    "parse_due",
    "read_matrix",
    "set_status_for",
]

# Button action of "show this action" (/tindaklanjut lists, due-date reminders): arg = id.
SHOW_BUTTON: Final = "tls"
WHAT_MAX: Final = 500
WHO_MAX: Final = 120
NOTE_MAX: Final = 500
# The follow-up matrix (matriks tindak lanjut) as KPK asks for it, one row per action. The
# headers are the document's own (Indonesian); import also accepts the English keys.
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
_DATE_FORMATS: Final = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
_SPACES: Final = re.compile(r"\s+")


class ActionProblem(ValueError):
    """Input that cannot become an action; `key` names the catalog message, `row` the line."""

    def __init__(self, key: str, detail: str = "", row: int | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail
        self.row = row

    def describe(self, language: str) -> str:
        """Return the problem in words (with the row of a matrix, when known)."""
        text = catalog().t(language, self.key, detail=self.detail)
        return text if self.row is None else f"row {self.row}: {text}"

    def __str__(self) -> str:
        return self.describe("en")


class Outcome(StrEnum):
    """What became of a change."""

    DONE = "done"
    STALE = "stale"  # someone changed the action first
    REFUSED = "refused"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Change:
    """A change's outcome, with the action as it is now (None when refused or missing)."""

    outcome: Outcome
    action: Action | None


def parse_due(text: str) -> date:
    """Parse a due date: 2026-04-30, 30-04-2026, 30/04/2026 or 30.04.2026."""
    cleaned = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ActionProblem("actions_bad_date", cleaned[:20])


def _clean(text: str, limit: int, key: str) -> str:
    cleaned = _SPACES.sub(" ", text).strip()
    if not cleaned or len(cleaned) > limit:
        raise ActionProblem(key, str(limit))
    return cleaned


def _dimension(text: str) -> str | None:
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    known = {d.value for d in Dimension}
    if cleaned not in known:
        raise ActionProblem("actions_bad_dimension", cleaned[:40])
    return cleaned


def new_action(
    unit_code: str,
    what: str,
    who: str,
    due: str | date,
    *,
    dimension: str = "",
    recommendation: str = "",
    status: str = "planned",
    note: str = "",
) -> NewAction:
    """Check and build an action to add (ActionProblem names what is wrong)."""
    try:
        state = ActionStatus(status.strip().lower() or "planned")
    except ValueError:
        raise ActionProblem("actions_bad_status", status[:20]) from None
    return NewAction(
        unit_code=unit_code.strip().upper(),
        what=_clean(what, WHAT_MAX, "actions_bad_what"),
        who=_clean(who, WHO_MAX, "actions_bad_who"),
        due_on=due if isinstance(due, date) else parse_due(due),
        dimension=_dimension(dimension),
        recommendation=_SPACES.sub(" ", recommendation).strip()[:WHAT_MAX],
        status=state,
        note=_SPACES.sub(" ", note).strip()[:NOTE_MAX],
    )


async def add_for(engine: AsyncEngine, viewer: Viewer, new: NewAction, now: datetime) -> Change:
    """Add an action if the viewer heads that unit (or is an admin)."""
    if not (viewer.admin or viewer.unit_code == new.unit_code):
        return Change(Outcome.REFUSED, None)
    try:
        return Change(Outcome.DONE, await storage.add_action(engine, new, now))
    except storage.NotFound:
        return Change(Outcome.NOT_FOUND, None)


async def find_action(engine: AsyncEngine, action_id: int) -> Action | None:
    """Return one action, or None."""
    return await storage.get_action(engine, action_id)


async def list_for(engine: AsyncEngine, unit_code: str | None) -> tuple[Action, ...]:
    """Return one unit's actions (None: every unit's), soonest due first."""
    return await storage.list_actions(engine, unit_code=unit_code)


def may_manage(viewer: Viewer, action: Action) -> bool:
    """Unit heads manage their own unit's actions; admins any; leadership only looks."""
    return viewer.admin or viewer.unit_code == action.unit_code


def may_see(viewer: Viewer, unit_code: str) -> Decision:
    """Leadership and admins see every unit's actions; a unit head their own."""
    return viewer.unit(unit_code)


async def set_status_for(
    engine: AsyncEngine,
    viewer: Viewer,
    action_id: int,
    version: int,
    now: datetime,
    *,
    status: ActionStatus | None = None,
    note: str | None = None,
    document_file_id: str | None = None,
) -> Change:
    """Change an action's status, note or evidence document, if the viewer may."""
    action = await storage.get_action(engine, action_id)
    if action is None:
        return Change(Outcome.NOT_FOUND, None)
    if not may_manage(viewer, action):
        return Change(Outcome.REFUSED, None)
    try:
        changed = await storage.update_action(
            engine,
            action_id,
            version=version,
            now=now,
            status=storage.UNCHANGED if status is None else status,
            note=storage.UNCHANGED if note is None else note.strip()[:NOTE_MAX],
            document_file_id=storage.UNCHANGED if document_file_id is None else document_file_id,
        )
    except storage.NotFound:
        return Change(Outcome.NOT_FOUND, None)
    if changed is None:
        return Change(Outcome.STALE, await storage.get_action(engine, action_id))
    return Change(Outcome.DONE, changed)


# -- the follow-up matrix ---------------------------------------------------------------------


def _matrix_rows(actions: Sequence[Action]) -> list[list[str]]:
    rows = [list(MATRIX_COLUMNS.values())]
    for number, a in enumerate(actions, start=1):
        rows.append(
            [
                str(number),
                a.unit_code,
                a.unit_name,
                a.dimension or "",
                a.recommendation,
                a.what,
                a.who,
                a.due_on.isoformat(),
                a.status.value,
                a.note,
            ]
        )
    return rows


def export_matrix(actions: Sequence[Action], path: Path) -> int:
    """Write the follow-up matrix as .csv or .xlsx (by the file's suffix); return the rows."""
    rows = _matrix_rows(actions)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Tindak lanjut"
        for row in rows:
            sheet.append(row)
        defuse_xlsx(book)  # an action text typed as "=…" stays text, never a formula
        book.save(path)
    elif path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([[spreadsheet_cell(c) for c in row] for row in rows])
    else:
        raise ActionProblem("actions_bad_format", path.suffix)
    return len(rows) - 1


def _records(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.active
            assert sheet is not None
            return [
                [
                    ""
                    if v is None
                    else (v.date().isoformat() if isinstance(v, datetime) else str(v))
                    for v in row
                ]
                for row in sheet.iter_rows(values_only=True)
            ]
        finally:
            book.close()
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as source:
            # An exported "'=…" cell comes back as the text it was.
            return [[restore_cell(c) for c in row] for row in csv.reader(source)]
    raise ActionProblem("actions_bad_format", path.suffix)


def _header_keys(header: Iterable[str]) -> list[str | None]:
    by_label = {label.lower(): key for key, label in MATRIX_COLUMNS.items()}
    by_label.update({key: key for key in MATRIX_COLUMNS})
    return [by_label.get(str(h).strip().lower()) for h in header]


def read_matrix(path: Path) -> list[NewAction]:
    """Read a follow-up matrix (.csv or .xlsx); ActionProblem names the first bad row."""
    records = [r for r in _records(path) if any(str(v).strip() for v in r)]
    if not records:
        raise ActionProblem("actions_empty_file")
    keys = _header_keys(records[0])
    needed = {"unit_code", "what", "who", "due_on"}
    missing = [k for k in MATRIX_COLUMNS if k in needed and k not in keys]
    if missing:
        raise ActionProblem(
            "actions_missing_columns", ", ".join(MATRIX_COLUMNS[k] for k in missing)
        )
    out = []
    for number, record in enumerate(records[1:], start=2):
        values = {k: str(v) for k, v in zip(keys, record, strict=False) if k is not None}
        try:
            out.append(
                new_action(
                    values.get("unit_code", ""),
                    values.get("what", ""),
                    values.get("who", ""),
                    values.get("due_on", ""),
                    dimension=values.get("dimension", ""),
                    recommendation=values.get("recommendation", ""),
                    status=values.get("status", ""),
                    note=values.get("note", ""),
                )
            )
        except ActionProblem as problem:
            raise ActionProblem(problem.key, problem.detail, number) from None
    return out
