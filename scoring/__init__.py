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
