"""Test data with free text: external responses that answer a few items and the suggestion."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import storage.db
import storage.sessions
import storage.turns
import storage.units
from storage.waves import Wave
from surveys import Group, bundled_questionnaires

__all__ = ["add_suggestions"]


async def add_suggestions(
    engine: storage.db.AsyncEngine,
    wave: Wave,
    unit_code: str,
    texts: Sequence[str | None],
    now: datetime,
    *,
    completed_on: date | None = None,
) -> None:
    """Submit one external response per text (None: the suggestion is skipped)."""
    unit = await storage.units.get_unit(engine, unit_code)
    assert unit is not None, unit_code
    suggestion = bundled_questionnaires()[Group.EXTERNAL].questions[-1]
    for i, text in enumerate(texts):
        pseudonym = secrets.token_hex(16)
        session = await storage.sessions.start_session(
            engine, pseudonym, wave.id, "external", unit.id, None, "en", "question", now
        )
        pairs = [("kunjungan", str(i + 1)), ("ti_diminta", "yes")]
        if text is not None:
            pairs.append((suggestion.id, text))
        for qid, value in pairs:
            moved = await storage.turns.move_session(engine, session, now=now, answer=(qid, value))
            assert moved is not None
            session = moved
        day = completed_on or now.date()
        finished = now + timedelta(seconds=400 + i)
        assert await storage.sessions.submit(engine, pseudonym, finished, day)
