"""What the dashboard shows each role, as JSON-ready dicts: the scores side (overview, one
unit, the ranking, the trend, the what-if).

One source of numbers: every number comes from the report `/skor` reads
(`services.reports.current_bundle`, which applies the release rule of an open wave) and is
written by `services.numbers`, like every number the bot sends. A cell or dimension that the
report does not show (suppressed, or waiting for the next release step) carries no number in
any field here: only words that say why. Who may see what is `services.access`'s decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from scoring import Report, ScopeResult
from scoring.index import Category, categories_of
from scoring.report import DimensionScore, GroupResult

if TYPE_CHECKING:  # scoring.peers reads the published results with pandas
    from scoring.peers import YearStanding
from services.access import Asker, Viewer
from services.i18n import Catalog, catalog
from services.miniapp import charts
from services.numbers import format_count, format_delta, format_number
from services.reports import ReportBundle
from surveys import Group
from surveys.model import DIMENSIONS

__all__ = [
    "Words",
    "bands",
    "category_json",
    "dimension_options",
    "group_options",
    "headline",
    "me",
    "overview",
    "ranking",
    "scope_json",
    "trend",
    "views_of",
    "wave_json",
]

JSON = dict[str, Any]

OVERVIEW: Final = "overview"
UNITS: Final = "units"
TREND: Final = "trend"
WHATIF: Final = "whatif"
PROGRESS: Final = "progress"
ACTIONS: Final = "actions"
UPTAKE: Final = "uptake"
_WEAKEST_UNITS: Final = 3
_UI_PREFIX: Final = "miniapp_ui_"


class Words:
    """The catalog and number formats of one language."""

    def __init__(self, language: str, k: int = 5, messages: Catalog | None = None) -> None:
        self.lang = language
        self.k = k
        self.messages = messages or catalog()

    def t(self, key: str, /, **values: object) -> str:
        return self.messages.t(self.lang, key, **values)

    def num(self, value: float, digits: int = 2) -> str:
        return format_number(value, self.lang, digits)

    def count(self, value: int) -> str:
        return format_count(value, self.lang)

    def delta(self, value: float) -> str:
        return format_delta(value, self.lang)

    def group(self, group: Group | str) -> str:
        return self.t(f"scores_group_{Group(group).value}")

    def dimension(self, key: str) -> str:
        return self.t(f"scores_dim_{key}")

    def suppressed(self) -> str:
        return self.t("miniapp_suppressed_why", k=self.k)

    def strings(self) -> dict[str, str]:
        """Return the app's own interface words (catalog keys `miniapp_ui_*`)."""
        keys = sorted(k for k in self.messages.keys("id") if k.startswith(_UI_PREFIX))
        return {k.removeprefix(_UI_PREFIX): self.t(k) for k in keys}


def views_of(viewer: Viewer) -> tuple[str, ...]:
    """Return the dashboard's views this person may open, in tab order.

    The same as in the bot: leadership and admins see the institution and every unit
    (/skor, /peringkat, /tren, /progres, /tindaklanjut), admins also the invitation uptake
    (/undangan); a unit head their own unit's scores, progress and actions.
    """
    if viewer.sees_all:
        views = (OVERVIEW, UNITS, TREND, WHATIF, PROGRESS, ACTIONS)
        return (*views, UPTAKE) if viewer.admin else views
    if viewer.unit_code is not None:
        return (OVERVIEW, WHATIF, PROGRESS, ACTIONS)
    return ()


def me(asker: Asker, words: Words, institution: str) -> JSON:
    """Return who is looking, in words, and what they may open."""
    viewer = asker.viewer
    if viewer.admin:
        role, label = "admin", words.t("miniapp_role_admin")
    elif viewer.leadership:
        role, label = "leadership", words.t("miniapp_role_leadership")
    else:
        unit = viewer.unit_name or viewer.unit_code or ""
        role, label = "unit_head", words.t("miniapp_role_unit_head", unit=unit)
    return {
        "role": role,
        "role_label": label,
        "language": words.lang,
        "institution": institution,
        "unit": None if viewer.sees_all else {"code": viewer.unit_code, "name": viewer.unit_name},
        "views": list(views_of(viewer)),
    }


# -- pieces of a scope ---------------------------------------------------------------------


def category_json(category: Category | None, words: Words) -> JSON | None:
    """Return a category's key (its colour in the app) and its word."""
    if category is None:
        return None
    return {"key": category.key, "label": category.label.get(words.lang)}


def bands(report: Report, words: Words) -> list[charts.Band]:
    """Return the category bands of the report's thresholds, lowest first."""
    t = report.config.thresholds
    found = categories_of(t)
    bounds = [0.0]
    if t.sangat_rentan_below is not None:
        bounds.append(t.sangat_rentan_below)
    bounds += [t.waspada_from, t.terjaga_from, 100.0]
    return [
        charts.Band(c.key, bounds[i], bounds[i + 1], c.label.get(words.lang))
        for i, c in enumerate(found)
    ]


def headline(scope: ScopeResult, words: Words) -> JSON:
    """Return the index with margin and category, a labelled partial composite, or why not."""
    if scope.index is not None:
        return {
            "state": "index",
            "value": round(scope.index, 2),
            "text": words.num(scope.index),
            "moe": None if scope.index_moe is None else "±" + words.num(scope.index_moe),
            "category": category_json(scope.category, words),
        }
    if scope.partial_index is not None:
        groups = ", ".join(words.group(g) for g in scope.groups_included)
        return {
            "state": "partial",
            "value": round(scope.partial_index, 2),
            "text": words.num(scope.partial_index),
            "note": words.t("miniapp_partial_note", groups=groups),
        }
    if any(c.submitted > 0 for c in scope.groups):
        return {
            "state": "insufficient",
            "note": words.t("scores_insufficient"),
            "why": words.suppressed(),
        }
    return {"state": "empty", "note": words.t("scores_no_answers")}


def _cell(cell: GroupResult, words: Words) -> JSON:
    base: JSON = {"group": cell.group.value, "label": words.group(cell.group)}
    if cell.suppressed or (cell.score is None and cell.waiting > 0):
        # Too few (or protecting another small cell), or waiting for the next release step:
        # words only, not even the count.
        why = words.suppressed() if cell.suppressed else words.t("miniapp_waiting_why", k=words.k)
        return {**base, "shown": False, "reason": words.t("scores_insufficient"), "why": why}
    if cell.score is None:
        return {**base, "shown": False, "reason": words.t("scores_no_answers")}
    return {
        **base,
        "shown": True,
        "value": round(cell.score, 2),
        "text": words.num(cell.score),
        "moe": None if cell.moe is None else "±" + words.num(cell.moe),
        "n": words.t("miniapp_n", n=words.count(cell.n)),
        "meter": charts.meter(cell.score, css=f"bar bar-{cell.group.value}"),
    }


def _dimension(dim: DimensionScore, words: Words) -> JSON:
    base: JSON = {"key": dim.dimension.value, "label": words.dimension(dim.dimension.value)}
    if dim.score is None:
        return {**base, "shown": False, "reason": words.t("scores_insufficient")}
    return {**base, "shown": True, "value": round(dim.score, 2), "text": words.num(dim.score)}


def _notes(report: Report, scope: ScopeResult, words: Words, *, unit: bool) -> list[str]:
    notes = []
    if report.provisional and any(c.waiting for c in scope.groups):
        notes.append(words.t("miniapp_waiting_note", k=words.k))
    corr = scope.corrections
    if corr is not None and corr.total > 0:
        note = f" — {corr.note}" if corr.note else ""
        notes.append(
            words.t(
                "miniapp_corrections",
                integrity=words.num(corr.integrity),
                prevalence=words.num(corr.prevalence),
                note=note,
            )
        )
    if unit:
        notes.append(words.t("miniapp_unit_note"))
    return notes


def _comparisons(scope: ScopeResult, words: Words) -> list[JSON]:
    rows: list[JSON] = []
    if scope.index is not None:
        for bench in scope.benchmarks:
            rows.append(
                {
                    "label": f"{bench.label.get(words.lang)} {bench.year}",
                    "text": words.num(bench.value),
                    "delta": None if bench.delta is None else words.delta(bench.delta),
                }
            )
    prev = scope.previous
    if prev is not None:
        label = words.t("miniapp_previous_wave", wave=prev.wave)
        if prev.index is None:
            rows.append({"label": label, "text": words.t("scores_no_index"), "delta": None})
        else:
            delta = None if prev.delta is None else words.delta(prev.delta)
            rows.append({"label": label, "text": words.num(prev.index), "delta": delta})
    return rows


def scope_json(bundle: ReportBundle, scope: ScopeResult, words: Words) -> JSON:
    """Return one scope (the institution or a unit) as the overview shows it."""
    report = bundle.report
    unit = scope.code is not None
    head = headline(scope, words)
    dims = sorted(
        scope.dimensions, key=lambda d: (d.score is None, d.score if d.score is not None else 0)
    )
    shown_dims = [d for d in dims if d.score is not None]
    name = scope.name or words.t("scores_institution")
    out: JSON = {
        "name": name,
        "code": scope.code,
        "headline": head,
        "groups": [_cell(c, words) for c in scope.groups],
        "dimensions": [_dimension(d, words) for d in dims],
        "comparisons": [] if unit else _comparisons(scope, words),
        "notes": _notes(report, scope, words, unit=unit),
        "scale": None,
        "dimensions_chart": None,
    }
    if scope.index is not None:
        marker = charts.Marker(scope.index, words.num(scope.index), scope.index_moe)
        out["scale"] = charts.scale(
            bands(report, words), [marker], label=words.t("miniapp_scale_label", name=name)
        )
    if shown_dims:
        out["dimensions_chart"] = charts.bars(
            [
                charts.Bar(
                    words.dimension(d.dimension.value),
                    d.score or 0.0,
                    words.num(d.score or 0.0),
                    "bar bar-dimension",
                )
                for d in shown_dims
            ],
            label=words.t("miniapp_dimensions_chart", name=name),
        )
    return out


def wave_json(bundle: ReportBundle, words: Words) -> JSON:
    """Return the wave the numbers are from, and whether they are provisional."""
    report = bundle.report
    status = "scores_provisional_short" if report.provisional else "scores_final"
    return {
        "name": report.wave,
        "provisional": report.provisional,
        "status": words.t(status),
        "as_of": bundle.as_of.isoformat() if bundle.as_of else None,
        "basis": words.t(
            "miniapp_basis_provisional" if report.provisional else "miniapp_basis_final",
            k=words.k,
        ),
    }


# -- views ------------------------------------------------------------------------------------


def _ranked(report: Report) -> list[ScopeResult]:
    return sorted((u for u in report.units if u.index is not None), key=lambda u: -(u.index or 0))


def overview(bundle: ReportBundle, viewer: Viewer, words: Words) -> JSON:
    """Return the first screen: the institution (or the unit head's unit), with, for those
    who see every unit, the units at the bottom of the ranking."""
    report = bundle.report
    scope = report.institution if viewer.sees_all else report.unit(viewer.unit_code or "")
    out: JSON = {"wave": wave_json(bundle, words), "scope": scope_json(bundle, scope, words)}
    if viewer.sees_all:
        ranked = list(enumerate(_ranked(report), start=1))
        out["weakest_units"] = [_unit_row(u, rank, words) for rank, u in ranked[::-1]][
            :_WEAKEST_UNITS
        ]
    return out


def _unit_row(unit: ScopeResult, rank: int, words: Words) -> JSON:
    assert unit.index is not None
    return {
        "code": unit.code,
        "name": unit.name,
        "rank": rank,
        "value": round(unit.index, 2),
        "text": words.num(unit.index),
        "category": category_json(unit.category, words),
    }


def ranking(bundle: ReportBundle, words: Words) -> JSON:
    """Return the units by index; partial composites apart and never ranked; units without a
    number named with the reason in words."""
    report = bundle.report
    ranked = _ranked(report)
    t = report.config.thresholds
    ticks = [t.waspada_from, t.terjaga_from]
    floor = charts.scale_floor([u.index or 0 for u in ranked])
    rows = []
    for rank, unit in enumerate(ranked, start=1):
        row = _unit_row(unit, rank, words)
        css = f"bar cat-{unit.category.key}" if unit.category else "bar"
        row["meter"] = charts.meter(unit.index or 0, low=floor, css=css, ticks=ticks)
        rows.append(row)
    partial = sorted(
        (u for u in report.units if u.index is None and u.partial_index is not None),
        key=lambda u: -(u.partial_index or 0),
    )
    rest = [u for u in report.units if u.index is None and u.partial_index is None]
    waiting = [u for u in rest if any(c.submitted > 0 for c in u.groups)]
    quiet = len(rest) - len(waiting)
    return {
        "wave": wave_json(bundle, words),
        "ranked": rows,
        "partial": [
            {
                "code": u.code,
                "name": u.name,
                "text": words.num(u.partial_index or 0),
                "note": words.t(
                    "miniapp_partial_note",
                    groups=", ".join(words.group(g) for g in u.groups_included),
                ),
            }
            for u in partial
        ],
        "insufficient": [
            {"code": u.code, "name": u.name, "reason": words.t("scores_insufficient")}
            for u in sorted(waiting, key=lambda u: u.name)
        ],
        "insufficient_why": words.suppressed() if waiting else None,
        "quiet": words.t("miniapp_quiet_units", count=words.count(quiet)) if quiet else None,
        "empty": None if ranked else words.t("scores_ranking_empty"),
    }


def trend(
    bundle: ReportBundle, standings: Sequence[YearStanding], found_name: str | None, words: Words
) -> JSON:
    """Return our index across waves, and KPK's published result per year with our
    percentile among our level."""
    report = bundle.report
    waves = [(h, False) for h in bundle.history]
    waves.append((report.to_wave_result(), report.provisional))
    wave_rows: list[JSON] = []
    for result, provisional in waves:
        row: JSON = {"wave": result.wave, "provisional": provisional}
        if result.index is not None:
            row.update(state="index", value=round(result.index, 2), text=words.num(result.index))
        elif result.partial_index is not None:
            groups = ", ".join(words.group(g) for g in result.groups_included)
            row.update(
                state="partial",
                value=round(result.partial_index, 2),
                text=words.num(result.partial_index),
                note=words.t("miniapp_partial_note", groups=groups),
            )
        else:
            row.update(state="none", text=words.t("scores_no_index"))
        wave_rows.append(row)
    kpk_rows = [
        {
            "year": s.year,
            "value": round(s.result.index, 2),
            "text": words.num(s.result.index),
            "category": category_json(s.result.category, words),
            "standing": words.t(
                "miniapp_percentile",
                percentile=words.num(s.percentile, 0),
                rank=s.rank,
                of=s.of,
                level=words.t(f"peers_level_{s.result.level}"),
            ),
            "national": None if s.national is None else words.num(s.national),
        }
        for s in standings
    ]
    slots = [str(s.year) for s in standings] + [r["wave"] for r in wave_rows]
    empty: list[float | None] = [None] * len(wave_rows)
    kpk = charts.Series(
        "kpk",
        tuple([s.result.index for s in standings] + empty),
        tuple([words.num(s.result.index) for s in standings] + [None] * len(wave_rows)),
    )
    national = charts.Series("national", tuple([s.national for s in standings] + empty), ())
    ours = charts.Series(
        "ours",
        tuple([None] * len(standings) + [r.get("value") for r in wave_rows]),
        tuple(
            [None] * len(standings) + [r.get("text") if "value" in r else None for r in wave_rows]
        ),
        tuple([False] * len(standings) + [r["state"] == "partial" for r in wave_rows]),
    )
    chart = None
    if any(v is not None for s in (kpk, ours) for v in s.values):
        chart = charts.trend(
            slots,
            [national, kpk, ours],
            bands(report, words),
            label=words.t("miniapp_trend_chart"),
        )
    return {
        "wave": wave_json(bundle, words),
        "waves": wave_rows,
        "first": not bundle.history,
        "kpk": kpk_rows,
        "kpk_name": found_name,
        "chart": chart,
        "percentile_note": words.t("miniapp_percentile_note"),
    }


def dimension_options(words: Words) -> list[JSON]:
    """Return the seven dimensions with their words (the what-if form)."""
    return [{"key": d.value, "label": words.dimension(d.value)} for d in DIMENSIONS]


def group_options(words: Words) -> list[JSON]:
    """Return the three respondent groups with their words (the what-if form)."""
    return [{"key": g.value, "label": words.group(g)} for g in Group]
