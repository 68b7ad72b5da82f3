"""Charts of a report bundle, each with its caption, ready to send.

Matplotlib is imported lazily: it is heavy and `spibot score` never draws. Drawing is CPU-bound:
call these off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import gc
from typing import Final

from services.reports.bundle import ReportBundle
from services.reports.texts import (
    CAPTION_LIMIT,
    dimensions_text,
    groups_text,
    progress_text,
    ranking_text,
    score_text,
    trend_text,
)

__all__ = ["UNIT_PACK", "captions", "render_chart", "report_pack", "unit_pack"]

# -- charts ---------------------------------------------------------------------------------


def render_chart(
    bundle: ReportBundle, name: str, language: str, unit_code: str | None = None
) -> bytes:
    """Draw one chart of the pack ("index", "groups", "dimensions", "ranking", "trend",
    "progress"); the first three and the trend can show one unit. CPU-bound: call it off the
    event loop."""
    from scoring import charts

    history = bundle.history_of(unit_code)
    png = charts.render(name, bundle.report, language, unit_code, history, bundle.published)
    _collect_drawings()
    return png


def report_pack(bundle: ReportBundle, language: str) -> list[tuple[str, bytes, str]]:
    """Return the full pack: (chart name, PNG, caption ≤ 1024 characters), in reading order.

    CPU-bound (six matplotlib drawings): call it off the event loop (`asyncio.to_thread`).
    """
    from scoring.charts import CHART_NAMES, render_pack

    pngs = render_pack(bundle.report, language, bundle.history, bundle.published)
    _collect_drawings()
    texts = captions(bundle, language)
    return [(name, pngs[name], texts[name]) for name in CHART_NAMES]


UNIT_PACK: Final = ("index", "groups", "dimensions", "trend")


def unit_pack(bundle: ReportBundle, language: str, unit_code: str) -> list[tuple[str, bytes, str]]:
    """Return one unit's pack for its head (`UNIT_PACK`: the charts that show one unit; the
    ranking and progress charts show every unit). CPU-bound: call it off the event loop."""
    texts = {
        "index": score_text(bundle, language, unit_code),
        "groups": groups_text(bundle, language, unit_code),
        "dimensions": dimensions_text(bundle, language, unit_code),
        "trend": trend_text(bundle, language, unit_code),
    }
    return [
        (name, render_chart(bundle, name, language, unit_code), texts[name]) for name in UNIT_PACK
    ]


def _collect_drawings() -> None:
    """Free the figures just drawn now, rather than at some later full garbage collection.

    A matplotlib figure and its canvas refer to each other, so each drawing (with its ~6 MB
    pixel buffer) is freed only by a full collection, which a long-running bot makes rare on
    purpose (bot/runner.py: tune_gc). Without this the bot grew by ~25 MB with each chart
    pack until one came; with it, it stays near 210 MB on a 100,000-answer wave
    (docs/benchmarks.md: memory). ~45 ms of CPU, in the drawing's worker thread.
    """
    gc.collect()


def captions(bundle: ReportBundle, language: str, *, limit: int = CAPTION_LIMIT) -> dict[str, str]:
    """Return each chart's text, keyed by chart name (the ranking cut to `limit`)."""
    return {
        "index": score_text(bundle, language),
        "groups": groups_text(bundle, language),
        "dimensions": dimensions_text(bundle, language),
        "ranking": ranking_text(bundle, language, limit=limit),
        "trend": trend_text(bundle, language),
        "progress": progress_text(bundle, language),
    }
