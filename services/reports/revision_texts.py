"""How a revision of a published report is told: the notice pushed to subscribed chats, the
short note beside a revised number, and what changed from what to what.

Numbers and dates are written by `services.numbers`; words come from the catalog
(`locales/*/rakor.yaml`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from typing import Final

from scoring.index import RENTAN, SANGAT_RENTAN, TERJAGA, WASPADA
from scoring.revisions import Change
from services.i18n import catalog
from services.numbers import format_date, format_number
from services.reports.revisions import Revision, RevisionKind

__all__ = ["change_lines", "revised_mark", "revision_note", "revision_notice"]

_CATEGORIES: Final = {c.key: c for c in (SANGAT_RENTAN, RENTAN, WASPADA, TERJAGA)}
_GROUPS: Final = {
    "group:internal": "scores_group_internal",
    "group:external": "scores_group_external",
    "group:expert": "scores_group_expert",
}
_MAX_LINES: Final = 12  # a revision notice stays one readable message


def _t(language: str, key: str, /, **values: object) -> str:
    return catalog().t(language, key, **values)


def _value(change: Change, value: float | str | None, language: str) -> str:
    if value is None:
        return _t(language, "rev_no_value")
    if change.what == "category":
        found = _CATEGORIES.get(str(value))
        return found.label.get(language) if found else str(value)
    return format_number(float(value), language)


def _what(change: Change, language: str) -> str:
    key = _GROUPS.get(change.what, f"rev_what_{change.what}")
    return _t(language, key)


def change_lines(
    revision: Revision,
    language: str,
    *,
    html_markup: bool = True,
    names: Mapping[str, str] | None = None,
    limit: int = _MAX_LINES,
) -> list[str]:
    """Return one line per change of `revision` (the institution first), at most `limit`."""
    lines: list[str] = []
    for change in revision.changes[:limit]:
        values = {
            "what": _what(change, language),
            "before": _value(change, change.before, language),
            "after": _value(change, change.after, language),
        }
        if change.unit_code is None:
            lines.append(_t(language, "rev_change", **values))
        else:
            unit = (names or {}).get(change.unit_code, change.unit_code)
            shown = html.escape(unit) if html_markup else unit
            lines.append(_t(language, "rev_change_unit", unit=shown, **values))
    if len(revision.changes) > limit:
        lines.append(_t(language, "rev_more_units", count=len(revision.changes) - limit))
    return lines if html_markup else [_plain(line) for line in lines]


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _reason(revision: Revision, language: str, prefix: str) -> str:
    """Say why a revision exists: `prefix` is rev_reason (the notice) or rev_note (the note)."""
    if revision.kind is RevisionKind.RECLOSED:
        return _t(language, f"{prefix}_reclosed")
    # A correction's note, or the reason the inspectorate gave for an exclusion or a restore.
    kind = revision.kind.value if revision.kind is not RevisionKind.FINAL else "correction"
    return _t(language, f"{prefix}_{kind}", note=html.escape(revision.note))


def revision_notice(
    revision: Revision, language: str, names: Mapping[str, str] | None = None
) -> str:
    """Return the message that tells a subscribed chat a final report was revised."""
    parts = [
        _t(language, "rev_title", wave=html.escape(revision.wave)),
        _t(
            language,
            "rev_meta",
            number=revision.number,
            date=format_date(revision.created_on, language),
        ),
        _reason(revision, language, "rev_reason"),
        "",
        _t(language, "rev_changed_header"),
        *(change_lines(revision, language, names=names) or [_t(language, "rev_nothing")]),
        "",
        _t(language, "rev_footer"),
    ]
    return "\n".join(parts)


def revision_note(revision: Revision | None, language: str) -> str | None:
    """Return the short note shown beside a revised wave's numbers (None: not revised)."""
    if revision is None or revision.number < 2:
        return None
    index = next((c for c in revision.changes if c.what == "index" and c.unit_code is None), None)
    before = ""
    if index is not None and index.before is not None:
        before = _t(language, "rev_note_before", value=format_number(float(index.before), language))
    return _t(
        language,
        "rev_note",
        date=format_date(revision.created_on, language),
        number=revision.number,
        reason=_reason(revision, language, "rev_note"),
        before=before,
    )


def revised_mark(revised_on: date | None, language: str) -> str:
    """Return " (direvisi 5 Maret 2026)" for a wave whose result in force is a revision."""
    if revised_on is None:
        return ""
    return _t(language, "rev_trend_mark", date=format_date(revised_on, language))
