"""PostgreSQL: the physical order of responses, answers and completions hides submission order.

Reads the heap order (ctid) after real submissions, before and after `reshuffle_heaps`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.anonymity import reshuffle_heaps
from storage.respondents import ensure_respondent
from storage.sessions import start_session, submit
from tests.storage_fixtures import NOW, SurveySetup, record_answers

COUNT = 40


def _pseudonym(i: int) -> str:
    return hashlib.sha256(f"person-{i}".encode()).hexdigest()


async def _submit_in_order(setup: SurveySetup) -> list[str]:
    """Have COUNT people answer and submit one after another; return response ids in order."""
    engine = setup.db.engine
    order = []
    for i in range(COUNT):
        pseudonym = _pseudonym(i)
        await ensure_respondent(engine, pseudonym)
        session = await start_session(
            engine,
            pseudonym,
            setup.wave.id,
            "external",
            setup.units["PKM-01"].id,
            None,
            "id",
            "question",
            NOW,
        )
        await record_answers(setup.db, session, {"q1": str(i % 5), "q2": "ya"})
        assert await submit(engine, pseudonym, NOW, NOW.date())
        order.append(await _newest_response(setup, order))
    return order


async def _newest_response(setup: SurveySetup, known: list[str]) -> str:
    """Return the id the last submission was filed under (the one not seen before)."""
    async with setup.db.engine.connect() as conn:
        ids = {row[0] for row in await conn.execute(text("SELECT id FROM responses"))}
    (new,) = ids - set(known)
    return str(new)


async def _physical(setup: SurveySetup, table: str, column: str) -> list[str]:
    async with setup.db.engine.connect() as conn:
        rows = await conn.execute(text(f'SELECT "{column}" FROM "{table}" ORDER BY ctid'))
        values = [row[0] for row in rows]
    # answers hold one row per question: keep each response's first position.
    return list(dict.fromkeys(values))


def _same_order_pairs(a: list[str], b: list[str]) -> float:
    """Share of pairs that two orderings of the same items put the same way round (0.5: none)."""
    rank = {item: i for i, item in enumerate(b)}
    ranks = [rank[item] for item in a]
    pairs = [(i, j) for i in range(len(ranks)) for j in range(i + 1, len(ranks))]
    return sum(ranks[i] < ranks[j] for i, j in pairs) / len(pairs)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_heap_order_does_not_reveal_submission_order(survey_setup: SurveySetup) -> None:
    submitted = await _submit_in_order(survey_setup)
    # What an attacker reads today: submissions in order, pseudonyms in the same order.
    before = await _physical(survey_setup, "responses", "id")
    assert _same_order_pairs(submitted, before) > 0.95
    by_time = [_pseudonym(i) for i in range(COUNT)]
    completions = await _physical(survey_setup, "completions", "pseudonym")
    assert _same_order_pairs(by_time, completions) > 0.95

    assert await reshuffle_heaps(survey_setup.db.engine) is True

    for table, column, keys in (
        ("responses", "id", submitted),
        ("answers", "response_id", submitted),
        ("completions", "pseudonym", by_time),
        ("respondents", "pseudonym", by_time),
    ):
        physical = await _physical(survey_setup, table, column)
        # Physical order is the order of the random keys ...
        assert physical == sorted(keys), table
        # ... so it says about as little of submission order as a coin would.
        assert 0.25 < _same_order_pairs(keys, physical) < 0.75, table


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_nothing_to_reshuffle_on_sqlite(survey_setup: SurveySetup) -> None:
    # SQLite keeps these tables WITHOUT ROWID, in primary-key order already.
    assert await reshuffle_heaps(survey_setup.db.engine) is False


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_cli_reshuffles(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={database_url}\n")
    assert main(["--env-file", str(env), "db", "reshuffle"]) == 0
    assert "rewritten in random-key order" in capsys.readouterr().out
