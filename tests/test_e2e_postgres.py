"""The respondent journey and score queries end to end on PostgreSQL (the scale path).

The same real Application and sandbox as the SQLite end-to-end tests; only the database
differs. Skipped with the reason shown when no PostgreSQL server is reachable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import storage.frames
from sandbox.simulation import Outcome, Persona, simulate_respondent
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.storage_fixtures import _ThrowawayDatabase

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def database_url_for() -> Iterator[Callable[[Path], str]]:
    """Point the harness at a fresh PostgreSQL database for this test."""
    database = _ThrowawayDatabase.create()
    yield lambda _tmp: database.url
    database.drop()


async def test_survey_and_score_on_postgresql(harness: Harness) -> None:
    assert harness.engine.dialect.name == "postgresql"
    for i in range(3):
        group = (Group.INTERNAL, Group.EXPERT, Group.EXTERNAL)[i]
        payload = (
            await harness.invitation(group, "DINKES")
            if group is not Group.EXTERNAL
            else harness.unit_payload("DINKES")
        )
        outcome, _ = await simulate_respondent(
            harness.user(), payload, Persona(0.7, random.Random(i))
        )
        assert outcome is Outcome.COMPLETED
    counts = {
        (c.unit_code, c.grp): c.submitted
        for c in await storage.frames.response_counts(harness.engine, harness.wave.id)
    }
    assert counts == {("DINKES", "internal"): 1, ("DINKES", "expert"): 1, ("DINKES", "external"): 1}

    await harness.restart()  # state survives a restart on PostgreSQL too
    admin = harness.user(user_id=999)  # ADMIN_USER_IDS in the harness
    await admin.command("skor")
    answer = await reply(admin, timeout=15)
    assert answer.photo is not None
    # 1 response per group: never a number, and it says why.
    assert "1 jawaban diterima hari ini; ditampilkan setelah terkumpul minimal 5" in (
        answer.plain_text
    )
