"""Migration 20_anonymity, both ways, with data: surveys in progress move from in-progress
responses to sessions and drafts, submitted responses get fresh ids and bands, and back."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, create_engine, upgrade

BEFORE = "10_reach_extras"
STARTED = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
OLD_SUBMITTED = "5" * 32
OLD_IN_PROGRESS = "7" * 32
ALICE = "a" * 64  # answering
BOB = "b" * 64  # submitted long ago
CAROL = "c" * 64  # answering from a personal link


async def _run(url: str, *statements: tuple[str, dict[str, object]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, values in statements:
                await conn.execute(text(sql), values)
    finally:
        await engine.dispose()


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def _old_style_data(url: str) -> None:
    """A wave with one submitted response and one survey in progress, as 10_reach_extras kept
    them (the in-progress response already has the id it would keep at submission)."""
    await _run(
        url,
        (
            "INSERT INTO units (id, code, name, kind, serves_public) "
            "VALUES (1, 'U', 'U', 'opd', true)",
            {},
        ),
        (
            "INSERT INTO questionnaires (id, key, version, grp, source_yaml, loaded_at) "
            "VALUES (1, 'external', 1, 'external', 'key: x', :at)",
            {"at": STARTED},
        ),
        (
            "INSERT INTO waves (id, name, status, opened_at) VALUES (1, 'W', 'open', :at)",
            {"at": STARTED},
        ),
        ("INSERT INTO wave_questionnaires VALUES (1, 'external', 1)", {}),
        ("INSERT INTO respondents (pseudonym) VALUES (:a), (:b)", {"a": ALICE, "b": BOB}),
        (
            "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
            "status, completed_on, duration_seconds) "
            "VALUES (:id, 1, 'external', 1, 1, 'id', 'submitted', :day, 400)",
            {"id": OLD_SUBMITTED, "day": date(2025, 5, 1)},
        ),
        (
            "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
            "status, expires_on) VALUES (:id, 1, 'external', 1, 1, 'en', 'in_progress', :day)",
            {"id": OLD_IN_PROGRESS, "day": date(2025, 5, 15)},
        ),
        *(
            ("INSERT INTO answers VALUES (:r, :q, '3')", {"r": OLD_SUBMITTED, "q": f"q{i}"})
            for i in range(5)
        ),
        ("INSERT INTO answers VALUES (:r, 'q1', '2')", {"r": OLD_IN_PROGRESS}),
        (
            "INSERT INTO survey_sessions (pseudonym, response_id, wave_id, grp, unit_id, step, "
            "question_id, language, version, started_at, updated_at) VALUES "
            "(:p, :r, 1, 'external', 1, 'question', 'q2', 'en', 3, :at, :at)",
            {"p": ALICE, "r": OLD_IN_PROGRESS, "at": STARTED},
        ),
        ("INSERT INTO completions VALUES (:p, 1, 'external')", {"p": BOB}),
        # A personal link in use: 10_reach_extras marked it used when it was opened.
        ("INSERT INTO wave_questionnaires VALUES (1, 'internal', 1)", {}),
        ("INSERT INTO respondents (pseudonym) VALUES (:c)", {"c": CAROL}),
        (
            "INSERT INTO invitations (id, token_hash, wave_id, grp, unit_id, created_at, used) "
            "VALUES (1, :h, 1, 'internal', 1, :at, true)",
            {"h": "f" * 64, "at": STARTED},
        ),
        (
            "INSERT INTO survey_sessions (pseudonym, wave_id, grp, unit_id, invitation_id, step, "
            "language, version, started_at, updated_at) VALUES "
            "(:c, 1, 'internal', 1, 1, 'consent', 'id', 0, :at, :at)",
            {"c": CAROL, "at": STARTED},
        ),
        (
            "INSERT INTO contacts (pseudonym, purpose, chat) VALUES (:p, 'survey', :c), "
            "(:b, 'outreach', :c)",
            {"p": ALICE, "b": BOB, "c": b"sealed"},
        ),
    )


async def test_upgrade_and_downgrade_carry_every_survey(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, BEFORE)
    await _old_style_data(url)

    await upgrade(url)

    # The survey in progress is a session with drafts now; no response exists for it.
    assert await _rows(
        url,
        "SELECT pseudonym, questionnaire_id, question_id, language, version FROM survey_sessions "
        "ORDER BY pseudonym",
    ) == [(ALICE, 1, "q2", "en", 3), (CAROL, 1, None, "id", 0)]
    expires = await _rows(url, "SELECT expires_on FROM survey_sessions ORDER BY pseudonym")
    assert str(expires[0][0]).startswith("2025-05-15")  # the response's
    assert str(expires[1][0]).startswith("2025-05-15")  # started + 14 days (it had none)
    # A link is "used" once submitted on; CAROL's is in use by her survey in progress.
    assert await _rows(url, "SELECT used FROM invitations") in ([(False,)], [(0,)])
    assert await _rows(url, "SELECT pseudonym, question_id, value FROM draft_answers") == [
        (ALICE, "q1", "2")
    ]
    assert await _rows(url, "SELECT pseudonym FROM survey_contacts") == [(ALICE,)]
    assert await _rows(url, "SELECT pseudonym, purpose FROM contacts") == [(BOB, "outreach")]
    # The submitted response has a fresh id, its answers follow it, its duration is a band.
    ((new_id, duration, pace),) = await _rows(
        url, "SELECT id, duration_band, pace_band FROM responses"
    )
    assert new_id not in (OLD_SUBMITTED, OLD_IN_PROGRESS)
    assert (duration, pace) == (3, 7)  # 400 s: 300-600; 80 s per item: 64+
    assert await _rows(url, f"SELECT count(*) FROM answers WHERE response_id = '{new_id}'") == [
        (5,)
    ]
    assert await _rows(url, "SELECT count(*) FROM answers") == [(5,)]
    assert await _rows(url, "SELECT pseudonym, scope FROM completions") == [(BOB, 0)]
    # No table keeps the old ids.
    for table, column in (("responses", "id"), ("answers", "response_id")):
        old = await _rows(
            url,
            f"SELECT count(*) FROM {table} "
            f"WHERE {column} IN ('{OLD_SUBMITTED}', '{OLD_IN_PROGRESS}')",
        )
        assert old == [(0,)], table

    config = alembic_config(url)
    await asyncio.to_thread(command.downgrade, config, BEFORE)

    ((in_progress, status), (_, status_carol)) = await _rows(
        url,
        "SELECT s.response_id, r.status FROM survey_sessions s "
        "JOIN responses r ON r.id = s.response_id ORDER BY s.pseudonym",
    )
    assert status == status_carol == "in_progress"
    assert await _rows(url, "SELECT used FROM invitations") in ([(True,)], [(1,)])
    assert await _rows(
        url, f"SELECT question_id, value FROM answers WHERE response_id = '{in_progress}'"
    ) == [("q1", "2")]
    assert await _rows(
        url, "SELECT status, count(*) FROM responses GROUP BY status ORDER BY status"
    ) == [
        ("in_progress", 2),
        ("submitted", 1),
    ]
    assert sorted(await _rows(url, "SELECT pseudonym, purpose FROM contacts")) == [
        (ALICE, "survey"),
        (BOB, "outreach"),
    ]
    assert await _rows(url, "SELECT pseudonym, grp FROM completions") == [(BOB, "external")]

    await upgrade(url)  # and up again
    assert await _rows(url, "SELECT count(*) FROM draft_answers") == [(1,)]


async def test_sqlite_tables_stay_in_key_order_after_the_upgrade(tmp_path) -> None:
    """Rebuilt tables keep WITHOUT ROWID: their physical order is their random keys'."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url, BEFORE)
    await upgrade(url)
    rows = await _rows(url, "SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    definitions = dict(rows)
    for table in (
        "responses",
        "answers",
        "completions",
        "contacts",
        "survey_sessions",
        "draft_answers",
        "survey_contacts",
        "arrivals",
        "item_paradata",
    ):
        assert "WITHOUT ROWID" in str(definitions[table]), table
