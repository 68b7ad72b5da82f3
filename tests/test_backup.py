"""`spibot db backup/restore`: a consistent copy while respondents write, and a way back."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import storage
from bot.cli import main
from services.admin import import_units_csv, open_wave
from services.backups import NightlyBackup
from services.settings import ConfigError, load_settings
from storage.backup import backup_database, restore_database
from surveys import Group, bundled_questionnaires
from tests.storage_fixtures import _ThrowawayDatabase

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
EXTERNAL = bundled_questionnaires()[Group.EXTERNAL]
ITEMS = [q for q in EXTERNAL.questions if q.options][:8]


def units_csv_path() -> Path:
    return Path(str(resources.files("sandbox.data") / "mojokerto-units.csv"))


async def respondent(engine: storage.AsyncEngine, wave: storage.Wave, unit_id: int) -> str:
    """Answer eight questions one write at a time, as the bot does, then submit."""
    pseudonym = secrets.token_hex(16)
    session = await storage.start_session(
        engine, pseudonym, wave.id, "external", unit_id, None, "id", "question", NOW
    )
    for question in ITEMS:
        moved = await storage.move_session(
            engine, session, now=NOW, answer=(question.id, question.options[0].value)
        )
        assert moved is not None
        session = moved
        await asyncio.sleep(0.02)  # a person between taps: other writers interleave
    assert await storage.submit(engine, pseudonym, NOW.date(), 300)
    assert session.response_id is not None
    return session.response_id


def submitted_in(path: Path) -> dict[str, int]:
    """Return answers per submitted response in a SQLite file, read without our code."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            "SELECT r.id, count(a.question_id) FROM responses r "
            "LEFT JOIN answers a ON a.response_id = r.id "
            "WHERE r.status = 'submitted' GROUP BY r.id"
        ).fetchall()
    return {row[0]: row[1] for row in rows}


async def test_backup_while_twenty_respondents_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    async with storage.Database(url) as db:
        await import_units_csv(db.engine, units_csv_path())
        wave = await open_wave(db.engine, "2026-S1", NOW)
        unit = await storage.get_unit(db.engine, "DPMPTSP")
        assert unit is not None
        tasks = [asyncio.create_task(respondent(db.engine, wave, unit.id)) for _ in range(20)]
        # Let some finish first (they start together, so wait for the first submissions).
        done: set[str] = set()
        while len(done) < 3:
            finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            done = {t.result() for t in finished}
        before = set(done)
        backup = tmp_path / "backup.db"
        result = await asyncio.to_thread(backup_database, url, backup)
        after = {await t for t in tasks}
    assert result.done
    copied = submitted_in(backup)
    # Every response submitted before the backup began is in it, with all its answers; the
    # copy is one moment, so no response in it is missing answers.
    assert before <= set(copied)
    assert set(copied.values()) == {len(ITEMS)}
    assert set(copied) <= after
    assert result.responses == len(copied)
    assert len(after) == 20
    assert not list(tmp_path.glob(".backup.db.partial*"))


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async def prepare() -> None:
        async with storage.Database(url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.get_unit(db.engine, "DINKES")
            assert unit is not None
            for _ in range(3):
                await respondent(db.engine, wave, unit.id)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


def test_backup_and_restore_from_the_command_line(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nightly.db"
    assert spibot(env_file, "db", "backup", str(out)) == 0
    assert capsys.readouterr().out.startswith(f"backup written to {out} (")
    assert len(submitted_in(out)) == 3
    # An existing file is not overwritten by accident.
    assert spibot(env_file, "db", "backup", str(out)) == 2
    assert "exists; choose another name or pass --force" in capsys.readouterr().err
    assert spibot(env_file, "db", "backup", str(out), "--force") == 0
    capsys.readouterr()

    live = tmp_path / "bot.db"
    with sqlite3.connect(live) as conn:
        conn.execute("DELETE FROM answers")
        conn.execute("DELETE FROM responses")
    assert submitted_in(live) == {}
    assert spibot(env_file, "db", "restore", str(out)) == 2
    assert "run again with --yes" in capsys.readouterr().err
    assert spibot(env_file, "db", "restore", str(out), "--yes") == 0
    assert capsys.readouterr().out.strip() == (
        f"database restored from {out} (3 submitted responses); migrations applied"
    )
    assert len(submitted_in(live)) == 3


def test_restore_refuses_what_is_not_a_backup(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert spibot(env_file, "db", "restore", str(junk), "--yes") == 2
    assert "not a SQLite database" in capsys.readouterr().err
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert spibot(env_file, "db", "restore", str(other), "--yes") == 2
    assert "not an spi-bot database" in capsys.readouterr().err
    assert spibot(env_file, "db", "restore", str(tmp_path / "nope.db"), "--yes") == 2
    assert "no such backup file" in capsys.readouterr().err
    assert len(submitted_in(tmp_path / "bot.db")) == 3  # nothing was touched


def test_postgres_without_pg_dump_prints_the_exact_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no PostgreSQL client tools here
    env = tmp_path / ".env"
    env.write_text(
        "DATABASE_URL=postgresql+asyncpg://spi:rahasia@db.example:5432/spibot\n"
        f"SPIBOT_SECRET={'s' * 24}\n",
        encoding="utf-8",
    )
    assert spibot(env, "db", "backup", "spibot.dump") == 2
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "pg_dump is not on PATH; run this where the PostgreSQL client tools are installed:",
        "  PGPASSWORD='…' pg_dump --format=custom --no-owner --file=spibot.dump "
        "--dbname=postgresql://spi@db.example:5432/spibot",
    ]
    assert "rahasia" not in out


@pytest.mark.postgres
async def test_postgres_backup_and_restore_with_pg_dump(tmp_path: Path) -> None:
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    database = _ThrowawayDatabase.create()
    try:
        async with storage.Database(database.url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.get_unit(db.engine, "DINKES")
            assert unit is not None
            await respondent(db.engine, wave, unit.id)
            dump = tmp_path / "pg.dump"
            result = await asyncio.to_thread(backup_database, database.url, dump)
            assert result.done
            assert dump.stat().st_size > 0
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("DELETE FROM answers")
                await conn.exec_driver_sql("DELETE FROM responses")
        restored = await asyncio.to_thread(restore_database, database.url, dump)
        assert restored.done
        async with storage.Database(database.url) as db:
            counts = await storage.response_counts(db.engine, wave.id)
        assert [c.submitted for c in counts] == [1]
    finally:
        database.drop()


def test_dated_backups_in_a_folder_keep_the_newest(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    for old in ("spibot-20260101-013000.db", "spibot-20260102-013000.db", "notes.txt"):
        (folder / old).write_text("old", encoding="utf-8")
    assert spibot(env_file, "db", "backup", str(folder), "--keep", "2") == 0
    out = capsys.readouterr().out
    assert "removed 1 older backups, keeping 2" in out
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "notes.txt"
    assert names[1] == "spibot-20260102-013000.db"
    assert names[2].startswith("spibot-2")
    assert names[2].endswith(".db")
    assert len(names) == 3
    assert len(submitted_in(folder / names[2])) == 3
    assert spibot(env_file, "db", "backup", str(tmp_path / "x.db"), "--keep", "2") == 2
    assert "--keep needs OUT to be a folder" in capsys.readouterr().err


WIB = ZoneInfo("Asia/Jakarta")


async def test_nightly_backup_once_a_night_with_retention(env_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "nightly"
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    settings = load_settings(
        None, database_url=url, backup_dir=folder, backup_keep=2, backup_time="1:30"
    )
    nightly = NightlyBackup(settings)
    first_start = datetime(2026, 3, 2, 0, 10, tzinfo=WIB)
    # Nothing in the folder yet: the night before is made up at once.
    made = await nightly.tick(first_start)
    assert made is not None
    assert len(submitted_in(made)) == 3
    assert await nightly.tick(first_start + timedelta(minutes=1)) is None
    assert await nightly.tick(datetime(2026, 3, 2, 1, 29, tzinfo=WIB)) is None
    second = await nightly.tick(datetime(2026, 3, 2, 1, 31, tzinfo=WIB))
    assert second is not None
    assert await nightly.tick(datetime(2026, 3, 2, 9, 0, tzinfo=WIB)) is None
    # Two nights down: the next tick makes one backup, and only two are kept.
    third = await nightly.tick(datetime(2026, 3, 5, 8, 0, tzinfo=WIB))
    assert third is not None
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [second.name, third.name]
    assert third.name == "spibot-20260305-010000.db"  # named in UTC


def test_backup_time_must_be_a_time_of_day() -> None:
    with pytest.raises(ConfigError, match=r"BACKUP_TIME: .*'25:00' is not a time of day"):
        load_settings(None, backup_time="25:00")
    assert load_settings(None, backup_time="1:05").backup_time == "01:05"


async def test_the_scheduler_tick_takes_the_nightly_backup(tmp_path: Path) -> None:
    from sandbox import SandboxServer
    from sandbox.demo import open_sample_wave, sandbox_settings
    from tests.e2e_fixtures import Clock, Harness

    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox,
            f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            secrets.token_urlsafe(32),
            backup_dir=tmp_path / "nightly",
        )
        clock = Clock()
        async with storage.Database(settings.database_url) as db:
            wave = await open_sample_wave(db.engine, "2026-S1", clock())
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)
        await h.start()
        try:
            assert h.app is not None
            await h.app.bot_data.scheduler.tick()
        finally:
            await h.stop()
    assert [p.suffix for p in (tmp_path / "nightly").iterdir()] == [".db"]
