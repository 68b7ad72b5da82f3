"""Survey-integrity signals per unit × group: bursts, uniform answers, rushing, contradictions.

Pure pandas. The data-quality rules (`scoring.quality`) judge single responses; these look at a
unit's group as a whole, for the pattern of coached answers ("pengarahan"): many arriving in
one short window, all nearly the same and all ideal, read too fast to have been read, or
saying two things that cannot both be true. Each signal names the responses it touches, and
the inspectorate decides whether to leave them out (`services.integrity`).

What they read: the released answers (`services.release`), with each response's completion
day and pace band, and the submissions counted per unit, group and clock hour (`arrivals`),
never a time per response. A burst is therefore seen in hours and its responses are those of
its day. A cell (unit × group) is looked at only with at least k responses, and a signal
says nothing unless it touches at least k of them, so no signal, count or evidence is about
fewer than k people. docs/scoring.md §11 has every rule and its thresholds (IntegrityConfig).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import numpy as np
import pandas as pd

from scoring.config import GROUP_ORDER, IntegrityConfig
from scoring.integrity_signals import (
    ARRIVAL_COLUMNS,
    BurstEvidence,
    CellSignals,
    ContradictionEvidence,
    Evidence,
    Findings,
    RushingEvidence,
    Signal,
    SignalKind,
    UniformEvidence,
)
from scoring.items import score_responses
from scoring.paradata import PACE_EDGES
from surveys.model import ConsistencyPair, Group, Questionnaire

__all__ = [
    "ARRIVAL_COLUMNS",
    "BurstEvidence",
    "CellSignals",
    "ContradictionEvidence",
    "Evidence",
    "Findings",
    "RushingEvidence",
    "Signal",
    "SignalKind",
    "UniformEvidence",
    "find_signals",
]

_IDEAL = 100.0


# -- per response -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Responses:
    """One row per response (index: response id) with what the signals read of it."""

    table: pd.DataFrame  # unit, grp, day, pace, score, items, agree, ideal, contradictions


def _item_scores(answers: pd.DataFrame, questionnaires: Mapping[Group, Questionnaire]) -> pd.Series:
    """Score every answer once per distinct (group, question, value); NaN when unscored."""
    keys = answers[["grp", "question_id", "value"]].astype(str).drop_duplicates()
    by_group = {g.value: {q.id: q for q in qn.questions} for g, qn in questionnaires.items()}
    scores: dict[tuple[str, str, str], float] = {}
    for grp, qid, value in keys.itertuples(index=False):
        question = by_group.get(grp, {}).get(qid)
        score = None if question is None else question.item_score(value)
        scores[(grp, qid, value)] = math.nan if score is None else score
    index = pd.MultiIndex.from_frame(answers[["grp", "question_id", "value"]].astype(str))
    return pd.Series(index.map(scores.get), index=answers.index, dtype=float)


def _agreement(scored: pd.DataFrame) -> pd.DataFrame:
    """Per response: scored items, items equal to its cell's most common answer, ideal ones."""
    sizes = scored.groupby(["unit_code", "grp", "question_id", "value"], observed=True).size()
    counts = sizes[sizes > 0].reset_index(name="times")
    counts = counts.sort_values(
        ["unit_code", "grp", "question_id", "times", "value"], ascending=[True] * 3 + [False, True]
    )
    mode = counts.drop_duplicates(["unit_code", "grp", "question_id"])[
        ["unit_code", "grp", "question_id", "value"]
    ].rename(columns={"value": "mode"})
    merged = scored.merge(mode, on=["unit_code", "grp", "question_id"], how="left")
    merged["agree"] = merged["value"] == merged["mode"]
    merged["ideal"] = merged["score"] >= _IDEAL
    return merged.groupby("response_id", observed=True).agg(
        items=("value", "size"), agree=("agree", "sum"), ideal=("ideal", "sum")
    )


def _contradictions(
    answers: pd.DataFrame, questionnaires: Mapping[Group, Questionnaire]
) -> pd.DataFrame:
    """Per response: how many pairs it contradicts, and which (a column per pair id)."""
    out: dict[str, pd.Series] = {}
    for group, questionnaire in questionnaires.items():
        if not questionnaire.consistency:
            continue
        read = {
            q
            for p in questionnaire.consistency
            for s in (p.first, p.second)
            for q in s.references()
        }
        rows = answers[(answers["grp"] == group.value) & answers["question_id"].isin(read)]
        wide = rows.pivot_table(
            index="response_id",
            columns="question_id",
            values="value",
            aggfunc="first",
            observed=True,
        )
        given = wide.astype(object).where(wide.notna(), "")
        records = given.to_dict("index")
        for pair in questionnaire.consistency:
            hit = pd.Series(
                [
                    pair.contradicted_by({str(k): str(v) for k, v in r.items()})
                    for r in records.values()
                ],
                index=given.index,
                dtype=bool,
            )
            out[f"{group.value}:{pair.id}"] = hit
    return pd.DataFrame(out)


def _responses(
    answers: pd.DataFrame, questionnaires: Mapping[Group, Questionnaire]
) -> pd.DataFrame:
    per = answers.drop_duplicates("response_id").set_index("response_id")
    table = pd.DataFrame(
        {
            "unit": per["unit_code"].astype(str),
            "grp": per["grp"].astype(str),
            "day": pd.to_datetime(per["completed_on"]).dt.date,
            "pace": pd.to_numeric(per["pace_band"], errors="coerce").astype(float),
        }
    )
    scored_responses = score_responses(answers, questionnaires)
    with np.errstate(invalid="ignore"):
        respondent = np.nanmean(scored_responses.dimension_scores(), axis=1)
    table["score"] = pd.Series(respondent, index=scored_responses.response_ids).reindex(table.index)
    work = answers[["response_id", "grp", "unit_code", "question_id", "value"]].copy()
    work["question_id"] = work["question_id"].astype(str)
    work["value"] = work["value"].astype(str)
    work["score"] = _item_scores(work, questionnaires)
    scored = work[work["score"].notna()]
    table = table.join(_agreement(scored)).fillna({"items": 0, "agree": 0, "ideal": 0})
    return table.join(_contradictions(work, questionnaires))


# -- the four signals -------------------------------------------------------------------------


def _binomial_tail(x: int, n: int, p: float) -> float:
    """Return P(X ≥ x) for X ~ Binomial(n, p)."""
    if x <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * log_p
        + (n - i) * log_q
        for i in range(x, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


@dataclass(frozen=True)
class _Hours:
    """A group's submissions per unit and clock hour (local, naive), and over all units."""

    by_unit: Mapping[str, Mapping[datetime, int]]
    total: Mapping[datetime, int]
    span: float  # hours from the group's first to its last arrival, at least a day


def _hours(arrivals: pd.DataFrame) -> dict[str, _Hours]:
    out: dict[str, _Hours] = {}
    for grp, rows in arrivals.groupby("grp"):
        by_unit: dict[str, dict[datetime, int]] = {}
        total: dict[datetime, int] = {}
        for unit, hour, count in zip(rows["unit_code"], rows["hour"], rows["count"], strict=True):
            moment = pd.Timestamp(hour).to_pydatetime()
            mine = by_unit.setdefault(str(unit), {})
            mine[moment] = mine.get(moment, 0) + int(count)
            total[moment] = total.get(moment, 0) + int(count)
        span = (max(total) - min(total)).total_seconds() / 3600 + 1 if total else 0.0
        out[str(grp)] = _Hours(by_unit, total, max(24.0, span))
    return out


def _burst(
    unit: str, cell: pd.DataFrame, hours: _Hours | None, config: IntegrityConfig, k: int
) -> Signal | None:
    """The busiest short window of the cell against the group's other units in those hours."""
    mine = hours.by_unit.get(unit, {}) if hours is not None else {}
    total = sum(mine.values())
    if hours is None or total < k:
        return None
    others_total = sum(hours.total.values()) - total
    windows: list[tuple[datetime, int, int, float]] = []
    for start in sorted(mine):
        arrived = theirs = 0
        for length in range(1, config.burst_max_hours + 1):
            hour = start + timedelta(hours=length - 1)
            if hour.date() != start.date():
                break  # a window stays within one day: its responses are that day's
            arrived += mine.get(hour, 0)
            theirs += hours.total.get(hour, 0) - mine.get(hour, 0)
            # One pseudo-response spread evenly over the wave: never a share of zero.
            usual = (theirs + length / hours.span) / (others_total + 1)
            windows.append((start, length, arrived, usual))
    tests = len(windows)
    best: tuple[float, int, datetime, int, float] | None = None
    for start, length, arrived, usual in windows:
        share = arrived / total
        if arrived < k or share < config.burst_min_share or share < config.burst_ratio * usual:
            continue
        p_value = _binomial_tail(arrived, total, usual) * tests
        if p_value >= config.burst_alpha:
            continue
        candidate = (p_value, length, start, arrived, usual)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    if best is None:
        return None
    _, length, start, arrived, usual = best
    day_set = frozenset(cell.index[cell["day"] == start.date()].astype(str))
    if len(day_set) < k:
        return None  # the day's responses are mostly excluded already
    evidence = BurstEvidence(arrived, total, start, length, min(1.0, usual), len(day_set))
    return Signal(SignalKind.BURST, day_set, evidence)


def _pooled_ideal(rows: pd.DataFrame) -> float | None:
    items = float(rows["items"].sum())
    return None if items == 0 else float(rows["ideal"].sum()) / items


def _uniform(
    cell: pd.DataFrame,
    other_units: pd.DataFrame,
    other_groups: pd.DataFrame,
    other_spreads: Sequence[float],
    config: IntegrityConfig,
    k: int,
) -> Signal | None:
    """Near-identical answers that are mostly ideal, more so than the others'."""
    answered = cell["items"] >= config.uniform_min_items
    agreement = cell["agree"] / cell["items"].where(cell["items"] > 0)
    similar = cell.index[answered & (agreement >= config.uniform_agreement)]
    if len(similar) < max(k, config.uniform_min_share * len(cell)):
        return None
    ideal = _pooled_ideal(cell)
    vs_units, vs_groups = _pooled_ideal(other_units), _pooled_ideal(other_groups)
    if ideal is None or vs_units is None:
        return None  # nothing to compare with: near-identical alone is not enough
    margin = config.uniform_ideal_margin
    if ideal < vs_units + margin or (vs_groups is not None and ideal < vs_groups + margin):
        return None
    scores = cell.loc[similar, "score"].dropna()
    spread = float(scores.std(ddof=1)) if len(scores) >= 2 else None
    usual_spread = float(np.median(other_spreads)) if other_spreads else None
    evidence = UniformEvidence(
        len(similar),
        len(cell),
        config.uniform_agreement,
        ideal,
        vs_groups,
        vs_units,
        spread,
        usual_spread,
    )
    return Signal(SignalKind.UNIFORM, frozenset(similar.astype(str)), evidence)


def _rushing(cell: pd.DataFrame, config: IntegrityConfig, k: int) -> Signal | None:
    """Responses whose pace band lies wholly under the reading-time floor."""
    floor_band = PACE_EDGES.index(config.rushing_floor_seconds) + 1
    fast = cell.index[cell["pace"] < floor_band]  # NaN (unknown pace) compares False
    if len(fast) < k or len(fast) < config.rushing_min_share * len(cell):
        return None
    evidence = RushingEvidence(len(fast), len(cell), config.rushing_floor_seconds)
    return Signal(SignalKind.RUSHING, frozenset(fast.astype(str)), evidence)


def _contradiction(
    cell: pd.DataFrame,
    other_units: pd.DataFrame,
    pairs: Sequence[tuple[str, ConsistencyPair]],
    config: IntegrityConfig,
    k: int,
) -> Signal | None:
    """Responses that give both answers of a consistency pair, far more than elsewhere."""
    columns = [column for column, _ in pairs if column in cell.columns]
    if not columns:
        return None
    hits = cell[columns].fillna(False).astype(bool)
    any_hit = hits.any(axis=1)
    found = cell.index[any_hit]
    if len(found) < k or len(found) < config.contradiction_min_share * len(cell):
        return None
    usual = None
    if len(other_units):
        usual = float(other_units[columns].fillna(False).astype(bool).any(axis=1).mean())
        if len(found) / len(cell) < config.contradiction_ratio * usual:
            return None
    counted = tuple(
        (pair, int(hits[column].sum())) for column, pair in pairs if column in hits.columns
    )
    evidence = ContradictionEvidence(
        len(found), len(cell), usual, tuple(c for c in counted if c[1] > 0)
    )
    return Signal(SignalKind.CONTRADICTION, frozenset(found.astype(str)), evidence)


# -- all cells --------------------------------------------------------------------------------


def _pairs(series: pd.Series) -> list[tuple[tuple[object, object], int]]:
    """Return a two-level Series' items with their keys as pairs (for the type checker)."""
    return [(cast(tuple[object, object], key), int(value)) for key, value in series.items()]


def find_signals(
    answers: pd.DataFrame,
    arrivals: pd.DataFrame,
    questionnaires: Mapping[Group, Questionnaire],
    config: IntegrityConfig,
    k: int,
) -> Findings:
    """Look at every unit × group with at least k responses (see the module docstring).

    `answers` is the scoring frame of the released responses the index uses (responses the
    inspectorate excluded already left out); `arrivals` (ARRIVAL_COLUMNS) the counts of the
    same released days. Comparisons with other cells use only cells of at least k.
    """
    if answers.empty:
        return Findings(())
    table = _responses(answers, questionnaires)
    sizes = table.groupby(["unit", "grp"]).size()
    shown = {(str(key[0]), str(key[1])) for key, n in _pairs(sizes) if n >= k}
    in_shown = pd.Series(
        [(u, g) in shown for u, g in zip(table["unit"], table["grp"], strict=True)],
        index=table.index,
    )
    big = table[in_shown]
    spreads = {
        cell: float(rows["score"].dropna().std(ddof=1))
        for cell, rows in big.groupby(["unit", "grp"])
        if rows["score"].notna().sum() >= 2
    }
    pairs = {
        g.value: [(f"{g.value}:{p.id}", p) for p in q.consistency]
        for g, q in questionnaires.items()
    }
    hours = _hours(arrivals)
    by_cell = {(str(u), str(g)): rows for (u, g), rows in big.groupby(["unit", "grp"])}
    by_group = {str(g): rows for g, rows in big.groupby("grp")}
    by_unit = {str(u): rows for u, rows in big.groupby("unit")}
    cells: list[CellSignals] = []
    for unit in sorted({u for u, _ in shown}):
        for group in GROUP_ORDER:
            if (unit, group.value) not in shown or group not in questionnaires:
                continue
            grp = group.value
            cell = by_cell[(unit, grp)]
            of_group, of_unit = by_group[grp], by_unit[unit]
            other_units = of_group[of_group["unit"] != unit]
            other_groups = of_unit[of_unit["grp"] != grp]
            other_spreads = [s for (u, g), s in spreads.items() if g == grp and u != unit]
            found = (
                _burst(unit, cell, hours.get(grp), config, k),
                _uniform(cell, other_units, other_groups, other_spreads, config, k),
                _rushing(cell, config, k),
                _contradiction(cell, other_units, pairs.get(grp, []), config, k),
            )
            signals = tuple(s for s in found if s is not None)
            cells.append(CellSignals(unit, group, len(cell), signals))
    return Findings(tuple(cells))
