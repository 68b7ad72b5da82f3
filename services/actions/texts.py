"""Texts of /tindaklanjut: the list of a unit's (or every unit's) actions and one action."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from scoring import Report
from scoring.changes import DimensionChange, unit_dimension_changes
from services.i18n import catalog
from services.numbers import format_delta, format_number
from storage.actions import Action, ActionStatus
from surveys.model import Dimension

__all__ = [
    "LIST_LIMIT",
    "STATUS_MARKS",
    "action_detail",
    "actions_chart_png",
    "actions_list",
    "outcomes_text",
    "overdue_text",
    "status_word",
]

LIST_LIMIT: Final = 30  # lines in one message; the rest is in the exported matrix
TEXT_LIMIT: Final = 4096  # Telegram's message limit
STATUS_MARKS: Final[Mapping[ActionStatus, str]] = {
    ActionStatus.PLANNED: "🗓",
    ActionStatus.IN_PROGRESS: "⏳",
    ActionStatus.DONE: "✅",
    ActionStatus.DROPPED: "✖️",
}
_OPEN: Final = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
_WHAT_CHARS: Final = 90
_DIMENSIONS: Final = frozenset(d.value for d in Dimension)


def status_word(status: ActionStatus, language: str) -> str:
    """Return the status in words."""
    return catalog().t(language, f"actions_status_{status.value}")


def _short(text: str) -> str:
    return text if len(text) <= _WHAT_CHARS else text[: _WHAT_CHARS - 1].rstrip() + "…"


def _line(action: Action, language: str, today: date) -> str:
    overdue = action.status in _OPEN and action.due_on < today
    return catalog().t(
        language,
        "actions_line",
        number=action.id,
        mark=STATUS_MARKS[action.status],
        what=html.escape(_short(action.what)),
        who=html.escape(action.who),
        due=action.due_on.isoformat(),
        overdue=catalog().t(language, "actions_overdue") if overdue else "",
    )


def actions_list(
    actions: Sequence[Action], language: str, today: date, *, unit_name: str | None = None
) -> str:
    """Return one unit's actions (`unit_name` given) or every unit's, grouped by unit."""
    t = catalog().t
    title = (
        t(language, "actions_title", unit=html.escape(unit_name))
        if unit_name is not None
        else t(language, "actions_all_title")
    )
    lines = [title, ""]
    if not actions:
        return "\n".join([*lines, t(language, "actions_none")])
    counts = Counter(a.status for a in actions)
    lines += [t(language, "actions_counts", **{s.value: counts[s] for s in ActionStatus}), ""]
    ordered = list(actions) if unit_name is not None else sorted(actions, key=_by_unit)
    current_unit = None
    for action in ordered[:LIST_LIMIT]:
        if unit_name is None and action.unit_code != current_unit:
            current_unit = action.unit_code
            lines.append(t(language, "actions_unit_header", unit=html.escape(action.unit_name)))
        lines.append(_line(action, language, today))
    if len(ordered) > LIST_LIMIT:
        lines.append(t(language, "actions_more", count=len(ordered) - LIST_LIMIT))
    return "\n".join(lines)


def _by_unit(action: Action) -> tuple[str, date, int]:
    return action.unit_name, action.due_on, action.id


def action_detail(action: Action, language: str, dimension_name: str | None) -> str:
    """Return one action in full."""
    t = catalog().t
    lines = [
        t(
            language,
            "actions_detail",
            number=action.id,
            unit=html.escape(action.unit_name),
            what=html.escape(action.what),
            who=html.escape(action.who),
            due=action.due_on.isoformat(),
            status=f"{STATUS_MARKS[action.status]} {status_word(action.status, language)}",
        )
    ]
    if dimension_name:
        lines.append(t(language, "actions_detail_dimension", dimension=dimension_name))
    if action.note:
        lines.append(t(language, "actions_detail_note", note=html.escape(action.note)))
    if action.document_file_id:
        photo = action.evidence_kind == "photo"
        lines.append(t(language, "actions_detail_photo" if photo else "actions_detail_document"))
    return "\n".join(lines)


def overdue_text(actions: Sequence[Action], language: str, today: date) -> str | None:
    """Return the overdue open actions for the weekly leadership push (None when none)."""
    late = [a for a in actions if a.status in _OPEN and a.due_on < today]
    if not late:
        return None
    t = catalog().t
    lines = [t(language, "actions_overdue_title", count=len(late)), ""]
    for action in sorted(late, key=lambda a: (a.due_on, a.unit_name, a.id))[:LIST_LIMIT]:
        lines.append(
            t(
                language,
                "actions_overdue_line",
                unit=html.escape(action.unit_name),
                what=html.escape(_short(action.what)),
                due=action.due_on.isoformat(),
                days=(today - action.due_on).days,
            )
        )
    if len(late) > LIST_LIMIT:
        lines.append(t(language, "actions_more", count=len(late) - LIST_LIMIT))
    return "\n".join(lines)


def actions_chart_png(actions: Sequence[Action], language: str, today: date) -> bytes:
    """Draw every unit's actions by status (matplotlib is imported here: it is heavy)."""
    from scoring.charts.actions import actions_chart

    per_unit: dict[str, Counter[str]] = {}
    for action in actions:
        per_unit.setdefault(action.unit_name, Counter())[action.status.value] += 1
    t = catalog().t
    return actions_chart(
        sorted(per_unit.items()),
        title=t(language, "actions_chart_title"),
        subtitle=t(language, "actions_chart_subtitle", date=today.isoformat()),
        status_words={s.value: status_word(s, language) for s in ActionStatus},
        language=language,
    )


def _score(value: float | None, language: str) -> str:
    return (
        catalog().t(language, "scores_insufficient")
        if value is None
        else format_number(value, language)
    )


def _done_lines(actions: Sequence[Action], language: str) -> list[str]:
    return [
        catalog().t(language, "actions_outcomes_action", what=html.escape(_short(a.what)))
        for a in actions
    ]


def _change(change: DimensionChange, language: str, *, first: bool) -> str:
    """Return "61,20 → 68,40 (+7,20)"; a side that is not shown reads "data belum cukup"."""
    after = _score(change.after, language)
    if first:  # no earlier closed wave: this wave's score only
        return after
    text = f"{_score(change.before, language)} → {after}"
    if change.before is None or change.after is None:
        return text
    # The change of the numbers as shown, so the line adds up for the reader.
    shown = round(change.after, 2) - round(change.before, 2)
    return f"{text} ({format_delta(shown, language)})"


def outcomes_text(
    report: Report,
    previous: Report | None,
    done: Sequence[Action],
    language: str,
) -> str:
    """Return, for each unit with actions done, its dimension changes since the previous
    closed wave beside those actions (the final report of a wave)."""
    t = catalog().t
    lines = [t(language, "actions_outcomes_title", wave=html.escape(report.wave))]
    if previous is None:
        lines.append(t(language, "actions_outcomes_first"))
    else:
        lines.append(t(language, "actions_outcomes_since", previous=html.escape(previous.wave)))
    lines.append("")
    if not done:
        lines.append(t(language, "actions_outcomes_none"))
        return "\n".join(lines)
    units: dict[str, list[Action]] = {}
    for action in sorted(done, key=_by_unit):
        units.setdefault(action.unit_code, []).append(action)
    for code, actions in units.items():
        changes = unit_dimension_changes(report, previous, code)
        lines.append(t(language, "actions_unit_header", unit=html.escape(actions[0].unit_name)))
        for dimension in Dimension:
            tied = [a for a in actions if a.dimension == dimension.value]
            if tied:
                change = _change(changes[dimension], language, first=previous is None)
                name = t(language, f"scores_dim_{dimension.value}")
                lines.append(
                    t(language, "actions_outcomes_dimension", dimension=name, change=change)
                )
                lines += _done_lines(tied, language)
        other = [a for a in actions if a.dimension not in _DIMENSIONS]
        if other:  # a KPK recommendation or another reason: no dimension to measure it by
            lines.append(t(language, "actions_outcomes_other"))
            lines += _done_lines(other, language)
        lines.append("")
    text = "\n".join(lines).rstrip()
    if len(text) <= TEXT_LIMIT:
        return text
    more = t(language, "actions_outcomes_more")
    while len(text) + len(more) + 1 > TEXT_LIMIT:
        text = text[: text.rindex("\n")]
    return f"{text}\n{more}"
