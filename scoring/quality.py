"""Data-quality rules: straight-lining, speeders and clusters of identical answer vectors.

Each rule flags responses independently on the full set of responses; the rules listed in
`QualityConfig.exclude` then drop their flagged responses from every score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.config import QualityConfig, QualityRule
from scoring.items import ScoredResponses

__all__ = ["QualitySummary", "flag_responses", "summarize_flags"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class QualitySummary:
    """How many responses each rule flagged and excluded (one response may hit several rules)."""

    responses: int  # responses received, before any exclusion
    flagged: Mapping[QualityRule, int]  # per rule, whether or not the rule excludes
    excluded_by_rule: Mapping[QualityRule, int]  # per excluding rule
    excluded: int  # distinct responses excluded by any rule
    # Distinct responses the inspectorate excluded (issue 24; none of them counted above).
    by_inspectorate: int = 0


def _straight_lining(scored: ScoredResponses, config: QualityConfig) -> BoolArray:
    # The raw option, not the score: the same option on a reverse-keyed item is a
    # contradiction, which is exactly what makes straight-lining suspicious.
    return (scored.likert_answers >= config.straightline_min_items) & (scored.likert_distinct == 1)


def _speeders(scored: ScoredResponses, config: QualityConfig) -> BoolArray:
    # Pace is kept only as a band (scoring.paradata: each band twice as long per item as the
    # one below), never in seconds: flag a pace at least `speeder_bands_below` bands faster
    # than the group's median band, i.e. with two bands faster than about half the median.
    frame = pd.DataFrame({"group": scored.group, "pace": scored.pace_band})
    median = frame.groupby("group")["pace"].transform("median").to_numpy()
    with np.errstate(invalid="ignore"):
        # NaN (unknown pace, or a group without any) compares False: never flagged.
        flagged = scored.pace_band <= median - config.speeder_bands_below
    return np.asarray(flagged, dtype=bool)


def _clusters(scored: ScoredResponses, config: QualityConfig) -> BoolArray:
    frame = pd.DataFrame(
        {
            "unit": scored.unit,
            "group": scored.group,
            "h0": scored.vector_hash[:, 0],
            "h1": scored.vector_hash[:, 1],
        }
    )
    cell_size = frame.groupby(["unit", "group"])["h0"].transform("size").to_numpy()
    cluster_size = frame.groupby(["unit", "group", "h0", "h1"])["h0"].transform("size").to_numpy()
    return (
        (scored.vector_length >= config.cluster_min_answers)
        & (cluster_size >= config.cluster_min_size)
        & (cluster_size >= config.cluster_min_share * cell_size)
    )


def flag_responses(
    scored: ScoredResponses, config: QualityConfig
) -> Mapping[QualityRule, BoolArray]:
    """Return, per rule, a boolean array over responses: True where the rule flags it."""
    if len(scored) == 0:
        empty = np.zeros(0, dtype=bool)
        return MappingProxyType(dict.fromkeys(QualityRule, empty))
    return MappingProxyType(
        {
            QualityRule.STRAIGHT_LINING: _straight_lining(scored, config),
            QualityRule.SPEEDER: _speeders(scored, config),
            QualityRule.CLUSTER: _clusters(scored, config),
        }
    )


def summarize_flags(
    flags: Mapping[QualityRule, BoolArray], config: QualityConfig, n: int
) -> tuple[BoolArray, QualitySummary]:
    """Return the excluded-response mask and the counts per rule."""
    excluded = np.zeros(n, dtype=bool)
    for rule in config.exclude:
        excluded |= flags[rule]
    summary = QualitySummary(
        responses=n,
        flagged=MappingProxyType({r: int(flags[r].sum()) for r in QualityRule}),
        excluded_by_rule=MappingProxyType(
            {r: int(flags[r].sum()) for r in QualityRule if r in config.exclude}
        ),
        excluded=int(excluded.sum()),
    )
    return excluded, summary
