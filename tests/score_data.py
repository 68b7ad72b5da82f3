"""Test data for score tests: submitted responses written straight through the storage API.

Playing respondents through the sandbox costs ~0.3 s each; k = 5 needs at least five per
cell, so score tests write answers with `start_session` + `move_session` + `submit`.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

import storage.db
import storage.sessions
import storage.turns
import storage.units
from storage.waves import Wave
from surveys import Group, bundled_questionnaires

__all__ = ["add_profile", "add_responses"]


async def add_responses(
    engine: storage.db.AsyncEngine,
    wave: Wave,
    unit_code: str,
    group: Group,
    count: int,
    now: datetime,
    *,
    level: float = 0.75,
    seed: int = 1,
    completed_on: date | None = None,
) -> None:
    """Submit `count` varied responses for a unit and group; `level` 0-1 steers the scores.

    Answers vary per respondent (no straight-lining, no identical clusters) and durations
    are similar (no speeders), so every response counts as valid.
    """
    rng = random.Random(f"{seed}-{unit_code}-{group.value}")
    unit = await storage.units.get_unit(engine, unit_code)
    assert unit is not None, unit_code
    questionnaire = bundled_questionnaires()[group]
    for _ in range(count):
        pseudonym = secrets.token_hex(16)
        session = await storage.sessions.start_session(
            engine, pseudonym, wave.id, group.value, unit.id, None, "id", "question", now
        )
        for question in questionnaire.questions:
            scored = [o for o in question.options if o.score is not None]
            if question.dimension is None or not scored:
                continue
            # Pick an option near `level` on the option order, with noise so vectors differ.
            target = min(len(scored) - 1, max(0, round(rng.gauss(level, 0.3) * (len(scored) - 1))))
            moved = await storage.turns.move_session(
                engine, session, now=now, answer=(question.id, scored[target].value)
            )
            assert moved is not None
            session = moved
        day = completed_on or now.date()
        finished = now + timedelta(seconds=500 + rng.randint(0, 200))
        assert await storage.sessions.submit(engine, pseudonym, finished, day)


async def add_profile(
    engine: storage.db.AsyncEngine,
    wave: Wave,
    unit_code: str,
    group: Group,
    count: int,
    now: datetime,
    scores: dict[str, float],
    *,
    default: float = 80.0,
    seed: int = 1,
) -> None:
    """Submit `count` responses whose item scores sit near a score per dimension (0-100;
    `default` for the others), reverse-scored items included: a profile with one weak
    dimension, as a what-if needs."""
    rng = random.Random(f"{seed}-{unit_code}-{group.value}-profile")
    unit = await storage.units.get_unit(engine, unit_code)
    assert unit is not None, unit_code
    questionnaire = bundled_questionnaires()[group]
    for _ in range(count):
        pseudonym = secrets.token_hex(16)
        session = await storage.sessions.start_session(
            engine, pseudonym, wave.id, group.value, unit.id, None, "id", "question", now
        )
        for question in questionnaire.questions:
            if not question.scored or question.dimension is None:
                continue
            aim = scores.get(question.dimension.value, default) + rng.gauss(0, 12)
            options = [o for o in question.options if question.item_score(o.value) is not None]
            best = min(options, key=lambda o: abs((question.item_score(o.value) or 0) - aim))
            moved = await storage.turns.move_session(
                engine, session, now=now, answer=(question.id, best.value)
            )
            assert moved is not None
            session = moved
        finished = now + timedelta(seconds=500 + rng.randint(0, 200))
        assert await storage.sessions.submit(engine, pseudonym, finished, now.date())
