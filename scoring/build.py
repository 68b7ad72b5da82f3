"""`build_report`: answers → items → respondent dimensions → cells → suppression → indices.

The order matters: quality flags are computed on all responses, the cells on the valid ones,
suppression on the cells, and everything shown (indices, combined dimensions, comparisons) only
from the suppressed cells.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.benchmarks import compare_with_benchmarks
from scoring.config import GROUP_ORDER, Corrections, ScoringConfig, UnitInfo, WaveResult
from scoring.index import categorize, composite_index, composite_moe, margin_of_error, needed_sample
from scoring.items import N_DIMS, score_responses
from scoring.quality import flag_responses, summarize_flags
from scoring.report import (
    DimensionScore,
    Exclusion,
    GroupResult,
    Report,
    ScopeResult,
    WaveComparison,
)
from scoring.suppression import suppress_small_cells
from surveys.model import DIMENSIONS, Dimension, Group, Questionnaire

__all__ = ["build_report", "compose_scope", "previous_comparison"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _CellStats:
    """Per-cell aggregates over valid respondents; cell c is row c of every array."""

    n: IntArray
    dim_mean: FloatArray  # (cells, 7), NaN where nobody scored the dimension
    dim_n: IntArray  # (cells, 7)
    score: FloatArray  # group score: weighted mean of the cell's dimension means
    sd: FloatArray  # sample SD (ddof=1) of respondents' group-level scores, NaN for n < 2


@dataclass(frozen=True, slots=True)
class _ExtraCounts:
    """Per group of one scope: counts beside the scores, and the target fixed at opening."""

    waiting: Sequence[int]
    excluded: Sequence[int]
    today: Sequence[int]
    targets: Sequence[int | None]


def _weighted_nanmean(values: FloatArray, weights: FloatArray) -> FloatArray:
    """Row-wise weighted mean over the non-NaN entries (NaN when a row has none)."""
    present = ~np.isnan(values)
    total_w = (present * weights).sum(axis=1)
    total = np.where(present, values, 0.0) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total_w > 0, total / total_w, np.nan)


def _cell_stats(
    codes: IntArray, n_cells: int, resp_dims: FloatArray, resp_score: FloatArray, w: FloatArray
) -> _CellStats:
    """Aggregate respondents (already filtered to valid ones) into cells by `codes`."""
    n = np.bincount(codes, minlength=n_cells)
    present = ~np.isnan(resp_dims)
    flat = (codes[:, None] * N_DIMS + np.arange(N_DIMS))[present]
    dim_n = np.bincount(flat, minlength=n_cells * N_DIMS).reshape(n_cells, N_DIMS)
    dim_sum = np.bincount(flat, weights=resp_dims[present], minlength=n_cells * N_DIMS)
    with np.errstate(invalid="ignore", divide="ignore"):
        dim_mean = np.where(dim_n > 0, dim_sum.reshape(n_cells, N_DIMS) / dim_n, np.nan)
        mean = np.bincount(codes, weights=resp_score, minlength=n_cells) / n
        ss = np.bincount(codes, weights=(resp_score - mean[codes]) ** 2, minlength=n_cells)
        sd = np.where(n >= 2, np.sqrt(ss / (n - 1)), np.nan)
    # Means of 0-100 scores are 0-100; clip away the last-bit rounding of weighted means.
    score = np.clip(_weighted_nanmean(dim_mean, w), 0.0, 100.0)
    return _CellStats(n.astype(np.int64), dim_mean, dim_n.astype(np.int64), score, sd)


def _population(
    unit: UnitInfo, group: Group, roster_sizes: Mapping[str, Mapping[Group, int]]
) -> int | None:
    """Return the size of `unit`'s population for `group`, when known."""
    explicit = roster_sizes.get(unit.code, {}).get(group)
    return explicit if explicit is not None else unit.population(group)


def _cells(
    stats: _CellStats,
    row: int,
    populations: Sequence[int | None],
    dims_of: Mapping[Group, tuple[Dimension, ...]],
    config: ScoringConfig,
    minimum: int,
    applicable: Sequence[bool],
    counts: _ExtraCounts,
) -> tuple[GroupResult, ...]:
    """Build the three raw (unsuppressed) group results of one scope."""
    out = []
    for gi, group in enumerate(GROUP_ORDER):
        c = row * len(GROUP_ORDER) + gi
        n, population = int(stats.n[c]), populations[gi]
        submitted = n + counts.waiting[gi]
        sd = float(stats.sd[c])
        # A small cell's spread is a statistic of that cell: targets then use the prior σ.
        observed = sd if n >= max(2, config.min_cell_size) else None
        fixed = counts.targets[gi]
        if fixed is not None:  # fixed when the wave opened (services/targets.py)
            needed = fixed
        elif applicable[gi]:
            needed = needed_sample(observed, population, sampling=config.sampling, minimum=minimum)
        else:
            needed = 0
        score = float(stats.score[c]) if n > 0 and not math.isnan(stats.score[c]) else None
        moe = margin_of_error(sd, n, population, z=config.sampling.z) if score is not None else None
        dims = tuple(
            DimensionScore(
                d,
                None if math.isnan(stats.dim_mean[c, di]) else float(stats.dim_mean[c, di]),
                int(stats.dim_n[c, di]),
            )
            for d in dims_of.get(group, ())
            for di in (DIMENSIONS.index(d),)
        )
        out.append(
            GroupResult(
                group,
                n,
                score,
                moe,
                needed,
                max(0, needed - submitted),
                population,
                False,
                dims,
                counts.waiting[gi],
                counts.excluded[gi],
                counts.today[gi],
            )
        )
    return tuple(out)


def _combined_dimensions(
    cells: Sequence[GroupResult], config: ScoringConfig
) -> tuple[DimensionScore, ...]:
    """Combine shown group dimension scores with the group weights, renormalised per dimension."""
    out = []
    for d in DIMENSIONS:
        parts = [(c.group, s) for c in cells for s in c.dimensions if s.dimension is d]
        if not parts:
            continue
        shown = [(g, s) for g, s in parts if s.score is not None]
        total_w = sum(config.weights.of(g) for g, _ in shown)
        score = (
            sum(config.weights.of(g) * s.score for g, s in shown if s.score is not None) / total_w
            if shown and total_w > 0
            else None
        )
        out.append(DimensionScore(d, score, sum(s.n for _, s in shown)))
    return tuple(out)


def compose_scope(
    info: UnitInfo,
    cells: tuple[GroupResult, ...],
    config: ScoringConfig,
    corr: Corrections | None,
    *,
    institution: bool = False,
) -> ScopeResult:
    """Compose a scope's indices, category and combined dimensions from its (already
    suppressed) cells. `build_report` and the what-if (`scoring.whatif`) both use it."""
    shown = [c for c in cells if c.score is not None]
    deduction = corr.total if corr is not None else 0.0
    index = index_moe = partial = None
    if len(shown) == len(GROUP_ORDER):
        by = {c.group: c.score for c in shown if c.score is not None}
        index = composite_index(
            by[Group.INTERNAL],
            by[Group.EXTERNAL],
            by[Group.EXPERT],
            correction_integrity=corr.integrity if corr else 0.0,
            correction_prevalence=corr.prevalence if corr else 0.0,
            weights=config.weights,
        )
        index_moe = composite_moe({c.group: c.moe for c in cells}, config.weights)
        partial = index
    elif shown:
        total_w = sum(config.weights.of(c.group) for c in shown)
        if total_w > 0:
            weighted = sum(config.weights.of(c.group) * (c.score or 0.0) for c in shown)
            partial = weighted / total_w - deduction
    return ScopeResult(
        code=None if institution else info.code,
        name=info.name,
        kind=info.kind,
        parent_code=info.parent_code,
        serves_public=info.serves_public,
        groups=cells,
        index=index,
        index_moe=index_moe,
        partial_index=partial,
        groups_included=tuple(c.group for c in shown),
        category=categorize(index, config.thresholds) if index is not None else None,
        dimensions=_combined_dimensions(cells, config),
        suppressed=any(c.suppressed for c in cells),
        corrections=corr,
    )


def previous_comparison(
    index: float | None, cells: Sequence[GroupResult], wave: str, history: Sequence[WaveResult]
) -> WaveComparison | None:
    """Compare with the latest earlier wave in `history` (given oldest first)."""
    earlier = [h for h in history if h.wave != wave]
    if not earlier:
        return None
    prev = earlier[-1]
    deltas: dict[Group, float | None] = {}
    for c in cells:
        before = prev.group_scores.get(c.group)
        deltas[c.group] = None if c.score is None or before is None else c.score - before
    delta = None if index is None or prev.index is None else index - prev.index
    return WaveComparison(prev.wave, prev.index, delta, MappingProxyType(deltas))


def build_report(
    answers: pd.DataFrame,
    questionnaires: Mapping[Group, Questionnaire],
    config: ScoringConfig,
    *,
    wave: str,
    wave_open: bool,
    units: Sequence[UnitInfo],
    corrections: Corrections | None = None,
    history: Sequence[WaveResult] = (),
    roster_sizes: Mapping[str, Mapping[Group, int]] | None = None,
    institution_name: str = "",
    waiting: Mapping[tuple[str, Group], int] | None = None,
    waiting_today: Mapping[tuple[str, Group], int] | None = None,
    targets: Mapping[tuple[str | None, Group], int] | None = None,
    year: int | None = None,
    exclusions: Sequence[Exclusion] = (),
    excluded_responses: Collection[str] = (),
) -> Report:
    """Score a wave's submitted answers into a `Report` (docs/scoring.md has every rule).

    `roster_sizes[unit_code][group]` is a group's population in a unit (e.g. the expert list);
    without it a group falls back to `UnitInfo.population(group)`. `history` is oldest first.
    `waiting[(unit_code, group)]` counts submitted responses a provisional result does not show
    yet (`scoring.provisional`): they count towards targets, never towards a score;
    `waiting_today` says how many of them arrived today. `targets[(unit_code, group)]` (None
    for the institution) are the needed samples fixed when the wave opened; a cell without
    one gets the computed target. `year` is the wave's year (it picks the RPJMN target);
    `exclusions` are the inspectorate's, carried as they are, and `excluded_responses` the
    ids of the responses they leave out: out of every score, counted in `excluded` like the
    quality rules' (quality flags are still computed on every response, as before).
    """
    rosters = roster_sizes or {}
    fixed = dict(targets or {})
    late = {(str(u), Group(g)): int(v) for (u, g), v in (waiting or {}).items() if v}
    late_today = {(str(u), Group(g)): int(v) for (u, g), v in (waiting_today or {}).items() if v}
    corr = corrections or Corrections()
    scored = score_responses(answers, questionnaires)
    flags = flag_responses(scored, config.quality)
    excluded, quality = summarize_flags(flags, config.quality, len(scored))
    if excluded_responses:
        inspected = np.isin(scored.response_ids.astype(str), np.array(list(excluded_responses)))
        quality = replace(quality, by_inspectorate=int(inspected.sum()))
        excluded = excluded | inspected

    w = np.array([config.dimension_weight(d) for d in DIMENSIONS], dtype=np.float64)
    resp_dims = scored.dimension_scores()
    resp_score = _weighted_nanmean(resp_dims, w)
    valid = ~excluded & ~np.isnan(resp_score) & (scored.group >= 0)
    if (scored.group < 0).any():
        ignored = int((scored.group < 0).sum())
        logger.warning("ignoring %d responses of groups without a questionnaire", ignored)

    infos = {u.code: u for u in units}
    for code in sorted(set(scored.unit) - set(infos)):
        logger.warning("responses for unit %r, which is not in the unit list", code)
        infos[code] = UnitInfo(code=code, name=code, kind="unknown")
    codes = list(infos)
    unit_of = pd.Index(codes).get_indexer(pd.Index(scored.unit[valid]))
    group_of = scored.group[valid]
    n_groups = len(GROUP_ORDER)
    dims_v, score_v = resp_dims[valid], resp_score[valid]
    unit_stats = _cell_stats(
        unit_of * n_groups + group_of, len(codes) * n_groups, dims_v, score_v, w
    )
    inst_stats = _cell_stats(group_of, n_groups, dims_v, score_v, w)
    # Responses the quality rules left out, per cell: a hidden cell can say why.
    out_mask = excluded & (scored.group >= 0)
    out_units = pd.Index(codes).get_indexer(pd.Index(scored.unit[out_mask]))
    out_groups = scored.group[out_mask]
    unit_out = np.bincount(out_units * n_groups + out_groups, minlength=len(codes) * n_groups)
    inst_out = np.bincount(out_groups, minlength=n_groups)

    dims_of = {g: q.dimensions for g, q in questionnaires.items()}
    raw: dict[str | None, tuple[GroupResult, ...]] = {}
    unit_pops: dict[str, list[int | None]] = {}
    for row, code in enumerate(codes):
        info = infos[code]
        pops = [_population(info, g, rosters) for g in GROUP_ORDER]
        unit_pops[code] = pops
        applicable = [g is not Group.EXTERNAL or info.serves_public for g in GROUP_ORDER]
        minimum = config.min_cell_size
        counts = _ExtraCounts(
            waiting=[late.get((code, g), 0) for g in GROUP_ORDER],
            excluded=[int(unit_out[row * n_groups + gi]) for gi in range(n_groups)],
            today=[late_today.get((code, g), 0) for g in GROUP_ORDER],
            targets=[fixed.get((code, g)) for g in GROUP_ORDER],
        )
        raw[code] = _cells(unit_stats, row, pops, dims_of, config, minimum, applicable, counts)
    # The institution's population is known only when every unit's is.
    inst_pops: list[int | None] = []
    for gi in range(n_groups):
        known = [p[gi] for p in unit_pops.values()]
        inst_pops.append(sum(p for p in known if p is not None) if None not in known else None)
    minimum = config.sampling.institution_minimum
    inst_counts = _ExtraCounts(
        waiting=[sum(v for (_, g), v in late.items() if g is group) for group in GROUP_ORDER],
        excluded=[int(v) for v in inst_out],
        today=[sum(v for (_, g), v in late_today.items() if g is group) for group in GROUP_ORDER],
        targets=[fixed.get((None, g)) for g in GROUP_ORDER],
    )
    raw[None] = _cells(
        inst_stats, 0, inst_pops, dims_of, config, minimum, [True] * n_groups, inst_counts
    )

    cells = suppress_small_cells(raw, config.min_cell_size)

    inst_info = UnitInfo(code="", name=institution_name, kind="institution")
    institution = compose_scope(inst_info, cells[None], config, corr, institution=True)
    institution = _with_comparisons(institution, config, wave, history, year)
    unit_results = tuple(compose_scope(infos[c], cells[c], config, None) for c in codes)
    return Report(
        wave,
        wave_open,
        institution,
        unit_results,
        quality,
        config,
        year=year,
        exclusions=tuple(exclusions),
    )


def _with_comparisons(
    scope: ScopeResult,
    config: ScoringConfig,
    wave: str,
    history: Sequence[WaveResult],
    year: int | None,
) -> ScopeResult:
    """Add benchmarks and the previous-wave comparison to the institution's result."""
    return replace(
        scope,
        benchmarks=compare_with_benchmarks(
            scope.index, level=config.level, year=config.benchmark_year, target_year=year
        ),
        previous=previous_comparison(scope.index, scope.groups, wave, history),
    )
