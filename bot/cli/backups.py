"""`spibot db backup` and `spibot db restore`: copies of the database, taken while it runs."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import settings_from

if TYPE_CHECKING:
    from storage.backup import BackupResult

__all__ = ["add_backup_commands"]


def _report_not_run(result: BackupResult) -> int:
    """Tell the admin the exact PostgreSQL command, since the tool is not installed here."""
    tool = result.command[0]
    print(f"{tool} is not on PATH; run this where the PostgreSQL client tools are installed:")
    prefix = "PGPASSWORD='…' " if result.needs_password else ""
    print(f"  {prefix}{shlex.join(result.command)}")
    return 2  # an expected error: one line, exit 2 (as every spibot command)


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"


def cmd_db_backup(args: argparse.Namespace) -> int:
    """Back up the database into a file, consistently, while the bot may be writing."""
    from bot.cli.common import now
    from storage import StorageError
    from storage.backup import backup_database, backup_name, prune_backups

    settings = settings_from(args)
    out = Path(args.out)
    folder = out.is_dir()
    if args.keep is not None and not folder:
        print("error: --keep needs OUT to be a folder of dated backups", file=sys.stderr)
        return 2
    try:
        if folder:
            out = out / backup_name(settings.database_url, now())
        result = backup_database(settings.database_url, out, overwrite=args.force)
        pruned = prune_backups(out.parent, args.keep) if args.keep and result.done else []
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    except OSError as exc:
        print(f"cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    if not result.done:
        return _report_not_run(result)
    held = "" if result.responses is None else f", {result.responses} submitted responses"
    print(f"backup written to {result.path} ({_size(result.size_bytes)}{held})")
    if pruned:
        print(f"removed {len(pruned)} older backups, keeping {args.keep}")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    """Replace the database with a backup (stop the bot first), then apply migrations."""
    from storage import StorageError, upgrade
    from storage.backup import restore_database

    if not args.yes:
        print(
            "error: restoring replaces every row in the database with the backup's; stop the "
            "bot, then run again with --yes",
            file=sys.stderr,
        )
        return 2
    settings = settings_from(args)
    try:
        result = restore_database(settings.database_url, Path(args.backup))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    if not result.done:
        return _report_not_run(result)
    asyncio.run(upgrade(settings.database_url))  # an older backup gets today's schema
    held = "" if result.responses is None else f" ({result.responses} submitted responses)"
    print(f"database restored from {args.backup}{held}; migrations applied")
    return 0


def add_backup_commands(db: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `backup` and `restore` under `spibot db`."""
    p = db.add_parser("backup", help="copy the database to a file while the bot runs")
    p.add_argument(
        "out", metavar="OUT", help="backup file, or a folder for a dated spibot-….db/.dump file"
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--keep", type=int, metavar="N", help="with a folder: keep only the N newest backups"
    )
    p.set_defaults(func=cmd_db_backup)
    p = db.add_parser("restore", help="replace the database with a backup (stop the bot first)")
    p.add_argument("backup", metavar="BACKUP")
    p.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")
    p.set_defaults(func=cmd_db_restore)
