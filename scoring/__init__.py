"""Scoring: answers → item → dimension → group → SPI index, with quality flags and suppression.

Pure pandas/numpy: no telegram, no database, no clock. docs/scoring.md explains every rule.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from scoring.benchmarks import BenchmarkComparison, compare_with_benchmarks
    from scoring.build import build_report
    from scoring.columns import ANSWER_COLUMNS
    from scoring.config import (
        GROUP_ORDER,
        CategoryThresholds,
        Corrections,
        GroupWeights,
        QualityConfig,
        QualityRule,
        SamplingConfig,
        ScoringConfig,
        UnitInfo,
        WaveResult,
        YearRules,
        rules_for_year,
    )
    from scoring.index import (
        CATEGORIES,
        Category,
        categories_of,
        categorize,
        composite_index,
        composite_moe,
        margin_of_error,
        needed_sample,
    )
    from scoring.peers import PublishedResult, YearStanding, find_institution, standings
    from scoring.quality import QualitySummary
    from scoring.report import DimensionScore, GroupResult, Report, ScopeResult, WaveComparison
    from scoring.suppression import suppress_small_cells

# Where each name lives. `import scoring` loads none of them: `from scoring import Report`
# loads scoring.report alone, and pandas arrives only with what computes (build_report and
# friends), not when the bot starts (docs/benchmarks.md: memory).
_HOME: Final = {
    "ANSWER_COLUMNS": "scoring.columns",
    "BenchmarkComparison": "scoring.benchmarks",
    "CATEGORIES": "scoring.index",
    "Category": "scoring.index",
    "CategoryThresholds": "scoring.config",
    "Corrections": "scoring.config",
    "DimensionScore": "scoring.report",
    "GROUP_ORDER": "scoring.config",
    "GroupResult": "scoring.report",
    "GroupWeights": "scoring.config",
    "PublishedResult": "scoring.peers",
    "QualityConfig": "scoring.config",
    "QualityRule": "scoring.config",
    "QualitySummary": "scoring.quality",
    "Report": "scoring.report",
    "SamplingConfig": "scoring.config",
    "ScopeResult": "scoring.report",
    "ScoringConfig": "scoring.config",
    "UnitInfo": "scoring.config",
    "WaveComparison": "scoring.report",
    "WaveResult": "scoring.config",
    "YearRules": "scoring.config",
    "YearStanding": "scoring.peers",
    "build_report": "scoring.build",
    "categories_of": "scoring.index",
    "categorize": "scoring.index",
    "compare_with_benchmarks": "scoring.benchmarks",
    "composite_index": "scoring.index",
    "composite_moe": "scoring.index",
    "find_institution": "scoring.peers",
    "margin_of_error": "scoring.index",
    "needed_sample": "scoring.index",
    "rules_for_year": "scoring.config",
    "standings": "scoring.peers",
    "suppress_small_cells": "scoring.suppression",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'scoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once: later lookups no longer come here
    return value


__all__ = [
    "ANSWER_COLUMNS",
    "CATEGORIES",
    "GROUP_ORDER",
    "BenchmarkComparison",
    "Category",
    "CategoryThresholds",
    "Corrections",
    "DimensionScore",
    "GroupResult",
    "GroupWeights",
    "PublishedResult",
    "QualityConfig",
    "QualityRule",
    "QualitySummary",
    "Report",
    "SamplingConfig",
    "ScopeResult",
    "ScoringConfig",
    "UnitInfo",
    "WaveComparison",
    "WaveResult",
    "YearRules",
    "YearStanding",
    "build_report",
    "categories_of",
    "categorize",
    "compare_with_benchmarks",
    "composite_index",
    "composite_moe",
    "find_institution",
    "margin_of_error",
    "needed_sample",
    "rules_for_year",
    "standings",
    "suppress_small_cells",
]
