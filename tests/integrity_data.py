"""A simulated wave for the survey-integrity tests: a coached unit, a rushing one, honest ones.

Written through the storage API at the people's own times (`sandbox.integrity_sim`), so the
arrival counts and pace bands are what the bot itself would have stored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources

import storage.db
import storage.waves
from sandbox.integrity_sim import Behaviour, UnitPlan, play_wave, simulate_wave
from services.admin import import_units_csv, open_wave
from surveys import Group

__all__ = ["BRIEFING", "COACHED", "HONEST", "OPENS", "RUSHING", "after_wave", "simulated_wave"]

OPENS = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 07:00 WIB
BRIEFING = date(2026, 3, 5)  # day 3 of the wave: apel pagi, then the survey "together"
COACHED, RUSHING = "DINKES", "DISPENDUKCAPIL"
HONEST = ("DPMPTSP", "SETDA", "BAPPEDA")
PLANS = (
    UnitPlan(COACHED, Behaviour.COACHED, {Group.INTERNAL: 12, Group.EXTERNAL: 5, Group.EXPERT: 5}),
    UnitPlan(RUSHING, Behaviour.RUSHING, {Group.INTERNAL: 12}),
    UnitPlan("DPMPTSP", Behaviour.HONEST, {Group.INTERNAL: 12, Group.EXTERNAL: 5, Group.EXPERT: 5}),
    UnitPlan("SETDA", Behaviour.HONEST, {Group.INTERNAL: 12}),
    UnitPlan("BAPPEDA", Behaviour.HONEST, {Group.INTERNAL: 12}),
)


def after_wave() -> datetime:
    """Return a moment when every simulated response has been released (the wave's days
    all lie before it)."""
    return OPENS + timedelta(days=11)


async def simulated_wave(engine: storage.db.AsyncEngine, seed: int = 7) -> storage.waves.Wave:
    """Import the Mojokerto units, open a wave and play the simulated people into it."""
    csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
    with resources.as_file(csv) as path:
        await import_units_csv(engine, path)
    wave = await open_wave(engine, "2026-S1", OPENS)
    await play_wave(engine, wave, simulate_wave(PLANS, seed=seed, opens=OPENS, briefing_day=3))
    return wave
