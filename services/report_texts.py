"""Phone-friendly texts of a report: captions, digests and the officials' answers.

Every number shown to a person is written by `services.numbers` (decimal comma in
Indonesian); suppressed cells read "data belum cukup", never a number.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Final

from scoring import Report, ScopeResult
from scoring.report import GroupResult
from services.i18n import Catalog, catalog
from services.numbers import format_count as _count
from services.numbers import format_delta as _delta
from services.numbers import format_number
from services.reports import ReportBundle
from surveys import Group

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "category_mark",
    "dimensions_text",
    "format_number",
    "groups_text",
    "progress_digest",
    "progress_text",
    "ranking_text",
    "score_text",
    "trend_text",
    "unit_progress_text",
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
        return f"<b>{title}</b>\n{wave}"

    def group_name(self, group: Group) -> str:
        return self.t(_GROUP_KEYS[group])

    def cell(self, cell: GroupResult) -> str:
        """One group's score with its margin, or why there is none."""
        # n is what the score rests on; without a score, every response submitted so far.
        if cell.suppressed or (cell.score is None and cell.waiting > 0):
            value, n = self.t("scores_insufficient"), cell.submitted
        elif cell.score is None:
            value, n = self.t("scores_no_answers"), cell.n
        elif cell.moe is not None:
            value, n = f"<b>{self.num(cell.score)}</b> ±{self.num(cell.moe)}", cell.n
        else:
            value, n = f"<b>{self.num(cell.score)}</b>", cell.n
        return self.t(
            "scores_group_line",
            group=self.group_name(cell.group),
            value=value,
            n=_count(n, self.lang),
        )

    def waiting(self, scope: ScopeResult) -> str | None:
        """Say how many of the newest responses a provisional result does not show yet."""
        late = sum(c.waiting for c in scope.groups)
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
        if any(c.submitted > 0 for c in scope.groups):
            return self.t("scores_index_insufficient")
        return self.t("scores_index_no_answers")

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

    def comparisons(self, scope: ScopeResult) -> list[str]:
        lines = []
        if scope.index is not None:
            for bench in scope.benchmarks:
                delta = f" ({_delta(bench.delta, self.lang)})" if bench.delta is not None else ""
                lines.append(
                    self.t(
                        "scores_benchmark_line",
                        label=bench.label.get(self.lang),
                        year=bench.year,
                        value=self.num(bench.value),
                        delta=delta,
                    )
                )
        prev = scope.previous
        if prev is not None:
            if prev.index is None:
                lines.append(self.t("scores_previous_none", wave=html.escape(prev.wave)))
            else:
                delta = f" ({_delta(prev.delta, self.lang)})" if prev.delta is not None else ""
                lines.append(
                    self.t(
                        "scores_previous_line",
                        wave=html.escape(prev.wave),
                        value=self.num(prev.index),
                        delta=delta,
                    )
                )
        return lines


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
    extra = [x for x in (w.corrections(scope), w.waiting(scope)) if x] + w.comparisons(scope)
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
    for dim in hidden:
        lines.append(
            w.t(
                "scores_dimension_hidden",
                name=w.t(f"scores_dim_{dim.dimension.value}"),
                value=w.t("scores_insufficient"),
            )
        )
    if not scope.dimensions:
        lines.append(w.t("scores_index_no_answers"))
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def _ranked(report: Report) -> tuple[list[ScopeResult], list[ScopeResult], list[ScopeResult]]:
    """Split units into ranked (full index), partial (not ranked) and without a number."""
    ranked = sorted((u for u in report.units if u.index is not None), key=lambda u: -(u.index or 0))
    partial = sorted(
        (u for u in report.units if u.index is None and u.partial_index is not None),
        key=lambda u: -(u.partial_index or 0),
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
    waiting = [u for u in rest if any(c.submitted > 0 for c in u.groups)]
    if waiting:
        lines += ["", w.t("scores_ranking_waiting", count=len(waiting))]
    return _fit("\n".join(lines), limit, w.t("scores_more"))


def trend_text(bundle: ReportBundle, language: str, unit_code: str | None = None) -> str:
    """Return the institution's (or one unit's) index across waves, oldest first."""
    w = _writer(bundle, language)
    scope = None if unit_code is None else w.report.unit(unit_code)
    lines = [w.header("scores_trend_title", scope), ""]
    history = bundle.history_of(unit_code)
    waves = [(h, False) for h in history]
    waves.append((w.report.to_wave_result(unit_code), w.report.provisional))
    for result, provisional in waves:
        mark = f" — {w.t('scores_provisional_short')}" if provisional else ""
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
