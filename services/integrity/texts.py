"""How the survey-integrity findings are told: evidence in words an inspector understands,
the index with and without a set, decisions, per-item paradata, and the JSON of `spibot
quality --json`. Words come from the catalog (`locales/*/integrity.yaml`), numbers and dates
from `services.numbers`. Texts are HTML for Telegram; `plain` strips them for a terminal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from scoring.integrity_signals import (
    BurstEvidence,
    ContradictionEvidence,
    RushingEvidence,
    Signal,
    SignalKind,
    UniformEvidence,
)
from scoring.paradata import ITEM_SECONDS_EDGES, band_label
from services.i18n import catalog
from services.integrity.quality import Effect, FlaggedSet, Numbers, QualityReport
from services.numbers import format_count, format_date, format_number
from storage.integrity import ExclusionStatus, StoredExclusion
from storage.paradata import ItemParadata
from surveys import Group, Questionnaire

__all__ = [
    "decision_line",
    "effect_text",
    "evidence_text",
    "group_name",
    "items_lines",
    "items_none",
    "items_open_text",
    "items_title",
    "kind_name",
    "plain",
    "quality_json",
    "report_lines",
    "who",
]

_GROUP_KEYS: Final = {
    Group.INTERNAL: "scores_group_internal",
    Group.EXTERNAL: "scores_group_external",
    Group.EXPERT: "scores_group_expert",
}


def _t(language: str, key: str, /, **values: object) -> str:
    return catalog().t(language, key, **values)


def plain(text: str) -> str:
    """Return an HTML text as plain text (for a terminal)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _percent(share: float, language: str) -> str:
    return format_number(100 * share, language, 0)


def group_name(group: Group, language: str) -> str:
    """Return a respondent group's name (Pegawai, Pengguna layanan, Eksper)."""
    return _t(language, _GROUP_KEYS[group])


def kind_name(kind: SignalKind | str, language: str) -> str:
    """Return a signal's name (Lonjakan, Seragam, Terburu-buru, Bertentangan)."""
    return _t(language, f"kind_{SignalKind(kind).value}")


def _hour(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def evidence_text(signal: Signal, language: str) -> str:
    """Say what a signal saw, with its numbers."""
    e = signal.evidence
    count = lambda n: format_count(n, language)  # noqa: E731 - a local shorthand
    if isinstance(e, BurstEvidence):
        window = (
            _t(language, "ev_window_1")
            if e.hours == 1
            else _t(language, "ev_window_n", hours=e.hours)
        )
        return _t(
            language,
            "ev_burst",
            arrived=count(e.arrived),
            total=count(e.total),
            window=window,
            date=format_date(e.day, language),
            start=_hour(e.start),
            end=_hour(e.start + timedelta(hours=e.hours)),
            usual=_percent(e.usual_share, language),
            day=count(e.day_responses),
        )
    if isinstance(e, UniformEvidence):
        groups = (
            ""
            if e.ideal_other_groups is None
            else _t(language, "ev_uniform_groups", groups=_percent(e.ideal_other_groups, language))
        )
        spread = (
            ""
            if e.spread is None or e.spread_other_units is None
            else _t(
                language,
                "ev_uniform_spread",
                spread=format_number(e.spread, language, 1),
                usual=format_number(e.spread_other_units, language, 1),
            )
        )
        return _t(
            language,
            "ev_uniform",
            similar=count(e.similar),
            total=count(e.total),
            agreement=_percent(e.agreement, language),
            ideal=_percent(e.ideal_share, language),
            units=_percent(e.ideal_other_units or 0.0, language),
            groups=groups,
            spread=spread,
        )
    if isinstance(e, RushingEvidence):
        return _t(
            language, "ev_rushing", fast=count(e.fast), total=count(e.total), floor=e.floor_seconds
        )
    assert isinstance(e, ContradictionEvidence)
    pairs = "; ".join(
        _t(language, "ev_pair", text=html.escape(pair.text.get(language)), count=count(n))
        for pair, n in e.pairs
    )
    usual = (
        ""
        if e.usual_rate is None
        else _t(language, "ev_contradiction_usual", usual=_percent(e.usual_rate, language))
    )
    return _t(
        language,
        "ev_contradiction",
        count=count(e.contradicting),
        total=count(e.total),
        pairs=pairs,
        usual=usual,
    )


def _value(value: float | None, language: str, partial: float | None = None) -> str:
    if value is not None:
        return format_number(value, language)
    if partial is not None:
        return _t(language, "eff_partial", value=format_number(partial, language))
    return _t(language, "eff_none")


def _change(before: str, after: str, language: str) -> str:
    return before if before == after else _t(language, "eff_change", before=before, after=after)


def effect_text(effect: Effect, group: Group, language: str) -> str:
    """Say what leaving a set out does: unit index, the group's score, institution index."""
    b, a = effect.before, effect.after

    def unit(n: Numbers) -> str:
        return _value(n.unit_index, language, n.unit_partial)

    return _t(
        language,
        "eff_line",
        unit=_change(unit(b), unit(a), language),
        group=group_name(group, language).lower(),
        score=_change(_value(b.group_score, language), _value(a.group_score, language), language),
        institution=_change(
            _value(b.institution_index, language),
            _value(a.institution_index, language),
            language,
        ),
    )


def who(by: str | None) -> str:
    """Return who decided, as stored ("admin:1a2b…" or "cli:ani"), for display."""
    if not by:
        return "?"
    kind, _, name = by.partition(":")
    return f"{kind} {name}" if name else kind


def decision_line(
    decision: StoredExclusion, language: str, names: Mapping[str, str], zone: Any
) -> str:
    """One decision of the inspectorate: what was excluded, why, when and by whom."""
    common = {
        "number": decision.id,
        "unit": html.escape(names.get(decision.unit_code, decision.unit_code)),
        "group": group_name(Group(decision.grp), language),
        "count": format_count(decision.count, language),
        "kind": kind_name(decision.kind, language),
    }
    if decision.status is ExclusionStatus.RESTORED and decision.restored_at is not None:
        day = decision.restored_at.astimezone(zone).date()
        return _t(
            language,
            "kua_decision_restored",
            date=format_date(day, language),
            by=html.escape(who(decision.restored_by)),
            **common,
        )
    moment = decision.decided_at or decision.created_at
    return _t(
        language,
        "kua_decision_active",
        reason=html.escape(decision.reason),
        date=format_date(moment.astimezone(zone).date(), language),
        by=html.escape(who(decision.created_by)),
        **common,
    )


def cell_lines(report: QualityReport, unit_code: str, group: Group, language: str) -> list[str]:
    """The lines of one flagged cell: its title, each signal's evidence and effect."""
    sets = [s for s in report.sets if s.cell.unit_code == unit_code and s.cell.group is group]
    if not sets:
        return []
    cell = sets[0].cell
    lines = [
        _t(
            language,
            "kua_cell_title",
            unit=html.escape(report.names.get(unit_code, unit_code)),
            group=group_name(group, language),
            n=format_count(cell.n, language),
        )
    ]
    for flagged in sets:
        lines += _set_lines(flagged, language)
    return lines


def _set_lines(flagged: FlaggedSet, language: str) -> list[str]:
    signal = flagged.signal
    lines = [
        _t(
            language,
            "kua_signal",
            kind=kind_name(signal.kind, language),
            evidence=evidence_text(signal, language),
        )
    ]
    if flagged.effect is not None:
        lines.append(
            _t(
                language,
                "kua_effect",
                count=format_count(signal.responses, language),
                effect=effect_text(flagged.effect, flagged.cell.group, language),
            )
        )
    return lines


def header_lines(
    report: QualityReport, language: str, zone: Any, *, max_decisions: int | None = None
) -> list[str]:
    """The report's title, what it read, how many cells were checked and the decisions
    (the newest `max_decisions` of them when given)."""
    lines = [_t(language, "kua_title", wave=html.escape(report.wave.name))]
    if report.provisional:
        yesterday = report.as_of - timedelta(days=1)
        lines.append(
            _t(language, "kua_as_of_open", date=format_date(yesterday, language), k=report.k)
        )
    else:
        lines.append(_t(language, "kua_as_of_closed"))
    flagged = len(report.findings.flagged)
    lines.append(
        _t(
            language,
            "kua_checked",
            cells=format_count(len(report.findings.cells), language),
            k=report.k,
            flagged=format_count(flagged, language),
        )
    )
    if not flagged:
        lines.append(_t(language, "kua_none"))
    decisions = report.decisions[-max_decisions:] if max_decisions else report.decisions
    if decisions:
        lines += ["", _t(language, "kua_decisions_title")]
        lines += [decision_line(d, language, report.names, zone) for d in decisions]
    return lines


def report_lines(report: QualityReport, language: str, zone: Any) -> list[str]:
    """The whole report as lines (the terminal's `spibot quality`)."""
    lines = header_lines(report, language, zone)
    for cell in report.findings.flagged:
        lines += ["", *cell_lines(report, cell.unit_code, cell.group, language)]
    return lines


def quality_json(report: QualityReport, language: str) -> dict[str, Any]:
    """Return `spibot quality --json`: exactly the shape issue 24 gives."""
    return {
        "wave": report.wave.name,
        "units": [
            {
                "unit": cell.unit_code,
                "group": cell.group.value,
                "n": cell.n,
                "signals": [
                    {
                        "kind": signal.kind.value,
                        "responses": signal.responses,
                        "evidence": plain(evidence_text(signal, language)),
                    }
                    for signal in cell.signals
                ],
            }
            for cell in report.findings.cells
        ],
    }


# -- per-item paradata --------------------------------------------------------------------------


def _bands(row: ItemParadata, language: str) -> str:
    total = sum(row.time_bands)
    if total == 0:
        return "-"
    parts = []
    for band, n in enumerate(row.time_bands):
        if n:
            label = band_label(band, ITEM_SECONDS_EDGES)
            parts.append(f"{label} s {_percent(n / total, language)}%")
    return ", ".join(parts)


def items_title(wave: str, language: str) -> str:
    """Return the title of the per-item paradata."""
    return _t(language, "kua_items_title", wave=html.escape(wave))


def items_open_text(language: str) -> str:
    """Say why an open wave shows no per-item paradata."""
    return _t(language, "kua_items_open")


def items_none(language: str) -> str:
    """Say that a wave has no per-item paradata yet."""
    return _t(language, "kua_items_none")


def items_lines(
    rows: list[ItemParadata],
    questionnaires: Mapping[int, tuple[Group, Questionnaire]],
    k: int,
    language: str,
) -> list[str]:
    """Per questionnaire and item in questionnaire order: how long people took, how often
    they changed it, skipped it or stopped there. An item fewer than k people saw is hidden."""
    lines: list[str] = []
    by_questionnaire: dict[int, dict[str, ItemParadata]] = {}
    for item in rows:
        by_questionnaire.setdefault(item.questionnaire_id, {})[item.question_id] = item
    for questionnaire_id, (group, questionnaire) in questionnaires.items():
        found = by_questionnaire.get(questionnaire_id)
        if not found:
            continue
        lines += [
            "",
            _t(
                language,
                "kua_items_group",
                group=group_name(group, language),
                questionnaire=html.escape(f"{questionnaire.id} v{questionnaire.version}"),
            ),
        ]
        for question in questionnaire.questions:
            row = found.get(question.id)
            if row is None:
                continue
            name = html.escape(question.id)
            if row.shown < k:
                lines.append(_t(language, "kua_items_small", question=name, k=k))
                continue
            answered = max(1, row.answered)
            lines.append(
                _t(
                    language,
                    "kua_items_line",
                    question=name,
                    shown=format_count(row.shown, language),
                    changed=_percent(row.changed / answered, language),
                    skipped=_percent(row.skipped / row.shown, language),
                    abandoned=format_count(row.abandoned, language),
                    bands=_bands(row, language),
                )
            )
    return lines
