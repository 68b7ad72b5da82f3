"""Charts of a scoring `Report`: six phone-sized PNGs (1080 px wide), in Indonesian or English.

Pure like the rest of `scoring`: a `Report` (and a language) in, PNG bytes out. Matplotlib's
object API on an Agg canvas only, never pyplot, so rendering is safe off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from scoring.charts.dimensions import dimensions_chart
from scoring.charts.groups import groups_chart
from scoring.charts.index_card import index_chart
from scoring.charts.progress import progress_chart
from scoring.charts.ranking import ranking_chart
from scoring.charts.trend import trend_chart
from scoring.config import WaveResult
from scoring.report import Report

__all__ = [
    "CHART_NAMES",
    "dimensions_chart",
    "groups_chart",
    "index_chart",
    "progress_chart",
    "ranking_chart",
    "render_pack",
    "trend_chart",
]

# The pack's keys, in the order the charts are meant to be read.
CHART_NAMES: Final = ("index", "groups", "dimensions", "ranking", "trend", "progress")


def render_pack(
    report: Report, language: str = "id", history: Sequence[WaveResult] = ()
) -> dict[str, bytes]:
    """Render all six charts, keyed by CHART_NAMES; `history` feeds the trend (oldest first)."""
    renderers: dict[str, Callable[[], bytes]] = {
        "index": lambda: index_chart(report, language),
        "groups": lambda: groups_chart(report, language),
        "dimensions": lambda: dimensions_chart(report, language),
        "ranking": lambda: ranking_chart(report, language),
        "trend": lambda: trend_chart(report, language, history),
        "progress": lambda: progress_chart(report, language),
    }
    return {name: renderers[name]() for name in CHART_NAMES}
