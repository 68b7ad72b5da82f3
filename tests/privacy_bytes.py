"""Reading database files as an operator would: raw bytes, not SQL, for what deletes left.

SQLite: the main file and its write-ahead log. PostgreSQL: every page of a relation as the
server holds it (``pageinspect``'s ``get_raw_page``; needs a superuser), and when the data
directory is readable here (a local server, run as root), the relation files themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "SESSION_STEPS",
    "draft_rows",
    "pg_data_files",
    "pg_raw_pages",
    "session_rows",
    "side_by_side",
    "sqlite_files",
]

# A session row holds the pseudonym and, a few bytes on, the step it is at.
SESSION_STEPS = ("question", "review", "consent", "language", "eligibility")


def side_by_side(blob: bytes, first: str, following: Iterable[str], window: int) -> int:
    """Count the places where one of `following` starts within `window` bytes after `first`.

    A row stores its columns next to each other (SQLite: back to back; PostgreSQL: a length
    byte or some alignment between), so a pseudonym followed by a question id is a draft
    answer's row (or its index entry), and a pseudonym followed by a step is a session's.
    """
    needle = first.encode()
    targets = [t.encode() for t in following]
    longest = max((len(t) for t in targets), default=0)
    found, start = 0, 0
    while (at := blob.find(needle, start)) >= 0:
        end = at + len(needle)
        tail = blob[end : end + window + longest]
        found += any(0 <= tail.find(t) <= window for t in targets)
        start = at + 1
    return found


def draft_rows(blob: bytes, pseudonym: str, question_ids: Iterable[str]) -> int:
    """Count draft-answer rows (pseudonym beside a question id) in raw bytes."""
    return side_by_side(blob, pseudonym, question_ids, 8)


def session_rows(blob: bytes, pseudonym: str) -> int:
    """Count session rows (pseudonym with a survey step a few bytes on) in raw bytes."""
    return side_by_side(blob, pseudonym, SESSION_STEPS, 64)


def sqlite_files(database: Path) -> bytes:
    """Return the bytes of a SQLite database file and its companions, as `cp` would copy them."""
    parts = []
    for suffix in ("", "-wal", "-journal"):
        path = database.with_name(database.name + suffix)
        if path.exists():
            parts.append(path.read_bytes())
    return b"".join(parts)


async def pg_raw_pages(conn: AsyncConnection, relations: Iterable[str]) -> bytes:
    """Return every page of these relations (tables and indexes) as the server holds them."""
    parts = []
    for relation in relations:
        pages = (
            await conn.execute(
                text(
                    "SELECT get_raw_page(CAST(:rel AS text), CAST(b AS int)) "
                    "FROM generate_series(0, (pg_relation_size(CAST(:rel AS regclass)) "
                    "/ current_setting('block_size')::int) - 1) AS b"
                ),
                {"rel": relation},
            )
        ).scalars()
        parts.extend(bytes(page) for page in pages)
    return b"".join(parts)


async def pg_data_files(conn: AsyncConnection) -> bytes | None:
    """Return the bytes of every file of this database in the data directory after a
    checkpoint; None when the directory cannot be read here (another machine, another user)."""
    try:
        await conn.execute(text("CHECKPOINT"))
        root = (await conn.execute(text("SHOW data_directory"))).scalar_one()
        oid = (
            await conn.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            )
        ).scalar_one()
    except Exception:  # not a superuser: the caller says what it could not check
        return None
    folder = Path(root) / "base" / str(oid)
    try:
        return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())
    except OSError:
        return None
