"""Dates as people type and read them: "30/04/2027", "30-04-2027", "2027-04-30",
"31 Januari 2027", "31 Jan 2027", "April 30, 2027"; written back as "30 April 2027".

Pure: no clock. Day-first everywhere except ISO (year first), as Indonesians write dates.
A date that cannot exist ("31/02/2027") is told apart from text that is no date at all.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final

__all__ = ["BadDate", "format_day", "format_moment", "parse_date"]

_MONTHS_ID: Final = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_MONTHS_EN: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Month words and their common short forms, both languages (lower case, no dot).
_MONTH_WORDS: Final[dict[str, int]] = {
    **{name.lower(): i for i, name in enumerate(_MONTHS_ID, start=1)},
    **{name.lower(): i for i, name in enumerate(_MONTHS_EN, start=1)},
    **{name.lower()[:3]: i for i, name in enumerate(_MONTHS_ID, start=1)},
    **{name.lower()[:3]: i for i, name in enumerate(_MONTHS_EN, start=1)},
    "agu": 8,
    "agt": 8,
    "sept": 9,
    "nop": 11,
    "des": 12,
}
_NUMERIC: Final = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})$")
_DAY_MONTH_YEAR: Final = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR: Final = re.compile(r"^([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")


class BadDate(ValueError):
    """Text that is not a date (`impossible` False) or a date that cannot exist (True)."""

    def __init__(self, text: str, *, impossible: bool) -> None:
        super().__init__(text)
        self.text = text
        self.impossible = impossible


def _build(text: str, year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12 or year < 1000:
        raise BadDate(text, impossible=not 1 <= month <= 12 and year >= 1000)
    try:
        return date(year, month, day)
    except ValueError:  # 31 February, 31 April, 29 February of a common year
        raise BadDate(text, impossible=True) from None


def parse_date(text: str) -> date:
    """Parse a date in any of the forms in the module docstring; BadDate otherwise."""
    cleaned = " ".join(text.strip().lower().split())
    if match := _NUMERIC.match(cleaned):
        first, month, last = (int(g) for g in match.groups())
        if len(match.group(1)) == 4:  # 2027-04-30
            return _build(text, first, month, last)
        if len(match.group(3)) == 4:  # 30/04/2027, 30-04-2027, 30.04.2027
            return _build(text, last, month, first)
        raise BadDate(text, impossible=False)  # 30/04/27: which century is not ours to guess
    if match := _DAY_MONTH_YEAR.match(cleaned):
        day, word, year = match.groups()
    elif match := _MONTH_DAY_YEAR.match(cleaned):
        word, day, year = match.groups()
    else:
        raise BadDate(text, impossible=False)
    named = _MONTH_WORDS.get(word)
    if named is None:
        raise BadDate(text, impossible=False)
    return _build(text, int(year), named, int(day))


def format_day(day: date, language: str) -> str:
    """Write a date as people read it: "30 April 2027" (the month in the reader's language)."""
    months = _MONTHS_EN if language == "en" else _MONTHS_ID
    return f"{day.day} {months[day.month - 1]} {day.year}"


def format_moment(moment: datetime, language: str) -> str:
    """Write a local moment: "1 Juli 2026 pukul 07.00" / "1 July 2026 at 07:00"."""
    if language == "en":
        return f"{format_day(moment.date(), language)} at {moment:%H:%M}"
    return f"{format_day(moment.date(), language)} pukul {moment:%H.%M}"
