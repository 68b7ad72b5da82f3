"""Reports from the database: build a wave's `Report` once, and phone-friendly texts of it.

Used by the score commands, `spibot score`/`spibot report` and the scheduler. Every number
shown to a person is formatted here (decimal comma in Indonesian); suppressed cells read
"data belum cukup", never a number. Charts are imported lazily: matplotlib is heavy and
`spibot score` never draws.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import storage
from scoring import (
    Corrections,
    Report,
    ScopeResult,
    ScoringConfig,
    UnitInfo,
    WaveResult,
    build_report,
)
from scoring.report import GroupResult
from services.i18n import Catalog, catalog
from services.settings import Settings
from storage import AsyncEngine
from surveys import Group, Questionnaire, load_questionnaire_text

__all__ = [
    "CAPTION_LIMIT",
    "TALL_RATIO",
    "TEXT_LIMIT",
    "ReportBundle",
    "category_mark",
    "dimensions_text",
    "find_units",
    "format_number",
    "groups_text",
    "is_tall",
    "load_report",
    "progress_digest",
    "progress_text",
    "ranking_text",
    "render_chart",
    "report_pack",
    "score_text",
    "trend_text",
    "unit_progress_text",
]

logger = logging.getLogger(__name__)

CAPTION_LIMIT: Final = 1024  # Telegram's caption limit
# Charts taller than this many widths go out as documents (see is_tall).
TALL_RATIO: Final = 2.0
TEXT_LIMIT: Final = 4096  # Telegram's message limit

# The category colour is always paired with its word, so it reads without colour too.
_MARKS: Final[Mapping[str, str]] = {"rentan": "🔴", "waspada": "🟡", "terjaga": "🟢"}
_GROUP_KEYS: Final[Mapping[Group, str]] = {
    Group.INTERNAL: "scores_group_internal",
    Group.EXTERNAL: "scores_group_external",
    Group.EXPERT: "scores_group_expert",
}
_SWAP: Final = str.maketrans(",.", ".,")


@dataclass(frozen=True)
class ReportBundle:
    """A wave's report with the wave row and the earlier waves' results (oldest first)."""

    report: Report
    wave: storage.Wave
    history: tuple[WaveResult, ...]
    as_of: date | None = None  # the day the report was built, in the bot's time zone


# -- building ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _parse_questionnaire(questionnaire_id: int, source_yaml: str) -> Questionnaire:
    # A stored questionnaire version never changes, so parsing it once per process is safe.
    return load_questionnaire_text(source_yaml, source=f"questionnaire #{questionnaire_id}")


async def _questionnaires(engine: AsyncEngine, wave: storage.Wave) -> dict[Group, Questionnaire]:
    """Return the questionnaire each group of the wave answered."""
    out: dict[Group, Questionnaire] = {}
    for grp, questionnaire_id in wave.questionnaire_ids.items():
        stored = await storage.get_questionnaire(engine, questionnaire_id)
        if stored is None:
            logger.warning("wave %s links a missing questionnaire", wave.name)
            continue
        out[Group(grp)] = _parse_questionnaire(stored.id, stored.source_yaml)
    return out


def _corrections(correction: storage.Correction | None) -> Corrections | None:
    if correction is None:
        return None
    return Corrections(correction.integrity, correction.prevalence, correction.note)


async def _build(
    engine: AsyncEngine,
    wave: storage.Wave,
    config: ScoringConfig,
    units: Sequence[UnitInfo],
    institution_name: str,
    history: Sequence[WaveResult],
) -> Report:
    """Read one wave's answers and score them (the scoring runs in a worker thread)."""
    answers = await storage.answers_frame(engine, wave.id)
    questionnaires = await _questionnaires(engine, wave)
    corrections = _corrections(await storage.current_correction(engine, wave.id))
    # Scoring a large wave takes a noticeable fraction of a second: keep the event loop free.
    return await asyncio.to_thread(
        functools.partial(
            build_report,
            answers,
            questionnaires,
            config,
            wave=wave.name,
            wave_open=wave.is_open,
            units=units,
            corrections=corrections,
            history=history,
            institution_name=institution_name,
        )
    )


# Institution results of closed waves, which only change when a correction is added: without
# this every /skor would re-score every earlier wave (each possibly a million answers).
_EARLIER: dict[tuple[object, ...], WaveResult] = {}
_EARLIER_MAX: Final = 64


async def _earlier_result(
    engine: AsyncEngine,
    wave: storage.Wave,
    config: ScoringConfig,
    units: Sequence[UnitInfo],
    institution_name: str,
) -> WaveResult:
    """Return an earlier wave's institution result, scoring it only when something changed."""
    correction = await storage.current_correction(engine, wave.id)
    key = (
        engine.url.render_as_string(hide_password=True),
        wave.id,
        wave.closed_at,
        correction.id if correction else None,
        repr(config),  # frozen but holds mappings, so not hashable itself
        repr(tuple(units)),
    )
    cached = _EARLIER.get(key) if wave.closed_at is not None else None
    if cached is not None:
        return cached
    report = await _build(engine, wave, config, units, institution_name, ())
    result = report.to_wave_result()
    if wave.closed_at is not None:
        if len(_EARLIER) >= _EARLIER_MAX:
            _EARLIER.pop(next(iter(_EARLIER)))
        _EARLIER[key] = result
    return result


async def load_report(
    engine: AsyncEngine,
    settings: Settings,
    *,
    wave_name: str | None = None,
    today: date | None = None,
) -> ReportBundle | None:
    """Build the report of the named wave (default: the open one, else the newest).

    Returns None when there is no such wave. Earlier waves (by opening time) are scored too,
    for their institution result only, to give the previous-wave comparison and the trend.
    """
    waves = await storage.list_waves(engine)  # newest first
    if wave_name is not None:
        chosen = next((w for w in waves if w.name == wave_name), None)
    else:
        chosen = next((w for w in waves if w.is_open), waves[0] if waves else None)
    if chosen is None:
        return None
    institution = await storage.get_institution(engine)
    name = institution.name if institution else settings.institution_name
    level = institution.level if institution else settings.institution_level
    config = ScoringConfig(min_cell_size=settings.small_cell_k, level=level)
    units = [
        UnitInfo(
            code=u.code,
            name=u.name,
            kind=u.kind,
            parent_code=u.parent_code,
            serves_public=u.serves_public,
            roster_size=u.staff_count,
        )
        for u in await storage.list_units(engine)
    ]
    # list_waves is newest first (opening time, then id): the waves after `chosen` came before.
    earlier = list(reversed(waves[waves.index(chosen) + 1 :]))
    history: list[WaveResult] = []
    for wave in earlier:  # oldest first
        history.append(await _earlier_result(engine, wave, config, units, name))
    report = await _build(engine, chosen, config, units, name, tuple(history))
    as_of = today or datetime.now(settings.zone).date()
    return ReportBundle(report=report, wave=chosen, history=tuple(history), as_of=as_of)


# -- formatting helpers -------------------------------------------------------------------------


def format_number(value: float, language: str, digits: int = 2) -> str:
    """Return a number at display precision: 74,00 in Indonesian, 74.00 in English."""
    formatted = f"{value:,.{digits}f}"
    return formatted if language == "en" else formatted.translate(_SWAP)


def _count(value: int, language: str) -> str:
    formatted = f"{value:,d}"
    return formatted if language == "en" else formatted.translate(_SWAP)


def _delta(value: float, language: str) -> str:
    shown = round(value, 2)
    sign = "+" if shown > 0 else "−" if shown < 0 else "±"
    return sign + format_number(abs(value), language)


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
        if cell.suppressed:
            value = self.t("scores_insufficient")
        elif cell.score is None:
            value = self.t("scores_no_answers")
        elif cell.moe is not None:
            value = f"<b>{self.num(cell.score)}</b> ±{self.num(cell.moe)}"
        else:
            value = f"<b>{self.num(cell.score)}</b>"
        return self.t(
            "scores_group_line",
            group=self.group_name(cell.group),
            value=value,
            n=_count(cell.n, self.lang),
        )

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
        if any(c.n > 0 for c in scope.groups):
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
    extra = [line for line in (w.corrections(scope),) if line] + w.comparisons(scope)
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
    waiting = [u for u in rest if any(c.n > 0 for c in u.groups)]
    if waiting:
        lines += ["", w.t("scores_ranking_waiting", count=len(waiting))]
    return _fit("\n".join(lines), limit, w.t("scores_more"))


def trend_text(bundle: ReportBundle, language: str) -> str:
    """Return the institution index across waves, oldest first."""
    w = _writer(bundle, language)
    lines = [w.header("scores_trend_title"), ""]
    waves: list[tuple[str, float | None, bool]] = [(h.wave, h.index, False) for h in bundle.history]
    waves.append((w.report.wave, w.report.institution.index, w.report.provisional))
    for name, index, provisional in waves:
        value = w.num(index) if index is not None else w.t("scores_no_index")
        mark = f" — {w.t('scores_provisional_short')}" if provisional else ""
        lines.append(w.t("scores_trend_line", wave=html.escape(name), value=value, mark=mark))
    if not bundle.history:
        lines += ["", w.t("scores_trend_first")]
    national = next((b for b in w.report.institution.benchmarks if b.key == "national"), None)
    if national is not None:
        lines += [
            "",
            w.t("scores_trend_national", year=national.year, value=w.num(national.value)),
        ]
    return _fit("\n".join(lines), CAPTION_LIMIT, w.t("scores_more"))


def _remaining_units(report: Report) -> list[tuple[ScopeResult, int]]:
    """Units with responses still needed, furthest from target first."""
    behind = [(u, sum(c.remaining for c in u.groups)) for u in report.units]
    return sorted(((u, r) for u, r in behind if r > 0), key=lambda ur: (-ur[1], ur[0].name))


def _progress_cell(w: _Writer, cell: GroupResult) -> str:
    if cell.needed == 0 and cell.n == 0:
        return w.t("scores_progress_na", group=w.group_name(cell.group))
    key = "scores_progress_done" if cell.remaining == 0 else "scores_progress_line"
    return w.t(
        key,
        group=w.group_name(cell.group),
        n=_count(cell.n, w.lang),
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


# -- unit lookup --------------------------------------------------------------------------------

_WORD_RE: Final = re.compile(r"[0-9a-z]+")
_MAX_MATCHES: Final = 8  # buttons offered when a /unit query is ambiguous


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def find_units(units: Sequence[storage.Unit], query: str) -> list[storage.Unit]:
    """Return the units a typed name or code means, best first (at most 8).

    An exact code or name wins outright; then units containing every typed word; then, for
    typos ("kesehatn"), units whose words are close to every typed word.
    """
    needle = " ".join(_words(query))
    if not needle:
        return []
    for unit in units:
        if needle in (" ".join(_words(unit.code)), " ".join(_words(unit.name))):
            return [unit]
    typed = needle.split()
    containing = [u for u in units if all(word in f"{u.code} {u.name}".lower() for word in typed)]
    if containing:
        return containing[:_MAX_MATCHES]

    def closeness(unit: storage.Unit) -> float:
        words = _words(f"{unit.code} {unit.name}")
        return min(max(difflib.SequenceMatcher(None, t, w).ratio() for w in words) for t in typed)

    scored = sorted(((closeness(u), u.code, u) for u in units), key=lambda s: (-s[0], s[1]))
    return [u for score, _, u in scored if score >= 0.8][:_MAX_MATCHES]


# -- charts ---------------------------------------------------------------------------------


def is_tall(png: bytes) -> bool:
    """Tell whether a chart is too tall to send as a photo.

    Telegram shrinks photos to about 1280 px on the long side, which leaves the ranking or
    progress chart of a 40-unit wave (1080 x ~3000 px) unreadable on a phone; sent as a
    document it keeps its full resolution.
    """
    # PNG: 8-byte signature, then the IHDR chunk: length, type, width, height (big-endian).
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return width > 0 and height > TALL_RATIO * width


def render_chart(
    bundle: ReportBundle, name: str, language: str, unit_code: str | None = None
) -> bytes:
    """Draw one chart of `scoring.charts.CHARTS`. CPU-bound: call it off the event loop."""
    from scoring import charts

    return charts.render(name, bundle.report, language, unit_code, bundle.history)


def report_pack(bundle: ReportBundle, language: str) -> list[tuple[str, bytes, str]]:
    """Return the full pack: (chart name, PNG, caption ≤ 1024 characters), in reading order.

    CPU-bound (six matplotlib drawings): call it off the event loop (`asyncio.to_thread`).
    """
    from scoring.charts import CHART_NAMES, render_pack

    pngs = render_pack(bundle.report, language, bundle.history)
    captions = {
        "index": score_text(bundle, language),
        "groups": groups_text(bundle, language),
        "dimensions": dimensions_text(bundle, language),
        "ranking": ranking_text(bundle, language, limit=CAPTION_LIMIT),
        "trend": trend_text(bundle, language),
        "progress": progress_text(bundle, language),
    }
    return [(name, pngs[name], captions[name]) for name in CHART_NAMES]
