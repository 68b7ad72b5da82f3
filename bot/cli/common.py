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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from services.settings import Settings
    from storage import AsyncEngine

__all__ = [
    "LIBRARIES_WITH_CONTENT_IN_DEBUG",
    "JsonFormatter",
    "configure_logging",
    "now",
    "run_with_db",
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


class JsonFormatter(logging.Formatter):
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
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
    from storage import Database

    settings = settings_from(args)

    async def main() -> T:
        async with Database(settings.database_url) as db:
            return await work(db.engine, settings)

    return asyncio.run(main())


def now() -> datetime:
    """Return the current aware UTC time."""
    from services.context import utc_now

    return utc_now()
