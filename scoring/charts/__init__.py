"""Charts of a scoring `Report`: six phone-sized PNGs (1080 px wide), in Indonesian or English.

Pure like the rest of `scoring`: a `Report` (and a language) in, PNG bytes out. Matplotlib's
object API on an Agg canvas only, never pyplot, so rendering is safe off the event loop.
`CHARTS` is the one list of charts: every caller draws through `render` or `render_pack`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
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
    "CHARTS",
    "CHART_NAMES",
    "Chart",
    "dimensions_chart",
    "groups_chart",
    "index_chart",
    "progress_chart",
    "ranking_chart",
    "render",
    "render_pack",
    "trend_chart",
]

# (report, language, unit code or None, history oldest first, our KPK result per year) -> PNG
Renderer = Callable[[Report, str, str | None, Sequence[WaveResult], Mapping[int, float]], bytes]


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the pack: how to draw it and whether it can show a single unit."""

    draw: Renderer
    per_unit: bool


# The pack, in the order the charts are meant to be read.
CHARTS: Final[Mapping[str, Chart]] = MappingProxyType(
    {
        "index": Chart(lambda r, lang, unit, _h, _k: index_chart(r, lang, unit), per_unit=True),
        "groups": Chart(lambda r, lang, unit, _h, _k: groups_chart(r, lang, unit), per_unit=True),
        "dimensions": Chart(
            lambda r, lang, unit, _h, _k: dimensions_chart(r, lang, unit), per_unit=True
        ),
        "ranking": Chart(lambda r, lang, _u, _h, _k: ranking_chart(r, lang), per_unit=False),
        "trend": Chart(
            lambda r, lang, unit, history, kpk: trend_chart(r, lang, history, kpk, unit),
            per_unit=True,  # a unit's trend takes that unit's history
        ),
        "progress": Chart(lambda r, lang, _u, _h, _k: progress_chart(r, lang), per_unit=False),
    }
)
CHART_NAMES: Final = tuple(CHARTS)


def render(
    name: str,
    report: Report,
    language: str = "id",
    unit_code: str | None = None,
    history: Sequence[WaveResult] = (),
    published: Mapping[int, float] | None = None,
) -> bytes:
    """Render one chart of `CHARTS` as PNG; `history` (oldest first) and `published` (our
    KPK result per year) feed the trend.

    Raises ValueError for an unknown name, or a unit code for a chart of the whole institution.
    """
    chart = CHARTS.get(name)
    if chart is None:
        raise ValueError(f"unknown chart {name!r}; known: {', '.join(CHART_NAMES)}")
    if unit_code is not None and not chart.per_unit:
        raise ValueError(f"the {name} chart shows the whole institution, not one unit")
    return chart.draw(report, language, unit_code, history, published or {})


def render_pack(
    report: Report,
    language: str = "id",
    history: Sequence[WaveResult] = (),
    published: Mapping[int, float] | None = None,
) -> dict[str, bytes]:
    """Render every chart for the institution, keyed by name in reading order."""
    return {
        name: render(name, report, language, history=history, published=published)
        for name in CHARTS
    }
