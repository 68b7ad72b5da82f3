"""`spibot export`: a wave's released responses, one row each, with a codebook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db

if TYPE_CHECKING:
    from services.reports import ExportResult
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_export_commands"]

FORMATS = ("csv", "xlsx", "stata", "parquet")


def cmd_export(args: argparse.Namespace) -> int:
    """Write the respondent-level data of a wave with its codebook."""
    from scoring.exports import ExportOptions
    from services.reports import ExportFormat, describe, export_wave

    if args.no_merge_small:
        print(
            "warning: --no-merge-small keeps unit × group cells with fewer than k responses; "
            "such rows can identify respondents: do not share this export",
            file=sys.stderr,
        )
    options: ExportOptions | None = None

    async def work(engine: AsyncEngine, settings: Settings) -> ExportResult:
        nonlocal options
        options = ExportOptions(
            k=settings.small_cell_k,
            merge_small=not args.no_merge_small,
            free_text=args.free_text,
        )
        today = now().astimezone(settings.zone).date()
        return await export_wave(
            engine,
            args.wave,
            Path(args.out),
            ExportFormat(args.format),
            options,
            today=today,
            zone=settings.zone,
        )

    try:
        result = run_with_db(args, work)
    except OSError as exc:
        print(f"cannot write: {exc}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    assert options is not None
    print("\n".join(describe(result, options)))
    return 0


def add_export_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `spibot export`."""
    p = sub.add_parser("export", help="export a wave's responses with a codebook")
    p.add_argument("--wave", required=True, help="wave name, e.g. 2026-S1")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--format", choices=FORMATS, default="csv", help="file format (default csv)")
    p.add_argument(
        "--no-merge-small",
        action="store_true",
        help="keep unit × group cells under k (admins only; identifies people)",
    )
    p.add_argument("--free-text", action="store_true", help="include free-text answers")
    p.set_defaults(func=cmd_export)
