"""Migration 24_quality both ways, with data: exclusions and their responses, and report
revisions of the new kinds (exclusion, restored), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import alembic_config, create_engine, upgrade

BEFORE = "20_anonymity"
AT = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
RESPONSE = "9" * 32


async def _run(url: str, sql: str, values: dict[str, object] | None = None) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), values or {})
    finally:
        await engine.dispose()


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def _wave_with_a_response(url: str) -> None:
    for sql, values in (
        (
            "INSERT INTO units (id, code, name, kind, serves_public) "
            "VALUES (1, 'U', 'U', 'opd', true)",
            {},
        ),
        (
            "INSERT INTO questionnaires (id, key, version, grp, source_yaml, loaded_at) "
            "VALUES (1, 'internal', 1, 'internal', 'key: x', :at)",
            {"at": AT},
        ),
        (
            "INSERT INTO waves (id, name, status, opened_at) VALUES (1, 'W', 'closed', :at)",
            {"at": AT},
        ),
        (
            "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
            "completed_on) VALUES (:id, 1, 'internal', 1, 1, 'id', :day)",
            {"id": RESPONSE, "day": date(2026, 3, 5)},
        ),
        (
            "INSERT INTO report_revisions (wave_id, number, kind, note, report_json, created_at) "
            "VALUES (1, 1, 'final', '', '{}', :at)",
            {"at": AT},
        ),
    ):
        await _run(url, sql, values)


async def test_upgrade_and_downgrade_with_exclusions(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, BEFORE)
    await _wave_with_a_response(url)
    # Before the upgrade a revision can only be final, a correction or a reclosing.
    with pytest.raises(IntegrityError):
        await _run(
            url,
            "INSERT INTO report_revisions (wave_id, number, kind, note, report_json, created_at) "
            "VALUES (1, 2, 'exclusion', '', '{}', :at)",
            {"at": AT},
        )

    await upgrade(url)
    await _run(
        url,
        "INSERT INTO integrity_exclusions (id, wave_id, unit_id, grp, kind, fingerprint, status, "
        "reason, count, created_by, created_at, decided_at) VALUES (1, 1, 1, 'internal', "
        "'burst', 'abc', 'active', 'pengarahan', 1, 'cli:ani', :at, :at)",
        {"at": AT},
    )
    await _run(url, "INSERT INTO excluded_responses VALUES (1, :r)", {"r": RESPONSE})
    await _run(
        url,
        "INSERT INTO report_revisions (wave_id, number, kind, note, report_json, created_at) "
        "VALUES (1, 2, 'exclusion', 'pengarahan', '{}', :at)",
        {"at": AT},
    )
    with pytest.raises(IntegrityError):  # a kind the table does not know
        await _run(
            url,
            "INSERT INTO integrity_exclusions (wave_id, unit_id, grp, kind, fingerprint, status, "
            "created_by, created_at) VALUES (1, 1, 'internal', 'gossip', 'x', 'active', 'a', :at)",
            {"at": AT},
        )
    # An exclusion names its responses by their random ids, and nothing else.
    assert await _rows(url, "SELECT exclusion_id, response_id FROM excluded_responses") == [
        (1, RESPONSE)
    ]

    await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE)
    # The revision the exclusion made goes with it; the final report stays.
    assert await _rows(url, "SELECT number, kind FROM report_revisions") == [(1, "final")]
    tables = await _rows(
        url,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'integrity_exclusions'"
        if url.startswith("postgresql")
        else "SELECT count(*) FROM sqlite_master WHERE name = 'integrity_exclusions'",
    )
    assert tables == [(0,)]
    assert await _rows(url, "SELECT count(*) FROM responses") == [(1,)]

    await upgrade(url)  # and up again
    assert await _rows(url, "SELECT count(*) FROM integrity_exclusions") == [(0,)]
