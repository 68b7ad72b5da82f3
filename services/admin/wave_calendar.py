"""The wave calendar: planned waves open and close on time, from the scheduler's tick.

A plan is a draft until its opening time; then the tick opens it with the current
questionnaires (unless another wave is still open: it waits, and says so in the log), and at
its closing time closes it, after which the final report follows on the same tick. Opening
and closing are single conditional statements, so with several bot processes one of them
does each and the others find nothing to do.
"""

from __future__ import annotations

import logging
from datetime import datetime

import storage.waves
from services import reports
from services.admin import survey
from services.context import Services
from services.errors import AdminError

__all__ = ["run_calendar"]

logger = logging.getLogger(__name__)


async def run_calendar(services: Services, now: datetime) -> list[str]:
    """Open and close the planned waves that are due at `now`; return what was done."""
    engine = services.db.engine
    done: list[str] = []
    current = await storage.waves.current_wave(engine)
    for plan in await storage.waves.list_wave_plans(engine):
        if plan.wave_id is None and plan.opens_at <= now:
            if current is not None:
                logger.warning(
                    "planned wave %s waits: wave %s is still open", plan.name, current.name
                )
                continue
            try:
                current = await survey.open_wave(engine, plan.name, now)
            except AdminError:  # another process opened it (or a wave) first
                continue
            await storage.waves.mark_plan_opened(engine, plan.name, current.id)
            await reports.fix_opening_targets(engine, services.settings, current)
            logger.info("planned wave %s opened", plan.name)
            done.append(f"opened {plan.name}")
            plan_wave_id: int | None = current.id
        else:
            plan_wave_id = plan.wave_id
        due_to_close = plan.closes_at is not None and plan.closes_at <= now
        is_current = current is not None and plan_wave_id == current.id
        if due_to_close and is_current and current is not None:
            if await reports.close_wave(engine, services.settings, current, now):
                logger.info("planned wave %s closed", plan.name)
                done.append(f"closed {plan.name}")
            current = None
    return done
