"""Benchmark: what issue 20's storage costs: a tap's read and write, and a scrub.

Measured on the storage API, without Telegram:

- a tap on SQLite: `load_turn` then `move_session` with an answer (the draft upsert that also
  keeps the item's seconds and changes), the mean of 400 taps, best of 5 people;
- the scrub after submissions: on SQLite `wal_checkpoint(TRUNCATE)` after `SURVEYS` people
  answered 12 items each and half of them submitted; on PostgreSQL (when reachable)
  `VACUUM FULL` of the session tables with 1,000 surveys in progress (11,000 draft answers),
  the window in which taps wait for its exclusive lock.

`python -m benchmarks.bench_scrub [--postgres URL]` prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

import storage.db
import storage.questionnaires
import storage.sessions
import storage.turns
import storage.units
import storage.waves
from storage.anonymity import scrub_deleted_rows

NOW: Final = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SURVEYS: Final = 200
ITEMS: Final = 12
DEFAULT_POSTGRES: Final = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _setup(engine: storage.db.AsyncEngine) -> tuple[int, int]:
    """A unit and an open wave with an external questionnaire; return (wave id, unit id)."""
    await storage.units.import_units(
        engine, [{"code": "U", "name": "Unit", "kind": "service", "serves_public": "yes"}]
    )
    stored = await storage.questionnaires.save_questionnaire(
        engine, "external", 1, "external", "key: x\n", NOW
    )
    wave = await storage.waves.open_wave(engine, "bench", {"external": stored.id}, NOW)
    unit = await storage.units.get_unit(engine, "U")
    assert unit is not None
    return wave.id, unit.id


async def _answering(
    engine: storage.db.AsyncEngine, wave: int, unit: int, people: int
) -> list[str]:
    pseudonyms = [secrets.token_hex(32) for _ in range(people)]
    for pseudonym in pseudonyms:
        session = await storage.sessions.start_session(
            engine, pseudonym, wave, "external", unit, None, "id", "question", NOW
        )
        for item in range(ITEMS):
            moved = await storage.turns.move_session(
                engine, session, now=NOW + timedelta(seconds=item), answer=(f"q{item}", "3")
            )
            assert moved is not None
            session = moved
            await asyncio.sleep(0)  # between taps the bot waits for Telegram: tasks run
    return pseudonyms


async def _tap_microseconds(engine: storage.db.AsyncEngine, wave: int, unit: int) -> float:
    best = float("inf")
    for person in range(5):
        pseudonym = f"{person:064d}"
        await storage.sessions.start_session(
            engine, pseudonym, wave, "external", unit, None, "id", "x", NOW
        )
        started = time.perf_counter()
        for tap in range(400):
            turn = await storage.turns.load_turn(engine, pseudonym)
            assert turn.session is not None
            await storage.turns.move_session(
                engine,
                turn.session,
                now=NOW + timedelta(seconds=tap),
                question_id=f"q{(tap + 1) % 25}",
                answer=(f"q{tap % 25}", str(tap % 5)),
            )
            await asyncio.sleep(0)  # between taps the bot waits for Telegram: tasks run
        best = min(best, (time.perf_counter() - started) / 400 * 1e6)
    return best


async def sqlite_figures() -> dict[str, Any]:
    """Time a tap and a scrub on a SQLite file."""
    folder = Path(tempfile.mkdtemp(prefix="spibot-bench-scrub-"))
    async with storage.db.Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}") as db:
        wave, unit = await _setup(db.engine)
        tap = await _tap_microseconds(db.engine, wave, unit)
        people = await _answering(db.engine, wave, unit, SURVEYS)
        for pseudonym in people[::2]:
            assert await storage.sessions.submit(
                db.engine, pseudonym, NOW + timedelta(minutes=9), NOW.date()
            )
        wal = (folder / "bench.db-wal").stat().st_size
        started = time.perf_counter()
        assert await scrub_deleted_rows(db.engine)
        scrub = time.perf_counter() - started
    return {
        "tap_load_and_move_us": round(tap),
        "scrub_wal_bytes_before": wal,
        "scrub_checkpoint_truncate_ms": round(scrub * 1000, 1),
    }


async def postgres_figures(url: str) -> dict[str, Any]:
    """Time VACUUM FULL of the session tables with 1,000 surveys in progress."""
    server = make_url(url)
    name = f"spibot_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(
        user=server.username,
        password=server.password,
        host=server.host or "127.0.0.1",
        port=server.port or 5432,
        database=server.database,
        timeout=5,
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = server.set(database=name).render_as_string(hide_password=False)
        async with storage.db.Database(target) as db:
            wave, unit = await _setup(db.engine)
            people = [secrets.token_hex(32) for _ in range(1000)]
            async with db.engine.begin() as conn:
                values = {"p": people, "w": wave, "u": unit}
                await conn.execute(
                    text("INSERT INTO respondents (pseudonym) SELECT unnest(CAST(:p AS text[]))"),
                    {"p": people},
                )
                await conn.execute(
                    text(
                        "INSERT INTO survey_sessions (pseudonym, wave_id, grp, unit_id, "
                        "questionnaire_id, step, language, version, started_at, updated_at, "
                        "expires_on) SELECT p, :w, 'external', :u, (SELECT questionnaire_id "
                        "FROM wave_questionnaires WHERE wave_id = :w), 'question', 'id', 0, "
                        "now(), now(), current_date + 14 FROM unnest(CAST(:p AS text[])) p"
                    ),
                    values,
                )
                await conn.execute(
                    text(
                        "INSERT INTO draft_answers (pseudonym, question_id, value) SELECT p, "
                        "'q' || g, '3' FROM unnest(CAST(:p AS text[])) p, generate_series(1, 11) g"
                    ),
                    {"p": people},
                )
            async with db.engine.begin() as conn:  # a round of taps: a dead version each
                await conn.execute(text("UPDATE survey_sessions SET version = version + 1"))
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                assert await scrub_deleted_rows(db.engine)
                timings.append(time.perf_counter() - started)
        return {"vacuum_full_1000_surveys_ms": round(min(timings) * 1000, 1)}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(postgres: str | None) -> dict[str, Any]:
    """Run both parts (PostgreSQL only when reachable) and return the figures."""
    figures = {"sqlite": await sqlite_figures()}
    if postgres:
        try:
            figures["postgresql"] = await postgres_figures(postgres)
        except (OSError, asyncpg.PostgresError) as exc:
            figures["postgresql"] = {"skipped": f"not reachable: {exc}"}
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL ('' to skip)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.postgres or None)), indent=2))
