"""Paradata kept as coarse bands: how long a survey took, how fast items were answered.

A submitted response never keeps an exact duration or time (issue 20): an exact number of
seconds, next to a session seen in a copy of the database taken while someone answered, would
let whoever holds both match the two. What the quality rules need survives as bands: the
survey's duration, and its pace (seconds per answered item, which skip logic cannot distort).
Per item, only a histogram of seconds is kept, summed over everyone (`storage.paradata`).

Edges are in seconds and only grow; a value on an edge belongs to the band above it. Pace
bands double from one to the next, so "two bands faster than the group's median band" means
at least about twice as fast as the median (see `scoring.quality`). Changing an edge changes
what stored bands mean: it needs a migration that recomputes nothing (the seconds are gone)
and a note in docs/scoring.md.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

__all__ = [
    "DURATION_EDGES",
    "ITEM_SECONDS_EDGES",
    "PACE_EDGES",
    "band_label",
    "duration_band",
    "item_seconds_band",
    "pace_band",
]

# Whole survey, seconds: <1 min, 1-3, 3-5, 5-10, 10-15, 15-30, 30-60 min, an hour or more
# (KPK's SPI takes 5-15 minutes; a survey resumed after a reminder lands in the last band).
DURATION_EDGES: Final = (60, 180, 300, 600, 900, 1800, 3600)
# Seconds per answered item: <1, 1-2, 2-4, 4-8, 8-16, 16-32, 32-64, 64 or more.
PACE_EDGES: Final = (1, 2, 4, 8, 16, 32, 64)
# Seconds on one item (its histogram in item_paradata): <3, 3-10, 10-30, 30-120, 120 or more.
ITEM_SECONDS_EDGES: Final = (3, 10, 30, 120)


def _band(value: float, edges: tuple[int, ...]) -> int:
    if value < 0:
        raise ValueError("a duration cannot be negative")
    return bisect_right(edges, value)


def duration_band(seconds: float) -> int:
    """Return the band (0 = fastest) of a survey that took `seconds`."""
    return _band(seconds, DURATION_EDGES)


def pace_band(seconds: float, answered: int) -> int | None:
    """Return the pace band of `seconds` spent on `answered` items; None without answers."""
    if answered <= 0:
        return None
    return _band(seconds / answered, PACE_EDGES)


def item_seconds_band(seconds: float) -> int:
    """Return the histogram band of the seconds someone spent on one item."""
    return _band(seconds, ITEM_SECONDS_EDGES)


def band_label(band: int, edges: tuple[int, ...]) -> str:
    """Return a band as a range in seconds, e.g. "60-180" or "3600+" (for exports and docs)."""
    if not 0 <= band <= len(edges):
        raise ValueError(f"no band {band} with {len(edges)} edges")
    if band == len(edges):
        return f"{edges[-1]}+"
    low = 0 if band == 0 else edges[band - 1]
    return f"{low}-{edges[band]}"
