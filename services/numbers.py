"""How every number shown to a person is written: decimal comma and dot grouping in
Indonesian (74,00; 1.692), the other way round in English; and dates (5 Maret 2026)."""

from __future__ import annotations

from datetime import date
from typing import Final

__all__ = ["format_count", "format_date", "format_delta", "format_number"]

_SWAP: Final = str.maketrans(",.", ".,")


def format_number(value: float, language: str, digits: int = 2) -> str:
    """Return a number at display precision: 74,00 in Indonesian, 74.00 in English."""
    formatted = f"{value:,.{digits}f}"
    return formatted if language == "en" else formatted.translate(_SWAP)


def format_count(value: int, language: str) -> str:
    """Return a count with thousands grouped: 1.692 in Indonesian, 1,692 in English."""
    formatted = f"{value:,d}"
    return formatted if language == "en" else formatted.translate(_SWAP)


def format_delta(value: float, language: str) -> str:
    """Return a change with its sign as shown: +1,20, −0,35, ±0,00 (rounding decides)."""
    shown = round(value, 2)
    sign = "+" if shown > 0 else "−" if shown < 0 else "±"
    return sign + format_number(abs(value), language)


_MONTHS: Final = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def format_date(day: date, language: str) -> str:
    """Return a date as people write it: 5 Maret 2026 in Indonesian, 5 March 2026 in English."""
    months = _MONTHS["en" if language == "en" else "id"]
    return f"{day.day} {months[day.month - 1]} {day.year}"
