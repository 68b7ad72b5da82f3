"""What every `spibot` command shares: settings, logging, and running work on a migrated database.

Heavy modules are imported inside the functions so that `spibot --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = [
    "LIBRARIES_WITH_CONTENT_IN_DEBUG",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "now",
    "run_with_db",
    "safe_traceback",
    "settings_from",
]

T = TypeVar("T")

LIBRARIES_WITH_CONTENT_IN_DEBUG: Final = (
    "telegram",
    "httpcore",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "uvicorn",
    "starlette",
)

# Exceptions from these libraries can quote stored values: a database error's text carries the
# statement's parameters (SQLAlchemy), the conflicting key (PostgreSQL's DETAIL: "Key
# (pseudonym)=(…) already exists") or the row; an HTTP client's carries the URL, and a Bot API
# URL holds the token. Their tracebacks are logged with the message withheld.
LIBRARIES_WITH_VALUES_IN_ERRORS: Final = (
    "sqlalchemy",
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "httpx",
    "httpcore",
)
WITHHELD: Final = "(message withheld: it may quote stored values)"


def _quotes_values(exc: BaseException) -> bool:
    return any(
        (klass.__module__ or "").split(".")[0] in LIBRARIES_WITH_VALUES_IN_ERRORS
        for klass in type(exc).__mro__
    )


def safe_traceback(exc: BaseException) -> str:
    """Return `exc`'s traceback, its chain included, without the text of risky exceptions.

    The frames (files, lines, code) are kept, so the failure can still be found; the message
    of an exception raised by a library in `LIBRARIES_WITH_VALUES_IN_ERRORS`, or of ours that
    wraps one, is replaced by `WITHHELD`.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        cause = current.__cause__
        current = (
            cause
            if cause is not None
            else (None if current.__suppress_context__ else current.__context__)
        )
    risky = any(_quotes_values(link) for link in chain)
    parts: list[str] = []
    for position, link in enumerate(reversed(chain)):
        if position:
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if link.__cause__ is not None
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        name = f"{type(link).__module__}.{type(link).__qualname__}"
        text = WITHHELD if risky else str(link)
        parts.append(f"{name}: {text}\n" if text else f"{name}\n")
    return "".join(parts).rstrip("\n")


def _exception_of(ei: Any) -> BaseException | None:
    return ei[1] if isinstance(ei, tuple) else ei if isinstance(ei, BaseException) else None


class TextFormatter(logging.Formatter):
    """The terminal's format; tracebacks through `safe_traceback`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: Any) -> str:
        """Return the traceback with risky messages withheld."""
        exc = _exception_of(ei)
        return safe_traceback(exc) if exc is not None else super().formatException(ei)


def settings_from(args: argparse.Namespace) -> Settings:
    """Load the settings named by `--env-file` (default `.env`, which may be absent).

    A file named with `--env-file` must exist: falling back to the defaults would quietly
    create `./spibot.db` and run against the wrong database. `--env-file /dev/null` says
    "no file, the environment only" (containers, tests).
    """
    from services.settings import ConfigError, load_settings

    if not args.env_file:
        return load_settings(Path(".env"))
    if args.env_file == os.devnull:
        return load_settings(None)
    env_file = Path(args.env_file)
    if not env_file.is_file():
        what = "is not a file" if env_file.exists() else "does not exist"
        raise ConfigError(f"--env-file {env_file}: {what}")
    return load_settings(env_file)


class JsonFormatter(TextFormatter):
    """One JSON object a line: time, level, logger, message and, on failure, the traceback.

    Only these fields: `extra` attributes a library attaches to a record are not copied, so
    nothing reaches the log collector that our own messages do not say (never ids or answers).
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Write to whatever `sys.stderr` is when a record is emitted, unless given a stream."""

    def __init__(self) -> None:
        super().__init__()
        self._fixed: Any = None  # StreamHandler's own __init__ went through the setter

    @property
    def stream(self) -> Any:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._fixed = None if value is sys.stderr else value


def configure_logging(level: str, log_format: str = "text") -> None:
    """Configure logging once for the process (never log answers or Telegram ids).

    `log_format` is "text" for a terminal or "json" (one object a line) for a log collector.
    """
    handler = _StderrHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request URL, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" is noise
    # At INFO and below these libraries log what passes through them (SQL, chat ids, message
    # texts, parameters): they log warnings only. LOG_LEVEL=DEBUG is for our own code.
    for name in LIBRARIES_WITH_CONTENT_IN_DEBUG:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def run_with_db(
    args: argparse.Namespace, work: Callable[[AsyncEngine, Settings], Awaitable[T]]
) -> T:
    """Run `work` with a migrated database; admin errors become one line on stderr."""
    from storage.db import Database

    settings = settings_from(args)

    async def main() -> T:
        async with Database(settings.database_url) as db:
            return await work(db.engine, settings)

    return asyncio.run(main())


def now() -> datetime:
    """Return the current aware UTC time."""
    from services.context import utc_now

    return utc_now()
