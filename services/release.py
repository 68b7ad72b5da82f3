"""The one release rule every official output of a wave passes: what it may read of the answers.

Scores, charts, pushes, `/saran`, `/ekspor`, `spibot export`, `spibot comments` (and whatever
comes next: the Mini App, the rakor PDF) read a wave's submitted answers only through
`released()`. A closed wave is released whole. An open wave is released in whole days before
today, in steps of at least k responses per unit × group (`scoring.provisional`), so reading
any output before and after one person submits tells nothing about that person: today's lone
response is in no score, no suggestion, no keyword count and no export row until a step of k
closes on an earlier day. `tests/test_release_gate.py` fails when a module other than this one
reads storage's answer frames, so a new output cannot forget the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING

import storage.exports
import storage.frames
import storage.waves
from services.context import Services
from storage.db import AsyncEngine
from surveys import Group

if TYPE_CHECKING:  # pandas loads with the first frame, not when the bot starts
    import pandas as pd

__all__ = ["Release", "released", "released_now", "today_for"]


@dataclass(frozen=True)
class Release:
    """What the outputs of a wave may read, as of a day.

    `answers` is the scoring frame (one row per answer) of the released responses;
    `responses` one row per released response (`storage.responses_frame`), when asked for;
    `waiting` the responses held back per unit × group and `waiting_today` those of them
    submitted today: counts of arrivals only, which `/progres` may show, never their answers.
    """

    wave: storage.waves.Wave
    as_of: date
    answers: pd.DataFrame
    responses: pd.DataFrame | None = None
    waiting: Mapping[tuple[str, Group], int] = field(default_factory=lambda: MappingProxyType({}))
    waiting_today: Mapping[tuple[str, Group], int] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def provisional(self) -> bool:
        """Tell whether the wave is still open (its results are provisional)."""
        return self.wave.is_open

    @property
    def response_ids(self) -> frozenset[str]:
        """Return the ids of the released responses."""
        return frozenset(self.answers["response_id"].astype(str).unique())

    def response_rows(self) -> pd.DataFrame:
        """Return the released responses (one row each); asked for with `with_responses`."""
        if self.responses is None:
            raise ValueError("released(..., with_responses=True) was not asked for")
        return self.responses


async def released(
    engine: AsyncEngine,
    wave: storage.waves.Wave,
    *,
    k: int,
    today: date,
    with_responses: bool = False,
) -> Release:
    """Read a wave's answers as its official outputs may show them (see the module docstring).

    `today` is the current day in the institution's time zone. With `with_responses`, the
    per-response frame (unit, group, language…) of the same released responses comes too.
    """
    from scoring.provisional import shown_responses, today_counts, waiting_counts

    answers = await storage.frames.answers_frame(engine, wave.id)
    waiting: dict[tuple[str, Group], int] = {}
    waiting_today: dict[tuple[str, Group], int] = {}
    if wave.is_open:
        shown = shown_responses(answers, k, today)
        waiting = waiting_counts(answers, shown)
        waiting_today = today_counts(answers, today)
        answers = shown
    responses = None
    if with_responses:
        every = await storage.exports.responses_frame(engine, wave.id)
        # The rule is decided on the answers; the response rows follow the same ids. A
        # response submitted without any answer has nothing to show and is never released.
        ids = answers["response_id"].astype(str).unique()
        responses = every[every["response_id"].astype(str).isin(ids)].reset_index(drop=True)
    return Release(
        wave,
        today,
        answers,
        responses,
        MappingProxyType(waiting),
        MappingProxyType(waiting_today),
    )


def today_for(services: Services) -> date:
    """Return today's date in the bot's time zone, from the services' clock."""
    return services.clock().astimezone(services.settings.zone).date()


async def released_now(
    services: Services, wave: storage.waves.Wave, *, with_responses: bool = False
) -> Release:
    """Read a wave as released today (the bot's clock, zone and k)."""
    return await released(
        services.db.engine,
        wave,
        k=services.settings.small_cell_k,
        today=today_for(services),
        with_responses=with_responses,
    )
