"""Phone-friendly texts of a report: captions, digests and the officials' answers.

Every number shown to a person is written by `services.numbers` (decimal comma in
Indonesian); a cell without a number says why in plain words (`cell_reason`), never a
number; a revised final report says so wherever its numbers appear.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping
from datetime import date
from typing import Final

from scoring import BenchmarkComparison, Report, ScopeResult
from scoring.report import CellStatus, GroupResult, cell_status
from services.i18n import Catalog, catalog
from services.numbers import format_count as _count
from services.numbers import format_delta as _delta
from services.numbers import format_number
from services.reports.bundle import ReportBundle
from services.reports.revision_texts import revised_mark, revision_note
from surveys import Group

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "benchmark_year",
    "category_mark",
    "cell_reason",
    "dimensions_text",
    "format_number",
    "groups_text",
    "index_reason",
    "progress_digest",
    "progress_text",
    "ranking_text",
    "score_text",
    "trend_text",
    "unit_progress_text",
    "unit_reason",
]

CAPTION_LIMIT: Final = 1024  # Telegram's caption limit
TEXT_LIMIT: Final = 4096  # Telegram's message limit

# The category colour is always paired with its word, so it reads without colour too.
_MARKS: Final[Mapping[str, str]] = {"rentan": "🔴", "waspada": "🟡", "terjaga": "🟢"}
_GROUP_KEYS: Final[Mapping[Group, str]] = {
    Group.INTERNAL: "scores_group_internal",
    Group.EXTERNAL: "scores_group_external",
    Group.EXPERT: "scores_group_expert",
}


# -- helpers (numbers are written by services.numbers) --------------------------------------


def cell_reason(cell: GroupResult, k: int, language: str) -> str:
    """Say in plain words why a cell shows no number (scoring.report.cell_status)."""
    t = catalog().t
    status = cell_status(cell, k)
    n = _count(cell.waiting, language)
    soon = cell.waiting >= k  # the step closes tomorrow (scoring/provisional.py)
    if status is CellStatus.TODAY:
        return t(language, "cell_today_soon" if soon else "cell_today_wait", n=n, k=k)
    if status is CellStatus.WAITING:
        return t(language, "cell_waiting_soon" if soon else "cell_waiting_wait", n=n, k=k)
    if status is CellStatus.EXCLUDED:
        return t(
            language,
            "cell_excluded",
            excluded=_count(cell.excluded, language),
            total=_count(cell.n + cell.excluded, language),
            n=_count(cell.n, language),
            k=k,
        )
    if status is CellStatus.SMALL:
        return t(language, "cell_small", k=k)
    if status is CellStatus.PROTECTING:
        return t(language, "cell_protecting", k=k)
    if status is CellStatus.NOT_APPLICABLE:
        return t(language, "cell_not_applicable")
    return t(language, "cell_no_answers")


# Most telling first: a unit without any number is listed under its first reason here.
_UNIT_REASONS: Final = (
    (CellStatus.PROTECTING, "unit_reason_protecting"),
    (CellStatus.EXCLUDED, "unit_reason_excluded"),
    (CellStatus.SMALL, "unit_reason_small"),
    (CellStatus.WAITING, "unit_reason_waiting"),
    (CellStatus.TODAY, "unit_reason_today"),
)


def unit_reason(scope: ScopeResult, k: int, language: str) -> str:
    """Say in a few words why a unit shows no number at all."""
    found = {cell_status(c, k) for c in scope.groups}
    key = next((key for status, key in _UNIT_REASONS if status in found), "unit_reason_no_answers")
    return catalog().t(language, key, k=k)


def index_reason(scope: ScopeResult, k: int, language: str) -> str:
    """Say why a scope has neither an index nor a partial composite."""
    t = catalog().t
    if not any(c.submitted > 0 or c.excluded > 0 for c in scope.groups):
        return t(language, "scores_index_no_answers")
    waiting = sum(c.waiting for c in scope.groups)
    if all(c.n == 0 and c.excluded == 0 for c in scope.groups) and waiting:
        today = sum(c.waiting_today for c in scope.groups) == waiting
        key = "index_today" if today else "index_waiting"
        if scope.code is not None:  # one unit: its own groups, not "every unit"
            key += "_unit"
        return t(language, key, n=_count(waiting, language), k=k)
    return t(language, "index_incomplete")


def benchmark_year(bench: BenchmarkComparison, wave_year: int | None, language: str) -> str:
    """Return a benchmark's year; for a target of another year than the wave's, say so."""
    if bench.key != "rpjmn_target" or wave_year is None or bench.year == wave_year:
        return str(bench.year)
    return catalog().t(language, "target_stale", year=bench.year, wave_year=wave_year)


def category_mark(scope: ScopeResult, language: str) -> str:
    """Return the colour mark and category word of a scope's index ('' without an index)."""
    if scope.category is None:
        return ""
    return f"{_MARKS.get(scope.category.key, '')} {scope.category.label.get(language)}".strip()


def _fit(text: str, limit: int, more: str) -> str:
    """Cut `text` at a line boundary so it fits `limit`, ending with `more`."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    while lines and len("\n".join(lines)) + len(more) + 1 > limit:
        lines.pop()
    return "\n".join([*lines, more]) if lines else text[: limit - 1] + "…"


class _Writer:
    """Formats report parts in one language with the message catalog."""

    def __init__(self, bundle: ReportBundle, language: str, messages: Catalog) -> None:
        self.bundle = bundle
        self.report = bundle.report
        self.lang = language
        self.messages = messages

    def t(self, key: str, /, **values: object) -> str:
        return self.messages.t(self.lang, key, **values)

    def num(self, value: float) -> str:
        return format_number(value, self.lang)

    def header(self, title_key: str, scope: ScopeResult | None = None) -> str:
        name = (scope or self.report.institution).name or self.t("scores_institution")
        title = self.t(title_key, name=html.escape(name))
        status = self.t("scores_provisional") if self.report.provisional else self.t("scores_final")
        wave = self.t("scores_wave", wave=html.escape(self.report.wave), status=status)
        # A revised final report says so wherever its numbers appear.
        note = revision_note(self.bundle.revision, self.lang)
        return f"<b>{title}</b>\n{wave}" + (f"\n{note}" if note else "")

    def group_name(self, group: Group) -> str:
        return self.t(_GROUP_KEYS[group])

    def cell(self, cell: GroupResult) -> str:
        """One group's score with its margin, or why there is none, in plain words."""
        group = self.group_name(cell.group)
        if cell.score is None:
            reason = cell_reason(cell, self.report.config.min_cell_size, self.lang)
            status = cell_status(cell, self.report.config.min_cell_size)
            if status in (CellStatus.SMALL, CellStatus.PROTECTING):
                return self.t(
                    "cell_line_n", group=group, reason=reason, n=_count(cell.n, self.lang)
                )
            return self.t("cell_line", group=group, reason=reason)
        if cell.moe is not None:
            value = f"<b>{self.num(cell.score)}</b> ±{self.num(cell.moe)}"
        else:
            value = f"<b>{self.num(cell.score)}</b>"
        return self.t("scores_group_line", group=group, value=value, n=_count(cell.n, self.lang))

    def waiting(self, scope: ScopeResult) -> str | None:
        """Say how many of the newest responses a provisional result does not show yet."""
        # A cell without a number says why itself (cell_reason); this is for shown cells.
        late = sum(c.waiting for c in scope.groups if c.score is not None)
        k = self.report.config.min_cell_size
        return self.t("scores_waiting_note", count=_count(late, self.lang), k=k) if late else None

    def headline(self, scope: ScopeResult) -> str:
        """The index with its category, a clearly labelled partial composite, or why neither."""
        if scope.index is not None:
            moe = f" ±{self.num(scope.index_moe)}" if scope.index_moe is not None else ""
            return self.t(
                "scores_index_line",
                value=self.num(scope.index),
                moe=moe,
                category=category_mark(scope, self.lang),
            )
        if scope.partial_index is not None:
            groups = ", ".join(self.group_name(g) for g in scope.groups_included)
            return self.t("scores_partial_line", value=self.num(scope.partial_index), groups=groups)
        return index_reason(scope, self.report.config.min_cell_size, self.lang)

    def corrections(self, scope: ScopeResult) -> str | None:
        corr = scope.corrections
        if corr is None or corr.total == 0:
            return None
        note = f" — {html.escape(corr.note)}" if corr.note else ""
        return self.t(
            "scores_corrections_line",
            integrity=self.num(corr.integrity),
            prevalence=self.num(corr.prevalence),
            note=note,
        )

    def exclusions(self, scope: ScopeResult) -> str | None:
        """Say which responses the inspectorate left out of this scope, and why (issue 24)."""
        mine = [
            e for e in self.report.exclusions if scope.code is None or e.unit_code == scope.code
        ]
        if not mine:
            return None
        names = {u.code: u.name for u in self.report.units}
        items = "; ".join(
            self.t(
                "scores_exclusion_item",
                unit=html.escape(names.get(e.unit_code or "", e.unit_code or "")),
                group=self.group_name(e.group).lower(),
                reason=html.escape(e.reason),
            )
            for e in mine
        )
        count = _count(sum(e.count for e in mine), self.lang)
        return self.t("scores_exclusions_line", count=count, items=items)

    def comparisons(self, scope: ScopeResult) -> list[str]:
        lines = []
        if scope.index is not None:
            for bench in scope.benchmarks:
                delta = f" ({_delta(bench.delta, self.lang)})" if bench.delta is not None else ""
                lines.append(
                    self.t(
                        "scores_benchmark_line",
                        label=bench.label.get(self.lang),
                        year=benchmark_year(bench, self.report.year, self.lang),
                        value=self.num(bench.value),
                        delta=delta,
                    )
                )
        prev = scope.previous
        if prev is not None:
            mark = revised_mark(self.revised_on(prev.wave), self.lang)
            if prev.index is None:
                lines.append(self.t("scores_previous_none", wave=html.escape(prev.wave)) + mark)
            else:
                delta = f" ({_delta(prev.delta, self.lang)})" if prev.delta is not None else ""
                lines.append(
                    self.t(
                        "scores_previous_line",
                        wave=html.escape(prev.wave),
                        value=self.num(prev.index),
                        delta=delta,
                    )
                    + mark
                )
        return lines

    def revised_on(self, wave: str) -> date | None:
        """Return when an earlier wave's result in force was revised (None: never)."""
        return next((h.revised_on for h in self.bundle.history if h.wave == wave), None)


def _writer(bundle: ReportBundle, language: str) -> _Writer:
    return _Writer(bundle, language, catalog())


# -- texts ------------------------------------------------------------------------------------


def score_text(bundle: ReportBundle, language: str, unit_code: str | None = None) -> str:
    """Return the /skor answer (institution, or one unit): fits a photo caption."""
    w = _writer(bundle, language)
    scope = w.report.institution if unit_code is None else w.report.unit(unit_code)
    parts = [w.header("scores_title" if unit_code is None else "scores_unit_title", scope)]
    parts.append(w.headline(scope))
    parts.append("\n".join([w.t("scores_groups_header"), *(w.cell(c) for c in scope.groups)]))
    extra = [x for x in (w.corrections(scope), w.exclusions(scope), w.waiting(scope)) if x]
    extra += w.comparisons(scope)
    if extra:
        parts.append("\n".join(extra))
    if unit_code is not None:
        parts.append(w.t("scores_unit_note"))
    return _fit("\n\n".join(parts), CAPTION_LIMIT, w.t("scores_more"))


def groups_text(bundle: ReportBundle, language: str, unit_code: str | None = None) -> str:
    """Return the three group scores with margins (the caption of the groups chart)."""
    w = _writer(bundle, language)
    scope = w.report.institution if unit_code is None else w.report.unit(unit_code)
    lines = [w.header("scores_groups_title", scope), "", *(w.cell(c) for c in scope.groups)]
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def dimensions_text(bundle: ReportBundle, language: str, unit_code: str | None = None) -> str:
    """Return the seven dimensions, weakest first; dimensions without a number at the end."""
    w = _writer(bundle, language)
    scope = w.report.institution if unit_code is None else w.report.unit(unit_code)
    lines = [w.header("scores_dimensions_title", scope), ""]
    shown = sorted((d for d in scope.dimensions if d.score is not None), key=lambda d: d.score or 0)
    hidden = [d for d in scope.dimensions if d.score is None]
    for rank, dim in enumerate(shown, start=1):
        assert dim.score is not None
        lines.append(
            w.t(
                "scores_dimension_line",
                rank=rank,
                name=w.t(f"scores_dim_{dim.dimension.value}"),
                value=w.num(dim.score),
            )
        )
    k = w.report.config.min_cell_size
    if hidden and not shown and all(c.score is None for c in scope.groups):
        # Nothing of this scope is shown yet: say why once, not seven times.
        lines.append(index_reason(scope, k, language))
        hidden = []
    for dim in hidden:
        why = w.t("cell_small", k=k) if dim.n > 0 else w.t("cell_no_answers")
        lines.append(
            w.t("scores_dimension_hidden", name=w.t(f"scores_dim_{dim.dimension.value}"), value=why)
        )
    if not scope.dimensions:
        lines.append(w.t("scores_index_no_answers"))
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def _ranked(report: Report) -> tuple[list[ScopeResult], list[ScopeResult], list[ScopeResult]]:
    """Split units into ranked (full index), partial (not ranked) and without a number."""
    ranked = sorted((u for u in report.units if u.index is not None), key=lambda u: -(u.index or 0))
    # Not ranked, so not ordered by value either: by name.
    partial = sorted(
        (u for u in report.units if u.index is None and u.partial_index is not None),
        key=lambda u: u.name,
    )
    rest = [u for u in report.units if u.index is None and u.partial_index is None]
    return ranked, partial, rest


def ranking_text(bundle: ReportBundle, language: str, *, limit: int = TEXT_LIMIT) -> str:
    """Return the unit ranking; partial composites listed apart and never ranked."""
    w = _writer(bundle, language)
    ranked, partial, rest = _ranked(w.report)
    lines = [w.header("scores_ranking_title"), ""]
    for rank, unit in enumerate(ranked, start=1):
        assert unit.index is not None
        lines.append(
            w.t(
                "scores_ranking_line",
                rank=rank,
                name=html.escape(unit.name),
                value=w.num(unit.index),
                category=category_mark(unit, language),
            )
        )
    if not ranked:
        lines.append(w.t("scores_ranking_empty"))
    if partial:
        lines += ["", w.t("scores_ranking_partial_header")]
        for unit in partial:
            assert unit.partial_index is not None
            groups = ", ".join(w.group_name(g) for g in unit.groups_included)
            lines.append(
                w.t(
                    "scores_ranking_partial_line",
                    name=html.escape(unit.name),
                    value=w.num(unit.partial_index),
                    groups=groups,
                )
            )
    if rest:
        # Every unit without a number is named with the reason, never just counted away: a
        # unit that had numbers yesterday and none today is here, with why.
        k = w.report.config.min_cell_size
        by_reason: dict[str, list[str]] = {}
        for unit in rest:
            by_reason.setdefault(unit_reason(unit, k, language), []).append(unit.name)
        lines += ["", w.t("ranking_without_header", count=len(rest))]
        lines += [
            w.t("ranking_without_line", reason=reason, names=html.escape(", ".join(names)))
            for reason, names in by_reason.items()
        ]
    return _fit("\n".join(lines), limit, w.t("scores_more"))


def trend_text(bundle: ReportBundle, language: str, unit_code: str | None = None) -> str:
    """Return the institution's (or one unit's) index across waves, oldest first."""
    w = _writer(bundle, language)
    scope = None if unit_code is None else w.report.unit(unit_code)
    lines = [w.header("scores_trend_title", scope), ""]
    history = bundle.history_of(unit_code)
    waves = [(h, False) for h in history]
    current = w.report.to_wave_result(unit_code)
    if bundle.revision is not None and unit_code is None:  # a revision moves only the index
        current = dataclasses.replace(current, revised_on=bundle.revision.created_on)
    waves.append((current, w.report.provisional))
    for result, provisional in waves:
        mark = f" — {w.t('scores_provisional_short')}" if provisional else ""
        mark += revised_mark(result.revised_on, language)
        partial = result.partial_index if result.index is None else None
        shown = result.index if partial is None else partial
        value = w.num(shown) if shown is not None else w.t("scores_no_index")
        # A partial composite is labelled as what it is: its groups, and not an SPI index.
        key = "scores_trend_line" if partial is None else "scores_trend_partial_line"
        groups = ", ".join(w.group_name(g) for g in result.groups_included)
        lines.append(w.t(key, wave=html.escape(result.wave), value=value, groups=groups, mark=mark))
    if not history:
        lines += ["", w.t("scores_trend_first")]
    national = next((b for b in w.report.institution.benchmarks if b.key == "national"), None)
    if national is not None and unit_code is None:
        value = w.num(national.value)
        lines += ["", w.t("scores_trend_national", year=national.year, value=value)]
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def _remaining_units(report: Report) -> list[tuple[ScopeResult, int]]:
    """Units with responses still needed, furthest from target first."""
    behind = [(u, sum(c.remaining for c in u.groups)) for u in report.units]
    return sorted(((u, r) for u, r in behind if r > 0), key=lambda ur: (-ur[1], ur[0].name))


def _progress_cell(w: _Writer, cell: GroupResult) -> str:
    if cell.needed == 0 and cell.submitted == 0:
        return w.t("scores_progress_na", group=w.group_name(cell.group))
    key = "scores_progress_done" if cell.remaining == 0 else "scores_progress_line"
    return w.t(
        key,
        group=w.group_name(cell.group),
        n=_count(cell.submitted, w.lang),
        needed=_count(cell.needed, w.lang),
        remaining=_count(cell.remaining, w.lang),
    )


def progress_text(bundle: ReportBundle, language: str, *, top: int = 5) -> str:
    """Return responses against targets per group, and the units furthest from target."""
    w = _writer(bundle, language)
    inst = w.report.institution
    lines = [w.header("scores_progress_title"), "", w.t("scores_progress_institution")]
    lines += [_progress_cell(w, c) for c in inst.groups]
    behind = _remaining_units(w.report)
    if behind:
        lines += ["", w.t("scores_progress_behind_header")]
        for unit, remaining in behind[:top]:
            lines.append(
                w.t(
                    "scores_progress_behind_line",
                    name=html.escape(unit.name),
                    remaining=_count(remaining, language),
                )
            )
    else:
        lines += ["", w.t("scores_progress_all_done")]
    quality = w.report.quality
    if quality.excluded:
        lines += ["", w.t("scores_quality_excluded", count=_count(quality.excluded, language))]
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def unit_progress_text(bundle: ReportBundle, language: str, unit_code: str) -> str:
    """Return one unit's responses against its targets (what a unit head may see)."""
    w = _writer(bundle, language)
    unit = w.report.unit(unit_code)
    lines = [w.header("scores_unit_progress_title", unit), ""]
    lines += [_progress_cell(w, c) for c in unit.groups]
    return "\n".join(lines)


def progress_digest(bundle: ReportBundle, language: str) -> str:
    """Return the daily digest: responses per group vs targets, units furthest from target."""
    w = _writer(bundle, language)
    inst = w.report.institution
    as_of = bundle.as_of.isoformat() if bundle.as_of else ""
    lines = [
        w.t("scores_digest_title", wave=html.escape(w.report.wave), date=as_of),
        *(_progress_cell(w, c) for c in inst.groups),
    ]
    behind = _remaining_units(w.report)[:3]
    if behind:
        names = ", ".join(
            w.t(
                "scores_digest_unit",
                name=html.escape(u.name),
                remaining=_count(r, language),
            )
            for u, r in behind
        )
        lines.append(w.t("scores_digest_behind", units=names))
    else:
        lines.append(w.t("scores_progress_all_done"))
    return "\n".join(lines)
