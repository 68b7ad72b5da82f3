"""Scoring: answers → item → dimension → group → SPI index, with quality flags and suppression.

Pure pandas/numpy: no telegram, no database, no clock. docs/scoring.md explains every rule.
"""

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
)
from scoring.index import (
    CATEGORIES,
    Category,
    categorize,
    composite_index,
    composite_moe,
    margin_of_error,
    needed_sample,
)
from scoring.quality import QualitySummary
from scoring.report import DimensionScore, GroupResult, Report, ScopeResult, WaveComparison
from scoring.suppression import suppress_small_cells

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
    "build_report",
    "categorize",
    "compare_with_benchmarks",
    "composite_index",
    "composite_moe",
    "margin_of_error",
    "needed_sample",
    "suppress_small_cells",
]
