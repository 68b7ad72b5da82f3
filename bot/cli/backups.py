"""`spibot db backup` (and `--list`) and `spibot db restore`: copies of the submitted data,
taken while the bot runs, and a way back that refuses while the bot runs."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import settings_from

if TYPE_CHECKING:
    from storage.backup import BackupResult, ListedBackup

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


def _listed(backup: ListedBackup) -> str:
    """Return one line of `db backup --list`."""
    when = f"{backup.taken_at:%Y-%m-%d %H:%M:%S} UTC"
    kind = " (kept by a restore)" if backup.before_restore else ""
    held = backup.contents
    if held is None:
        what = "contents unreadable here"
    else:
        what = (
            f"{held.waves} waves, {held.responses} responses, {held.answers} answers, "
            f"{held.completions} completion markers; surveys in progress: {held.sessions} "
            f"sessions, {held.drafts} draft answers, {held.survey_contacts} contacts"
        )
    return f"{when}  {_size(backup.size_bytes):>9}  {backup.path.name}{kind}\n    {what}"


def _list_backups(args: argparse.Namespace) -> int:
    """Print the dated backups in a folder with what each holds."""
    from storage.backup import list_backups
    from storage.errors import StorageError

    settings = settings_from(args)
    folder = Path(args.out) if args.out else settings.backup_dir
    if folder is None:
        print("error: give a folder, or set BACKUP_DIR", file=sys.stderr)
        return 2
    try:
        backups = list_backups(folder)
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not backups:
        print(f"no backups in {folder}")
        return 0
    print(f"backups in {folder} (submitted data only; times in UTC):")
    for backup in backups:
        print(_listed(backup))
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """Back up the submitted data, consistently, while the bot may be writing."""
    from bot.cli.common import now
    from storage.backup import backup_database, backup_name, prune_backups
    from storage.errors import StorageError

    if args.list:
        return _list_backups(args)
    if not args.out:
        print("error: give OUT (a backup file or a folder), or --list", file=sys.stderr)
        return 2
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
    print("it holds submitted data only: surveys in progress are not in it")
    if pruned:
        print(f"removed {len(pruned)} older backups, keeping {args.keep}")
    return 0


async def _restore(url: str, backup: Path, keep_in: Path) -> BackupResult:
    """Restore under the exclusive hold (refused while a bot process runs on the database)."""
    from storage.backup import exclusive_hold, restore_database

    async with exclusive_hold(url):
        return await asyncio.to_thread(restore_database, url, backup, keep_copy_in=keep_in)


def cmd_db_restore(args: argparse.Namespace) -> int:
    """Replace the database with a backup (the bot stopped), then apply migrations.

    The database it replaces is backed up first (spibot-before-restore-….db/.dump, in
    BACKUP_DIR or beside the database).
    """
    from storage.backup import copy_folder
    from storage.db import upgrade
    from storage.errors import StorageError

    if not args.yes:
        print(
            "error: restoring replaces every row in the database with the backup's; stop the "
            "bot, then run again with --yes",
            file=sys.stderr,
        )
        return 2
    settings = settings_from(args)
    keep_in = copy_folder(settings.database_url, settings.backup_dir)
    try:
        result = asyncio.run(_restore(settings.database_url, Path(args.backup), keep_in))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    if not result.done:
        return _report_not_run(result)
    asyncio.run(upgrade(settings.database_url))  # an older backup gets today's schema
    held = "" if result.responses is None else f" ({result.responses} submitted responses)"
    print(f"database restored from {args.backup}{held}; migrations applied")
    if result.replaced_copy is not None:
        print(f"the database it replaced was backed up to {result.replaced_copy}")
    print(
        "surveys that were in progress are not in a backup: people who were answering "
        "start again from their link"
    )
    return 0


def add_backup_commands(db: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `backup` and `restore` under `spibot db`."""
    p = db.add_parser("backup", help="copy the submitted data to a file while the bot runs")
    p.add_argument(
        "out",
        metavar="OUT",
        nargs="?",
        help="backup file, or a folder for a dated spibot-….db/.dump file (with --list: the "
        "folder to list, default BACKUP_DIR)",
    )
    p.add_argument(
        "--list", action="store_true", help="list the backups in a folder with what each holds"
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--keep", type=int, metavar="N", help="with a folder: keep only the N newest backups"
    )
    p.set_defaults(func=cmd_db_backup)
    p = db.add_parser(
        "restore", help="replace the database with a backup (refused while the bot runs)"
    )
    p.add_argument("backup", metavar="BACKUP")
    p.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")
    p.set_defaults(func=cmd_db_restore)
