"""`spibot db backup/restore`: a consistent copy while respondents write, and a way back."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import storage.answers
import storage.contacts
import storage.db
import storage.errors
import storage.frames
import storage.sessions
import storage.turns
import storage.units
import storage.waves
from bot.cli import main
from services.admin import NightlyBackup, import_units_csv, open_wave
from services.settings import ConfigError, load_settings
from storage.backup import (
    DatabaseHold,
    backup_database,
    describe_backup,
    exclusive_hold,
    restore_database,
)
from surveys import Group, bundled_questionnaires
from tests.storage_fixtures import _ThrowawayDatabase

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
EXTERNAL = bundled_questionnaires()[Group.EXTERNAL]
ITEMS = [q for q in EXTERNAL.questions if q.options][:8]


def units_csv_path() -> Path:
    return Path(str(resources.files("sandbox.data") / "mojokerto-units.csv"))


async def begin(
    engine: storage.db.AsyncEngine,
    wave: storage.waves.Wave,
    unit_id: int,
    answered: int = len(ITEMS),
) -> str:
    """Start a survey and answer `answered` questions one write at a time, as the bot does."""
    pseudonym = secrets.token_hex(16)
    session = await storage.sessions.start_session(
        engine, pseudonym, wave.id, "external", unit_id, None, "id", "question", NOW
    )
    for question in ITEMS[:answered]:
        moved = await storage.turns.move_session(
            engine, session, now=NOW, answer=(question.id, question.options[0].value)
        )
        assert moved is not None
        session = moved
        await asyncio.sleep(0.02)  # a person between taps: other writers interleave
    return pseudonym


async def respondent(engine: storage.db.AsyncEngine, wave: storage.waves.Wave, unit_id: int) -> str:
    """Answer eight questions, then submit; return the pseudonym."""
    pseudonym = await begin(engine, wave, unit_id)
    assert await storage.sessions.submit(engine, pseudonym, NOW + timedelta(minutes=5), NOW.date())
    return pseudonym


def submitted_in(path: Path) -> dict[str, int]:
    """Return answers per submitted response in a SQLite file, read without our code."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            "SELECT r.id, count(a.question_id) FROM responses r "
            "LEFT JOIN answers a ON a.response_id = r.id GROUP BY r.id"
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def in_progress_in(path: Path) -> tuple[int, int, int]:
    """Return (sessions, draft answers, survey contacts) in a SQLite file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("survey_sessions", "draft_answers", "survey_contacts")
        )


async def test_backup_while_twenty_respondents_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    async with storage.db.Database(url) as db:
        await import_units_csv(db.engine, units_csv_path())
        wave = await open_wave(db.engine, "2026-S1", NOW)
        unit = await storage.units.get_unit(db.engine, "DPMPTSP")
        assert unit is not None
        tasks = [asyncio.create_task(respondent(db.engine, wave, unit.id)) for _ in range(20)]
        # Let some finish first (they start together, so wait for the first submissions).
        done: set[str] = set()
        while len(done) < 3:
            finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            done = {t.result() for t in finished}
        before = len(done)
        backup = tmp_path / "backup.db"
        result = await asyncio.to_thread(backup_database, url, backup)
        after = {await t for t in tasks}
    assert result.done
    copied = submitted_in(backup)
    # Every response submitted before the backup began is in it, with all its answers; the
    # copy is one moment, so no response in it is missing answers.
    assert before <= len(copied) <= 20
    assert set(copied.values()) == {len(ITEMS)}
    assert result.responses == len(copied)
    assert len(after) == 20
    # Those still answering are not in it at all (issue 20): no session, no draft.
    assert in_progress_in(backup) == (0, 0, 0)
    assert not list(tmp_path.glob(".backup.db.partial*"))


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.units.get_unit(db.engine, "DINKES")
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
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"database restored from {out} (3 submitted responses); migrations applied"
    assert lines[1].startswith(f"the database it replaced was backed up to {tmp_path}/")
    assert "people who were answering start again" in lines[2]
    assert len(submitted_in(live)) == 3
    # The copy of what it replaced (emptied above) is kept beside the database, 0600.
    (kept,) = tmp_path.glob("spibot-before-restore-*.db")
    assert submitted_in(kept) == {}
    assert kept.stat().st_mode & 0o777 == 0o600


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
        "  PGPASSWORD='…' pg_dump --format=custom --no-owner "
        "--exclude-table-data=draft_answers --exclude-table-data=survey_contacts "
        "--exclude-table-data=survey_sessions --file=spibot.dump "
        "--dbname=postgresql://spi@db.example:5432/spibot",
    ]
    assert "rahasia" not in out


@pytest.mark.postgres
async def test_postgres_backup_and_restore_with_pg_dump(tmp_path: Path) -> None:
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    database = _ThrowawayDatabase.create()
    try:
        async with storage.db.Database(database.url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.units.get_unit(db.engine, "DINKES")
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
        async with storage.db.Database(database.url) as db:
            counts = await storage.frames.response_counts(db.engine, wave.id)
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
        async with storage.db.Database(settings.database_url) as db:
            wave = await open_sample_wave(db.engine, "2026-S1", clock())
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)
        await h.start()
        try:
            assert h.app is not None
            await h.app.bot_data.scheduler.tick()
        finally:
            await h.stop()
    assert [p.suffix for p in (tmp_path / "nightly").iterdir()] == [".db"]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_a_backup_taken_mid_survey_holds_submitted_data_only_and_is_private(
    tmp_path: Path,
) -> None:
    """Issue 20: no session, no draft, no survey contact in a backup; files are 0600 even
    under a permissive umask."""
    previous = os.umask(0o022)
    try:
        url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
        async with storage.db.Database(url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.units.get_unit(db.engine, "DPMPTSP")
            assert unit is not None
            await respondent(db.engine, wave, unit.id)
            answering = [await begin(db.engine, wave, unit.id, answered=3) for _ in range(4)]
            for pseudonym in answering:
                assert await storage.contacts.save_contact(
                    db.engine, pseudonym, storage.contacts.ContactPurpose.SURVEY, b"sealed-chat-id"
                )
            for suffix in ("", "-wal", "-shm"):
                assert _mode(tmp_path / f"live.db{suffix}") == 0o600, suffix
            backup = tmp_path / "mid-survey.db"
            result = await asyncio.to_thread(backup_database, url, backup)
            # The live database still has them: only the copy leaves them out.
            assert len(await storage.answers.get_drafts(db.engine, answering[0])) == 3
    finally:
        os.umask(previous)
    assert result.done
    assert _mode(backup) == 0o600
    assert len(submitted_in(backup)) == 1
    assert in_progress_in(backup) == (0, 0, 0)
    raw = backup.read_bytes()
    for pseudonym in answering:
        # A draft row is the pseudonym and the question id side by side: not even in the
        # file's free space. (The pseudonym alone stays, as every respondent's does.)
        for question in ITEMS:
            assert (pseudonym + question.id).encode() not in raw
    assert b"sealed-chat-id" not in raw


def test_backup_list_shows_each_backup_and_what_it_holds(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    assert spibot(env_file, "db", "backup", str(folder)) == 0
    (folder / "spibot-20260101-013000.db").write_text("damaged", encoding="utf-8")
    (folder / "notes.txt").write_text("not a backup", encoding="utf-8")
    capsys.readouterr()
    assert spibot(env_file, "db", "backup", "--list", str(folder)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"backups in {folder} (submitted data only; times in UTC):"
    assert lines[1].startswith("2026-01-01 01:30:00 UTC")
    assert lines[2].strip() == "contents unreadable here"
    assert lines[3].startswith("20")
    assert lines[4].strip() == (
        "1 waves, 3 responses, 24 answers, 3 completion markers; surveys in progress: "
        "0 sessions, 0 draft answers, 0 contacts"
    )
    assert len(lines) == 5  # notes.txt is not a backup
    # Without a folder it lists BACKUP_DIR, and says so when there is none.
    assert spibot(env_file, "db", "backup", "--list") == 2
    assert capsys.readouterr().err.strip() == "error: give a folder, or set BACKUP_DIR"
    assert spibot(env_file, "db", "backup") == 2
    assert "give OUT" in capsys.readouterr().err


def test_restore_refuses_while_the_bot_holds_the_database(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "backup.db"
    assert spibot(env_file, "db", "backup", str(out)) == 0
    capsys.readouterr()
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async def while_held() -> int:
        async with storage.db.Database(url) as db:
            hold = await DatabaseHold.take(db.engine)
            try:
                return await asyncio.to_thread(spibot, env_file, "db", "restore", str(out), "--yes")
            finally:
                await hold.release()

    assert asyncio.run(while_held()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the bot is running on this database" in err
    assert not list(tmp_path.glob("spibot-before-restore-*"))  # nothing was touched
    assert spibot(env_file, "db", "restore", str(out), "--yes") == 0  # stopped: it works

    async def start_during_a_restore() -> None:
        async with exclusive_hold(url), storage.db.Database(url) as db:
            with pytest.raises(storage.errors.StorageError, match="a restore is replacing"):
                await DatabaseHold.take(db.engine)

    asyncio.run(start_during_a_restore())  # a bot started meanwhile refuses to start


@pytest.mark.postgres
async def test_postgres_backups_leave_surveys_in_progress_out_and_restore_waits_for_the_bot(
    tmp_path: Path,
) -> None:
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    database = _ThrowawayDatabase.create()
    try:
        async with storage.db.Database(database.url) as db:
            await import_units_csv(db.engine, units_csv_path())
            wave = await open_wave(db.engine, "2026-S1", NOW)
            unit = await storage.units.get_unit(db.engine, "DINKES")
            assert unit is not None
            await respondent(db.engine, wave, unit.id)
            answering = await begin(db.engine, wave, unit.id, answered=2)
            await storage.contacts.save_contact(
                db.engine, answering, storage.contacts.ContactPurpose.SURVEY, b"c"
            )
            dump = tmp_path / "pg.dump"
            previous = os.umask(0o022)
            try:
                assert (await asyncio.to_thread(backup_database, database.url, dump)).done
            finally:
                os.umask(previous)
            assert _mode(dump) == 0o600
            contents = describe_backup(dump)
            assert contents is not None
            assert (contents.responses, contents.answers, contents.completions) == (1, 8, 1)
            assert (contents.sessions, contents.drafts, contents.survey_contacts) == (0, 0, 0)
            assert answering.encode() not in dump.read_bytes()
            hold = await DatabaseHold.take(db.engine)
            try:
                with pytest.raises(storage.errors.StorageError, match="the bot is running"):
                    async with exclusive_hold(database.url):
                        pass
            finally:
                await hold.release()
            async with exclusive_hold(database.url):
                with pytest.raises(storage.errors.StorageError, match="a restore is replacing"):
                    await DatabaseHold.take(db.engine)
    finally:
        database.drop()


@pytest.mark.postgres
async def test_postgres_a_hold_lost_with_its_connection_is_taken_again(tmp_path: Path) -> None:
    """A server restart drops the bot's session lock with its connection: the bot notices on
    its next check and holds the database again, so a restore still refuses."""
    from tests.test_storage_updates import _terminate_backends

    database = _ThrowawayDatabase.create()
    try:
        async with storage.db.Database(database.url) as db:
            hold = await DatabaseHold.take(db.engine)
            try:
                assert not await hold.keep(db.engine)  # alive: nothing to do
                # Every backend ended, and gone: a terminated backend keeps its session lock
                # until it has exited, which pg_terminate_backend does not wait for.
                assert await _terminate_backends(database.url) >= 1
                async with exclusive_hold(database.url):
                    pass  # the lock went with its connection: this is the gap
                assert await hold.keep(db.engine)  # taken again on a new connection
                with pytest.raises(storage.errors.StorageError, match="the bot is running"):
                    async with exclusive_hold(database.url):
                        pass
            finally:
                await hold.release()
            await hold.release()  # a second release (a dead connection) raises nothing
    finally:
        database.drop()
