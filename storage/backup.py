"""Backups of submitted data only, taken while the bot runs; restores that cannot clobber it.

A backup holds no survey in progress (issue 20): no session, no draft answer, no survey
contact, so a stolen or old backup never ties a person to answers. SQLite: the online backup
API (``sqlite3.Connection.backup``) copies the database under one read transaction into a
hidden file created 0600; the survey state is deleted there (rollback journal in memory,
deleted bytes zeroed) and the file is VACUUMed, so it holds live rows only, then renamed into
place. PostgreSQL: ``pg_dump --format=custom`` without those tables' data. A restore tells
people who were answering to start again (docs/operations.md).

A running bot holds the database (`DatabaseHold`: a shared `flock` on ``DB.lock`` for SQLite,
a shared advisory lock on PostgreSQL); `exclusive_hold` is what a restore takes first, so it
refuses while a bot runs, and keeps an automatic backup of what it replaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import _parse_url, create_engine, private_file, sqlite_file
from storage.errors import StorageError

__all__ = [
    "BACKUP_PREFIX",
    "SURVEY_STATE_TABLES",
    "BackupContents",
    "BackupResult",
    "DatabaseHold",
    "ListedBackup",
    "backup_database",
    "backup_moment",
    "backup_name",
    "copy_folder",
    "describe_backup",
    "exclusive_hold",
    "list_backups",
    "prune_backups",
    "restore_database",
]

_TIMEOUT_SECONDS: Final = 3600
BACKUP_PREFIX: Final = "spibot-"
# Copies a restore keeps of what it replaces: listed, never pruned by the nightly retention.
BEFORE_RESTORE_PREFIX: Final = "spibot-before-restore-"
_SUFFIXES: Final = (".db", ".dump")
_STAMP: Final = "%Y%m%d-%H%M%S"
# Surveys in progress (children first): never in a backup.
SURVEY_STATE_TABLES: Final = ("draft_answers", "survey_contacts", "survey_sessions")
# Any constant: bots hold it shared, a restore exclusively (PostgreSQL).
_HOLD_KEY: Final = 0x5B1B0D


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup or restore did; `command` is set when it could not run it itself."""

    path: Path
    done: bool
    command: tuple[str, ...] = ()
    needs_password: bool = False
    size_bytes: int = 0
    responses: int | None = None
    # The automatic backup a restore took of the database it replaced.
    replaced_copy: Path | None = None


@dataclass(frozen=True, slots=True)
class BackupContents:
    """Rows a backup holds, per kind (the last three are always 0 in our backups)."""

    waves: int = 0
    responses: int = 0
    answers: int = 0
    completions: int = 0
    sessions: int = 0
    drafts: int = 0
    survey_contacts: int = 0


_COUNTED: Final = {
    "waves": "waves",
    "responses": "responses",
    "answers": "answers",
    "completions": "completions",
    "sessions": "survey_sessions",
    "drafts": "draft_answers",
    "survey_contacts": "survey_contacts",
}


@dataclass(frozen=True, slots=True)
class ListedBackup:
    """A backup file in a folder: when it was taken, its size and what it holds."""

    path: Path
    taken_at: datetime
    size_bytes: int
    contents: BackupContents | None  # None: could not be read (damaged, or no pg_restore)
    before_restore: bool = False


def _libpq_url(parsed: URL) -> str:
    """Return the URL for libpq tools, without the driver and without the password."""
    # URL.set(password=None) keeps the password; replacing the field drops it.
    bare = parsed._replace(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False)


def _environment(parsed: URL) -> dict[str, str]:
    """Pass the password in PGPASSWORD, never on the command line (visible in `ps`)."""
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return env


def _sqlite_counts(path: Path) -> BackupContents:
    """Count what a SQLite file holds (tables it lacks count 0), read-only."""
    counts: dict[str, int] = {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for field_name, table in _COUNTED.items():
            if table in tables:
                # Names come from the constant above, never from input.
                counts[field_name] = int(
                    conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                )
    return BackupContents(**counts)


def _check_sqlite(path: Path) -> None:
    """Raise StorageError unless `path` is an intact spi-bot SQLite database."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: not a SQLite database ({exc})") from exc
    if result is None or result[0] != "ok":
        raise StorageError(f"{path}: the database is damaged ({result})")
    if "alembic_version" not in tables or "responses" not in tables:
        raise StorageError(f"{path}: not an spi-bot database (no responses table)")


def _strip_survey_state(conn: sqlite3.Connection) -> None:
    """Delete every survey in progress from a copy and rebuild it with live rows only."""
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the source is WAL)
    # The rollback journal of the delete would hold the rows' old pages: keep it in memory.
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA secure_delete=ON")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in SURVEY_STATE_TABLES:
        if table in tables:
            conn.execute(f'DELETE FROM "{table}"')  # names from the constant above
    conn.commit()
    # VACUUM writes the live rows to a new image and copies it over the file: no deleted row,
    # no free page, nothing in the order the rows were written survives.
    conn.execute("VACUUM")


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database without its surveys in progress, atomically into `target`."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 before a byte is written (SQLite keeps the mode)
    try:
        # Not mode=ro: a read-only connection cannot open a WAL database whose -shm file is
        # missing (the bot not running); this connection only ever reads.
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            # pages=-1: the whole database in one step, under one read transaction, so a
            # write committed meanwhile cannot make the copy restart or mix two moments.
            src.backup(dst, pages=-1)
            _strip_survey_state(dst)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def backup_name(url: str, now: datetime, *, prefix: str = BACKUP_PREFIX) -> str:
    """Name a backup in a folder: spibot-YYYYMMDD-HHMMSS.db (.dump on PostgreSQL), UTC."""
    suffix = ".db" if _parse_url(url).get_backend_name() == "sqlite" else ".dump"
    return f"{prefix}{now.astimezone(UTC).strftime(_STAMP)}{suffix}"


_NAMED: Final = re.compile(r"^spibot-(before-restore-)?(\d{8}-\d{6})(\.db|\.dump)$")


def _named(path: Path) -> tuple[datetime, bool] | None:
    """Return (when taken, whether a pre-restore copy) for a file named by backup_name."""
    match = _NAMED.match(path.name)
    if match is None:
        return None
    try:
        moment = datetime.strptime(match.group(2), _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment, match.group(1) is not None


def backup_moment(path: Path) -> datetime | None:
    """Return when a dated (nightly or folder) backup was taken (UTC); None for other files,
    the copies a restore keeps included."""
    named = _named(path)
    return None if named is None or named[1] else named[0]


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest dated backups; return those deleted (copies a restore
    kept are never deleted)."""
    if keep < 1:
        raise StorageError("keep at least one backup")
    named = sorted(
        (moment, p) for p in folder.iterdir() if p.is_file() and (moment := backup_moment(p))
    )
    old = [p for _moment, p in named[:-keep]]
    for path in old:
        path.unlink()
    return old


def backup_database(url: str, out: Path, *, overwrite: bool = False) -> BackupResult:
    """Back up the submitted data of the database at `url` into `out` while it is in use.

    Raises StorageError when `out` exists (unless `overwrite`), or the source is missing.
    """
    parsed = _parse_url(url)
    if out.exists() and not overwrite:
        raise StorageError(f"{out} exists; choose another name or pass --force")
    if parsed.get_backend_name() == "sqlite":
        source = sqlite_file(parsed)
        if source is None:
            raise StorageError("an in-memory SQLite database cannot be backed up")
        if not source.is_file():
            raise StorageError(f"{source}: no such database file")
        _sqlite_copy(source, out)
        return BackupResult(
            out, True, size_bytes=out.stat().st_size, responses=_sqlite_counts(out).responses
        )
    partial = out.with_name(f".{out.name}.partial")
    command = (
        "pg_dump",
        "--format=custom",
        "--no-owner",
        *(f"--exclude-table-data={table}" for table in SURVEY_STATE_TABLES),
        f"--file={partial}",
        f"--dbname={_libpq_url(parsed)}",
    )
    if shutil.which(command[0]) is None:  # say what to run, with the real file name
        shown = tuple(f"--file={out}" if c == f"--file={partial}" else c for c in command)
        return BackupResult(out, False, shown, parsed.password is not None)
    partial.unlink(missing_ok=True)
    private_file(partial)  # pg_dump writes into it and keeps its mode
    try:
        result = _run_pg(command, parsed, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(out, True, command, result.needs_password, size_bytes=out.stat().st_size)


def _copy_rows(lines: IO[str]) -> BackupContents:
    """Count the rows of each COPY block in a plain SQL stream (pg_restore --file=-)."""
    counts = dict.fromkeys(_COUNTED, 0)
    names = {table: field_name for field_name, table in _COUNTED.items()}
    current: str | None = None
    for line in lines:
        if current is None:
            if line.startswith("COPY "):
                table = line.split()[1].split(".")[-1].strip('"')
                current = names.get(table, "")
        elif line.startswith("\\."):
            current = None
        elif current:
            counts[current] += 1
    return BackupContents(**counts)


def describe_backup(path: Path) -> BackupContents | None:
    """Return the rows a backup file holds; None when it cannot be read here."""
    if path.suffix == ".db":
        try:
            return _sqlite_counts(path)
        except sqlite3.DatabaseError:
            return None
    program = shutil.which("pg_restore")
    if program is None:
        return None
    with subprocess.Popen(  # noqa: S603 - fixed program, arguments are not a shell line
        (program, "--data-only", "--file=-", str(path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdout is not None
        contents = _copy_rows(process.stdout)
    return contents if process.returncode == 0 else None


def list_backups(folder: Path) -> list[ListedBackup]:
    """Return the backups in `folder` (dated ones and copies a restore kept), oldest first."""
    if not folder.is_dir():
        raise StorageError(f"{folder}: no such folder")
    found = []
    for path in folder.iterdir():
        named = _named(path) if path.is_file() else None
        if named is not None:
            moment, before_restore = named
            found.append(
                ListedBackup(
                    path, moment, path.stat().st_size, describe_backup(path), before_restore
                )
            )
    return sorted(found, key=lambda b: (b.taken_at, b.path.name))


def copy_folder(url: str, backup_dir: Path | None) -> Path:
    """Return where a restore keeps its copy of what it replaces: BACKUP_DIR when set, else
    beside the SQLite file (the current folder for PostgreSQL)."""
    if backup_dir is not None:
        return backup_dir
    database = sqlite_file(_parse_url(url))
    return database.parent if database is not None else Path.cwd()


def restore_database(
    url: str, backup: Path, *, keep_copy_in: Path | None = None, now: datetime | None = None
) -> BackupResult:
    """Replace the database at `url` with the backup file (hold `exclusive_hold` first).

    With `keep_copy_in`, the database about to be replaced is backed up there first (named
    spibot-before-restore-…); the restore does not start unless that copy was made.
    """
    parsed = _parse_url(url)
    if not backup.is_file():
        raise StorageError(f"{backup}: no such backup file")
    sqlite = parsed.get_backend_name() == "sqlite"
    target = sqlite_file(parsed) if sqlite else None
    if sqlite:
        if target is None:
            raise StorageError("an in-memory SQLite database cannot be restored into")
        _check_sqlite(backup)
    copy: Path | None = None
    if keep_copy_in is not None and (not sqlite or (target is not None and target.is_file())):
        keep_copy_in.mkdir(parents=True, exist_ok=True)
        copy = keep_copy_in / backup_name(
            url, now or datetime.now(UTC), prefix=BEFORE_RESTORE_PREFIX
        )
        kept = backup_database(url, copy)
        if not kept.done:
            return kept  # the admin runs pg_dump elsewhere first; nothing was replaced
    if sqlite:
        assert target is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        private_file(target)
        # The backup API into the live file keeps other connections' view consistent (they
        # see the old or the new database, never a mix) and clears its WAL.
        with (
            contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst, pages=-1)
        return BackupResult(
            target,
            True,
            size_bytes=target.stat().st_size,
            responses=_sqlite_counts(target).responses,
            replaced_copy=copy,
        )
    command = (
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={_libpq_url(parsed)}",
        str(backup),
    )
    if shutil.which(command[0]) is None:
        return BackupResult(backup, False, command, parsed.password is not None)
    result = _run_pg(command, parsed, backup)
    return BackupResult(
        result.path, True, command, result.needs_password, result.size_bytes, replaced_copy=copy
    )


def _run_pg(command: tuple[str, ...], parsed: URL, path: Path) -> BackupResult:
    """Run a PostgreSQL client tool (installed: the callers checked)."""
    completed = subprocess.run(  # noqa: S603 - fixed program, arguments are not a shell line
        command,
        env=_environment(parsed),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        message = completed.stderr.strip().splitlines()
        raise StorageError(
            f"{command[0]} failed: {message[-1] if message else completed.returncode}"
        )
    size = path.stat().st_size if path.exists() else 0
    return BackupResult(path, True, command, parsed.password is not None, size_bytes=size)


# -- who holds the database ------------------------------------------------------------------


def _lock_file(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _flock(database: Path, mode: int) -> int | None:
    """Take a non-blocking flock on the database's lock file; None when someone conflicts."""
    lock = _lock_file(database)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class DatabaseHold:
    """What a running bot holds for its lifetime so a restore refuses to replace its data.

    SQLite: a shared flock on ``DATABASE.lock`` (the kernel drops it if the process dies).
    PostgreSQL: a shared session advisory lock on one connection of the engine.
    """

    def __init__(self, fd: int | None = None, connection: AsyncConnection | None = None) -> None:
        self._fd = fd
        self._connection = connection

    @classmethod
    async def take(cls, engine: AsyncEngine) -> DatabaseHold:
        """Hold the database behind `engine`; StorageError while a restore replaces it."""
        busy = "a restore is replacing the database; start the bot when it is done"
        if engine.dialect.name == "postgresql":
            connection = await engine.connect()
            conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
            held = (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock_shared(:key)"), {"key": _HOLD_KEY}
                )
            ).scalar()
            if not held:
                await connection.close()
                raise StorageError(busy)
            return cls(connection=connection)
        database = sqlite_file(engine.url)
        if database is None:
            return cls()
        fd = _flock(database, fcntl.LOCK_SH)
        if fd is None:
            raise StorageError(busy)
        return cls(fd=fd)

    async def keep(self, engine: AsyncEngine) -> bool:
        """Make sure the hold is still held; True when it had to be taken again.

        A PostgreSQL session lock lives as long as its connection: when the server restarts
        or terminates that backend, the lock is gone and a restore could start. The running
        bot calls this now and then, and takes the lock again on a new connection (a
        StorageError if a restore got in between). The SQLite flock cannot be lost.
        """
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            return False
        except DBAPIError:
            with contextlib.suppress(DBAPIError):
                await self._connection.invalidate()
            self._connection = None
        self._connection = (await DatabaseHold.take(engine))._connection
        return True

    async def release(self) -> None:
        """Let go (at shutdown)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the flock
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                # The connection goes back to the pool, its session alive: unlock first.
                await connection.execute(
                    text("SELECT pg_advisory_unlock_shared(:key)"), {"key": _HOLD_KEY}
                )
            except DBAPIError:  # the connection died (a server restart): so did the lock
                with contextlib.suppress(DBAPIError):
                    await connection.invalidate()
            finally:
                await connection.close()


@contextlib.asynccontextmanager
async def exclusive_hold(url: str) -> AsyncIterator[None]:
    """Hold the database exclusively for a restore; StorageError when a bot is running on it."""
    running = "the bot is running on this database; stop it (every bot process) and try again"
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(parsed)
        if database is None:
            yield
            return
        fd = _flock(database, fcntl.LOCK_EX)
        if fd is None:
            raise StorageError(running)
        try:
            yield
        finally:
            os.close(fd)
        return
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
            locked = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _HOLD_KEY})
            ).scalar()
            if not locked:
                raise StorageError(running)
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _HOLD_KEY})
    finally:
        await engine.dispose()
