"""Backups while the bot runs: SQLite's online backup API, or pg_dump/pg_restore.

SQLite: ``sqlite3.Connection.backup`` copies the database page by page under one read
transaction, so the copy is the consistent state of one moment (WAL included) while the bot
keeps writing; it is written beside the target and renamed into place, so a half-written
file never carries the backup's name. PostgreSQL: ``pg_dump --format=custom`` when it is on
PATH, otherwise the exact command to run is returned. docs/operations.md explains both.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL

from storage.db import _parse_url, sqlite_file
from storage.errors import StorageError

__all__ = [
    "BACKUP_PREFIX",
    "BackupResult",
    "backup_database",
    "backup_moment",
    "backup_name",
    "prune_backups",
    "restore_database",
]

_TIMEOUT_SECONDS: Final = 3600
BACKUP_PREFIX: Final = "spibot-"
_SUFFIXES: Final = (".db", ".dump")


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup or restore did; `command` is set when it could not run it itself."""

    path: Path
    done: bool
    command: tuple[str, ...] = ()
    needs_password: bool = False
    size_bytes: int = 0
    responses: int | None = None


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


def _count_responses(path: Path) -> int | None:
    """Return the submitted responses in a SQLite file (None when it has no such table)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            row = conn.execute(
                "SELECT count(*) FROM responses WHERE status = 'submitted'"
            ).fetchone()
        except sqlite3.DatabaseError:
            return None
    return int(row[0])


def _check_sqlite(path: Path) -> None:
    """Raise StorageError unless `path` is an intact spi-bot SQLite database."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: not a SQLite database ({exc})") from exc
    if result is None or result[0] != "ok":
        raise StorageError(f"{path}: the database is damaged ({result})")
    if "alembic_version" not in tables or "responses" not in tables:
        raise StorageError(f"{path}: not an spi-bot database (no responses table)")


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API, atomically into `target`."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # Not mode=ro: a read-only connection cannot open a WAL database whose -shm file is
        # missing (the bot not running); this connection only ever reads.
        src = sqlite3.connect(source)
        try:
            dst = sqlite3.connect(partial)
            try:
                # pages=-1: the whole database in one step, under one read transaction, so a
                # write committed meanwhile cannot make the copy restart or mix two moments.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def backup_name(url: str, now: datetime) -> str:
    """Name a backup in a folder: spibot-YYYYMMDD-HHMMSS.db (.dump on PostgreSQL), UTC."""
    suffix = ".db" if _parse_url(url).get_backend_name() == "sqlite" else ".dump"
    return f"{BACKUP_PREFIX}{now.astimezone(UTC):%Y%m%d-%H%M%S}{suffix}"


def backup_moment(path: Path) -> datetime | None:
    """Return when a backup named by backup_name was taken (UTC), or None for other files."""
    name = path.name
    if not name.startswith(BACKUP_PREFIX) or path.suffix not in _SUFFIXES:
        return None
    stamp = name[len(BACKUP_PREFIX) : -len(path.suffix)]
    try:
        return datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups named by backup_name; return those deleted."""
    if keep < 1:
        raise StorageError("keep at least one backup")
    named = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.startswith(BACKUP_PREFIX) and p.suffix in _SUFFIXES
    )
    old = named[:-keep]
    for path in old:
        path.unlink()
    return old


def backup_database(url: str, out: Path, *, overwrite: bool = False) -> BackupResult:
    """Back up the database at `url` into `out` while it is in use.

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
            out, True, size_bytes=out.stat().st_size, responses=_count_responses(out)
        )
    command = (
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={out}",
        f"--dbname={_libpq_url(parsed)}",
    )
    return _run_pg(command, parsed, out)


def restore_database(url: str, backup: Path) -> BackupResult:
    """Replace the database at `url` with the backup file (stop the bot first)."""
    parsed = _parse_url(url)
    if not backup.is_file():
        raise StorageError(f"{backup}: no such backup file")
    if parsed.get_backend_name() == "sqlite":
        target = sqlite_file(parsed)
        if target is None:
            raise StorageError("an in-memory SQLite database cannot be restored into")
        _check_sqlite(backup)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The backup API into the live file keeps other connections' view consistent (they
        # see the old or the new database, never a mix) and clears its WAL.
        with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as src:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst, pages=-1)
            finally:
                dst.close()
        return BackupResult(
            target, True, size_bytes=target.stat().st_size, responses=_count_responses(target)
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
    return _run_pg(command, parsed, backup)


def _run_pg(command: tuple[str, ...], parsed: URL, path: Path) -> BackupResult:
    """Run a PostgreSQL client tool when it is installed; otherwise return what to run."""
    needs_password = parsed.password is not None
    if shutil.which(command[0]) is None:
        return BackupResult(path, False, command, needs_password)
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
    return BackupResult(path, True, command, needs_password, size_bytes=size)
