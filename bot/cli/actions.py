"""`spibot actions import/export`: follow-up plans (tindak lanjut) as a CSV/XLSX matrix.

Export → edit → import is a round trip: rows keep their action's number (No). Heavy modules
are imported inside the commands, so `spibot --help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db

if TYPE_CHECKING:
    from services.actions import MatrixResult
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_action_commands"]


def cmd_actions_import(args: argparse.Namespace) -> int:
    """Add the new rows of a follow-up matrix and update the numbered ones, all or none."""
    from services.actions import ActionProblem, ActionProblems, apply_matrix, read_matrix
    from services.errors import AdminError

    path = Path(args.file)
    if not path.is_file():
        raise AdminError(f"{path}: no such file")
    where = "row" if path.suffix.lower() == ".xlsx" else "line"
    try:
        rows = read_matrix(path)
    except ActionProblems as problems:
        raise AdminError(f"{path}: nothing imported:\n{problems}") from None
    except ActionProblem as problem:
        raise AdminError(f"{path}: {problem}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AdminError(f"{path}: cannot read: {exc}") from None

    async def work(engine: AsyncEngine, settings: Settings) -> MatrixResult:
        try:
            return await apply_matrix(engine, rows, now(), where)
        except ActionProblems as problems:
            raise AdminError(f"{path}: nothing imported:\n{problems}") from None

    result = run_with_db(args, work)
    print(
        f"actions: {len(result.added)} added, {len(result.updated)} updated, "
        f"{result.unchanged} unchanged"
    )
    return 0


def cmd_actions_export(args: argparse.Namespace) -> int:
    """Write the follow-up matrix (every unit, or one) as .csv or .xlsx."""
    import storage.actions
    import storage.units
    from services.actions import ActionProblem, export_matrix
    from services.errors import AdminError

    path = Path(args.file)

    async def work(engine: AsyncEngine, settings: Settings) -> tuple[storage.actions.Action, ...]:
        if args.unit is not None and await storage.units.get_unit(engine, args.unit) is None:
            raise AdminError(f"unknown unit code {args.unit!r}; see `spibot units list`")
        return await storage.actions.list_actions(engine, unit_code=args.unit)

    actions = run_with_db(args, work)
    try:
        count = export_matrix(actions, path, args.language)
    except ActionProblem as problem:
        raise AdminError(f"{path}: {problem} (use .csv or .xlsx)") from None
    except OSError as exc:
        raise AdminError(f"{path}: cannot write: {exc.strerror}") from None
    print(f"wrote {count} actions to {path}")
    return 0


def add_action_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `actions import` and `actions export` (no heavy imports here)."""
    actions = sub.add_parser("actions", help="follow-up plans (tindak lanjut)").add_subparsers(
        dest="actions_command", required=True, metavar="ACTION"
    )
    p = actions.add_parser(
        "import",
        help="add a follow-up matrix's new rows and update its numbered ones (.csv/.xlsx)",
    )
    p.add_argument("file")
    p.set_defaults(func=cmd_actions_import)
    p = actions.add_parser("export", help="write the follow-up matrix (.csv/.xlsx)")
    p.add_argument("file")
    p.add_argument("--unit", help="only this unit (code)")
    p.add_argument(
        "--language",
        choices=["id", "en"],
        default="id",
        help="words for status and dimension (default id, as the bot shows them)",
    )
    p.set_defaults(func=cmd_actions_export)
