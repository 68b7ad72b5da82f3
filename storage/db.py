"""Engine factory, Alembic upgrade and the `Database` service that owns the engine.

SQLite (aiosqlite) is the default and PostgreSQL (asyncpg) the option at scale; this module
and the repository modules are the only places that know how the two differ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from sqlalchemy import Connection, PoolProxiedConnection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "PRIVATE_FILE_MODE",
    "WRITE_OPTION",
    "AsyncEngine",  # for callers above storage, which do not import sqlalchemy
    "Database",
    "alembic_config",
    "create_engine",
    "from_db",
    "on_sqlite_begin",
    "on_sqlite_connect",
    "private_file",
    "read_connection",
    "renew_after_disconnect",
    "sqlite_file",
    "sqlite_write_lock",
    "upgrade",
    "utc",
    "write_transaction",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS: Final = 5000
SQLITE_MMAP_BYTES: Final = 256 * 1024 * 1024
# Execution option that makes the SQLite "begin" hook take the write lock up front.
WRITE_OPTION: Final = "spibot_write"
# Any constant: serialises concurrent `upgrade` calls from several processes on PostgreSQL.
_MIGRATION_LOCK_KEY: Final = 0x5B1B07
DEFAULT_POOL_SIZE: Final = 5
DEFAULT_MAX_OVERFLOW: Final = 5
# A pooled PostgreSQL connection idle longer than this is pinged before use (see _Liveness).
DEFAULT_PING_IDLE_SECONDS: Final = 30.0
# Pooled PostgreSQL connections are replaced after this long, whatever happens.
DEFAULT_POOL_RECYCLE_SECONDS: Final = 3600.0
_SUPPORTED: Final = "use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"


def _parse_url(url: str) -> URL:
    """Return the parsed URL, or raise StorageError naming what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"DATABASE_URL: not a database URL; {_SUPPORTED}") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(f"DATABASE_URL: unsupported database {backend!r}; {_SUPPORTED}")
    expected = "aiosqlite" if backend == "sqlite" else "asyncpg"
    if driver != expected:
        raise StorageError(
            f"DATABASE_URL: {backend} needs the async driver {backend}+{expected}://, "
            f"not {parsed.drivername!r}; {_SUPPORTED}"
        )
    return parsed


def sqlite_file(parsed: URL) -> Path | None:
    """Return the database file of a SQLite URL, or None for an in-memory database."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def on_sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    """Set the pragmas every SQLite connection needs and hand BEGIN over to SQLAlchemy."""
    # The sqlite3 module's own implicit BEGIN skips SELECTs and DDL; we emit BEGIN ourselves
    # (see on_sqlite_begin), the recipe from SQLAlchemy's SQLite dialect documentation.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers (scoring) run while the bot writes. It is a property of the file,
        # normally set once by create_engine; switching needs an exclusive lock and fails at
        # once (no busy wait) while another connection switches it, which is then harmless.
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                logger.debug("another connection is switching the database to WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are zeroed, not just unlinked: a submitted survey's session row (the
        # only pseudonym-to-response link) must not stay readable in the file's free space.
        cursor.execute("PRAGMA secure_delete=ON")
        # ... and the write-ahead log keeps no stale frames beyond what a transaction needs:
        # whenever the log starts over (after a complete checkpoint), it is cut to that size.
        # The scrubber (storage.anonymity) checkpoints and empties it after every submission.
        cursor.execute("PRAGMA journal_size_limit=0")
        # NORMAL is durable across application crashes in WAL mode, and much faster.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Memory-mapped reads: the scoring query walks the whole answers index.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    finally:
        cursor.close()


def on_sqlite_begin(connection: Connection) -> None:
    """Begin a transaction; writers take the lock first so busy_timeout can apply."""
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    # another writer committed in between; BEGIN IMMEDIATE waits for the lock instead.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Only the bot's user may read the database: it holds every answer. SQLite gives the -wal,
# -shm and -journal files the main file's permissions.
PRIVATE_FILE_MODE: Final = 0o600
_COMPANIONS: Final = ("", "-wal", "-shm", "-journal")


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist (never loosening an umask)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _make_private(file: Path) -> None:
    """Create the database file 0600, and tighten an existing one and its companions."""
    private_file(file)
    for suffix in _COMPANIONS:
        companion = file.with_name(file.name + suffix)
        try:
            mode = companion.stat().st_mode & 0o777
            if mode & 0o077:
                companion.chmod(PRIVATE_FILE_MODE)
                logger.info("made %s readable by its owner only", companion.name)
        except FileNotFoundError:
            continue
        except PermissionError:  # not ours: say so once, do not stop the bot for it
            logger.warning("cannot restrict the permissions of %s", companion.name)


def _enable_wal(file: Path) -> None:
    """Switch the SQLite file to WAL once, retrying while another process does the same."""
    # Blocking, but only at start-up and for a few milliseconds: create_engine is sync.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection = sqlite3.connect(file, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            try:
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            finally:
                connection.close()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise StorageError(f"DATABASE_URL: cannot open {file}: {exc}") from exc
            time.sleep(0.02)
            continue
        if mode != "wal":
            raise StorageError(f"DATABASE_URL: {file} cannot use WAL journaling (got {mode})")
        return


class _Liveness:
    """Hand out only live PostgreSQL connections, without a round trip per checkout.

    SQLAlchemy's `pool_pre_ping` sends a query on every checkout: a quarter of a millisecond
    of CPU and a round trip, several times per update. Instead, at checkout:
    - a connection the server closed (a restart, `pg_terminate_backend`, an idle timeout)
      is known to the driver at no cost: its socket saw the end. It is replaced, and with it
      every connection opened before it (a restart took them all): SQLAlchemy reconnects
      those on their next checkout;
    - a connection idle longer than `ping_idle` seconds is pinged first, since what cut it
      may have left no trace on the socket (a firewall or NAT forgetting the flow, a server
      that lost power).
    A connection used a moment ago with its socket open is live but for a crash in between,
    which the statement's own error then reports (and SQLAlchemy renews the pool after it).
    """

    def __init__(self, engine: AsyncEngine, ping_idle: float) -> None:
        self._dialect = engine.dialect
        self._ping_idle = ping_idle
        event.listen(engine.sync_engine, "checkout", self.checkout)
        event.listen(engine.sync_engine, "checkin", self.checkin)

    def checkout(self, dbapi_connection: Any, record: Any, _proxy: object) -> None:
        if record.driver_connection.is_closed():
            raise InvalidatePoolError("the server closed this connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= self._ping_idle:
            return
        try:
            alive = self._dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raises for a dead connection
            raise InvalidatePoolError(f"ping failed: {type(exc).__name__}") from exc
        if not alive:
            raise InvalidatePoolError("ping failed")

    @staticmethod
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()


_IDLE_SINCE: Final = "spibot_idle_since"


def renew_after_disconnect(
    engine: AsyncEngine, pooled: PoolProxiedConnection, exc: BaseException | None = None
) -> None:
    """Throw away a connection found cut, and every connection opened before it (synchronous:
    run it with `greenlet_spawn`).

    What SQLAlchemy does after a disconnect on one of its own statements, for our driver-level
    paths: a restart cut the whole pool, and the other connections' sockets may not have told
    the driver yet (a busy event loop has not read their end), so `_Liveness` cannot see it at
    checkout. They are reconnected on their next checkout instead of failing one by one.
    """
    # Pool._invalidate is how SQLAlchemy's Connection does it (invalidate_pool_on_disconnect);
    # there is no public call that marks the generation without replacing the pool.
    engine.sync_engine.pool._invalidate(pooled, exc)


def create_engine(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    ping_idle_seconds: float = DEFAULT_PING_IDLE_SECONDS,
    pool_recycle_seconds: float = DEFAULT_POOL_RECYCLE_SECONDS,
) -> AsyncEngine:
    """Create the async engine for a `sqlite+aiosqlite://` or `postgresql+asyncpg://` URL.

    `pool_size` and `max_overflow` bound the PostgreSQL connections of this process: several
    bot processes share one server's max_connections. A pooled PostgreSQL connection idle
    longer than `ping_idle_seconds` is pinged before use, and every one is replaced after
    `pool_recycle_seconds` (see `_Liveness`).
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_async_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle_seconds,
            # A failed statement's message would otherwise carry its parameters (answers).
            hide_parameters=True,
        )
        _Liveness(engine, ping_idle_seconds)
        return engine
    file = sqlite_file(parsed)
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"DATABASE_URL: cannot create {file.parent}: {exc}") from exc
        if not file.is_dir():
            try:
                _make_private(file)
            except OSError as exc:
                raise StorageError(f"DATABASE_URL: cannot create {file}: {exc}") from exc
        _enable_wal(file)
    engine = create_async_engine(parsed, hide_parameters=True)
    event.listen(engine.sync_engine, "connect", on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", on_sqlite_begin)
    return engine


# SQLite has one writer at a time. Inside one process, writers queue on this lock instead of
# on SQLite's busy timeout, so concurrent updates can never end in "database is locked"; the
# busy timeout is left for other processes (the CLI next to a running bot).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_write_lock(engine: AsyncEngine) -> asyncio.Lock:
    """Return the lock every writer of this SQLite engine holds while it writes."""
    return _SQLITE_WRITERS.setdefault(engine, asyncio.Lock())


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a transaction meant to write: committed on success, rolled back on error."""
    if engine.dialect.name != "sqlite":
        async with engine.connect() as connection, connection.begin():
            yield connection
        return
    async with sqlite_write_lock(engine), engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a connection for reads (one consistent transaction, rolled back at the end)."""
    async with engine.connect() as connection:
        yield connection


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config for the packaged migrations (no alembic.ini needed)."""
    # Imported here: every CLI command imports storage, and Alembic costs ~0.1 s to import.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation: a literal % (e.g. in a password) must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    """Run `alembic upgrade` on an open (sync-facade) connection."""
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Turn SQLite's foreign key enforcement on or off for this connection.

    Only takes effect outside a transaction, so it goes to the driver directly (SQLAlchemy
    would BEGIN first). Migrations run with keys off: batch mode rebuilds a table by DROP and
    CREATE, and with keys on, dropping a table others reference fails, or cascades into its
    children (SQLite's procedure: https://www.sqlite.org/lang_altertable.html#otheralter).
    """
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def check_foreign_keys(connection: Connection) -> None:
    """Raise when a row points at nothing (after a migration ran with keys off)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left {len(broken)} dangling references: {broken[:3]}")


async def _upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind `engine` to `revision` in one transaction."""
    if engine.dialect.name != "sqlite":
        async with write_transaction(engine) as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
            await connection.run_sync(_upgrade_on, revision)
        return
    async with sqlite_write_lock(engine), engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        await connection.run_sync(sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade_on, revision)
                await connection.run_sync(check_foreign_keys)
        finally:
            await connection.run_sync(sqlite_foreign_keys, True)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` (works inside a running event loop)."""
    engine = create_engine(url)
    try:
        await _upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


def utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC; reject naive ones (storage never guesses a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("storage needs timezone-aware datetimes (UTC)")
    return moment.astimezone(UTC)


def from_db(moment: datetime) -> datetime:
    """Return a stored timestamp as aware UTC (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Database:
    """The bot's database: owns the engine from `initialize()` (migrations) to `close()`."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_overflow: int = DEFAULT_MAX_OVERFLOW,
        ping_idle_seconds: float = DEFAULT_PING_IDLE_SECONDS,
        pool_recycle_seconds: float = DEFAULT_POOL_RECYCLE_SECONDS,
    ) -> None:
        self.url = url
        self._parsed = _parse_url(url)
        self._pool: dict[str, Any] = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "ping_idle_seconds": ping_idle_seconds,
            "pool_recycle_seconds": pool_recycle_seconds,
        }
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        """Return the engine; only valid between `initialize()` and `close()`."""
        if self._engine is None:
            raise StorageError("Database is not initialised; call `await db.initialize()`")
        return self._engine

    @property
    def dialect_name(self) -> str:
        """Return "sqlite" or "postgresql"."""
        return self._parsed.get_backend_name()

    async def initialize(self, *, migrate: bool = True) -> None:
        """Create the engine and, unless told not to, bring the schema up to date."""
        if self._engine is not None:
            return
        engine = create_engine(self.url, **self._pool)
        try:
            if migrate:
                await _upgrade_engine(engine)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        logger.info("database ready (%s)", self.dialect_name)

    async def ping(self) -> bool:
        """Return whether the database answers a trivial query (for a readiness probe)."""
        if self._engine is None:
            return False
        try:
            async with self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as exc:
            logger.warning("database not reachable: %s", type(exc).__name__)
            return False
        return True

    async def close(self) -> None:
        """Dispose of the engine and its pooled connections."""
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
