"""Text typed by people and read by other programs: cleaned on the way in, defused on the way out.

On the way in (`clean_typed`): control characters and the invisible marks that reorder text
on screen (bidi overrides and isolates) are dropped from what people type, so a stored answer
or label cannot hide or reverse text when an official reads it, nor drive a terminal.
On the way out (`spreadsheet_cell`, `defuse_frame`, `defuse_xlsx`): a value a spreadsheet
would run as a formula (`= + - @`, tab, carriage return first) is written so it stays text:
prefixed with an apostrophe in CSV, stored as a string cell (never a formula) in XLSX.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the respondent flow imports this module: no pandas on its way
    import pandas as pd
    from openpyxl import Workbook

__all__ = [
    "FORMULA_TRIGGERS",
    "clean_typed",
    "defuse_frame",
    "defuse_xlsx",
    "restore_cell",
    "spreadsheet_cell",
]

# C0 controls but newline (tab and CR included), DEL and C1 controls; the left-to-right and
# right-to-left marks (U+200E/F), the Arabic letter mark (U+061C), the bidi embeddings and
# overrides (U+202A-202E) and isolates (U+2066-2069).
_UNSAFE: Final = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# What a spreadsheet (Excel, LibreOffice, Google Sheets) reads as the start of a formula or
# a command (OWASP "CSV injection"). A leading apostrophe makes the cell plain text.
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def clean_typed(text: str) -> str:
    """Return typed text without control and bidi characters (a tab becomes a space)."""
    return _UNSAFE.sub("", text.replace("\t", " "))


def spreadsheet_cell(value: str) -> str:
    """Return a text cell a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def restore_cell(value: str) -> str:
    """Return a cell read back from one of our CSVs as it was before `spreadsheet_cell`."""
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def _defuse_value(value: object) -> object:
    return spreadsheet_cell(value) if isinstance(value, str) else value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells are safe in a CSV (numbers stay numbers)."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(_defuse_value).astype(object)
    out.columns = pd.Index([_defuse_value(c) for c in out.columns])
    return out


def defuse_xlsx(book: Workbook, sheets: Iterable[str] | None = None) -> int:
    """Turn every formula cell of a workbook we wrote into a string cell; return how many.

    openpyxl stores any string that starts with "=" as a formula: text typed by a respondent
    or an official must stay text. Our exports write no formulas of their own.
    """
    changed = 0
    for sheet in book.worksheets if sheets is None else [book[name] for name in sheets]:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    changed += 1
    return changed
