"""`spibot quality`: the survey-integrity signals of a wave, per-item paradata, and the
inspectorate's exclusions (exclude a flagged set, restore it), issue 24.

Heavy modules are imported inside the commands, so `spibot --help` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db

if TYPE_CHECKING:
    from services.integrity import QualityReport
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_quality_commands"]

_KINDS = ("burst", "uniform", "rushing", "contradiction")
_GROUPS = ("internal", "external", "expert")


def _by(args: argparse.Namespace) -> str:
    """Who decides, as stored: the shell user (or --by)."""
    if args.by:
        return f"cli:{args.by.strip()}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _report(
    engine: AsyncEngine, settings: Settings, name: str | None, *, effects: bool
) -> QualityReport:
    from services import integrity
    from services.reports import chosen_wave

    wave = await chosen_wave(engine, name)
    moment = now()
    today = moment.astimezone(settings.zone).date()
    return await integrity.quality_report(
        engine, settings, wave, today=today, now=moment, with_effects=effects
    )


def cmd_quality(args: argparse.Namespace) -> int:
    """Print a wave's signals per unit and group (or, with --items, the per-item paradata)."""
    if args.items:
        return _items(args)
    from services import integrity

    def lines(report: QualityReport, settings: Settings) -> list[str]:
        if args.json:
            return [
                json.dumps(
                    integrity.quality_json(report, args.language), ensure_ascii=False, indent=1
                )
            ]
        return [
            integrity.plain(line)
            for line in integrity.report_lines(report, args.language, settings.zone)
        ]

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        report = await _report(engine, settings, args.wave, effects=not args.json)
        return lines(report, settings)

    for line in run_with_db(args, work):
        print(line)
    return 0


def _items(args: argparse.Namespace) -> int:
    from services import integrity
    from services.errors import AdminError
    from services.reports import chosen_wave

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        wave = await chosen_wave(engine, args.wave)
        found = await integrity.items(engine, wave)
        if found is None:
            raise AdminError(integrity.plain(integrity.items_open_text(args.language)))
        rows, questionnaires = found
        title = integrity.items_title(wave.name, args.language)
        lines = integrity.items_lines(rows, questionnaires, settings.small_cell_k, args.language)
        return [
            integrity.plain(line)
            for line in [title, *(lines or ["", integrity.items_none(args.language)])]
        ]

    for line in run_with_db(args, work):
        print(line)
    return 0


def cmd_exclude(args: argparse.Namespace) -> int:
    """Exclude one flagged set from the index (with --yes; without it, show what it does)."""
    from services import integrity
    from services.errors import AdminError
    from surveys import Group

    group = Group(args.group)

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        report = await _report(engine, settings, args.wave, effects=True)
        flagged = report.find(args.unit, group, args.kind)
        if flagged is None:
            kinds = sorted(
                {
                    s.signal.kind.value
                    for s in report.sets
                    if s.cell.unit_code == args.unit and s.cell.group is group
                }
            )
            raise AdminError(
                f"{args.unit} ({args.group}) has no {args.kind} signal in wave {report.wave.name!r}"
                + (f"; it has: {', '.join(kinds)}" if kinds else "")
            )
        lang = args.language
        unit = report.names.get(args.unit, args.unit)
        kind = integrity.kind_name(flagged.signal.kind, lang)
        lines = [
            f"{unit} — {integrity.group_name(group, lang)}: {kind}",
            integrity.plain(integrity.evidence_text(flagged.signal, lang)),
        ]
        if flagged.effect is not None:
            effect = integrity.effect_text(flagged.effect, group, lang)
            lines.append(
                f"without these {flagged.signal.responses} responses: {integrity.plain(effect)}"
            )
        if not args.yes:
            integrity.clean_reason(args.reason)  # a bad reason is told now, not after --yes
            lines.append("nothing excluded yet: run the same command with --yes to exclude them")
            if not report.provisional:
                lines.append(
                    "the wave is closed: --yes writes a dated revision of its final report"
                )
            return lines
        moment = now()
        done, revision = await integrity.exclude(
            engine,
            settings,
            report.wave,
            flagged,
            args.reason,
            by=_by(args),
            today=moment.astimezone(settings.zone).date(),
            now=moment,
        )
        lines.append(f"excluded as #{done.id}: {done.count} responses ({done.reason})")
        if revision is not None:
            lines.append(
                f"revision {revision.number} of the final report, dated "
                f"{revision.created_on.isoformat()}; the bot sends it to subscribed chats"
            )
        return lines

    for line in run_with_db(args, work):
        print(line)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put an exclusion's responses back into the index (with --yes)."""
    from services import integrity
    from services.errors import AdminError
    from storage import integrity as stored

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        found = await stored.get_exclusion(engine, args.exclusion)
        if found is None or found.status is not stored.ExclusionStatus.ACTIVE:
            raise AdminError(f"no exclusion #{args.exclusion} in force; see `spibot quality`")
        lines = [
            f"#{found.id} {found.unit_code} ({found.grp}, {found.kind}): {found.count} responses "
            f"excluded — {found.reason}"
        ]
        if not args.yes:
            lines.append("nothing restored yet: run the same command with --yes to restore them")
            return lines
        done, revision = await integrity.restore(
            engine, settings, args.exclusion, by=_by(args), reason=args.reason or "", now=now()
        )
        lines.append(f"restored #{done.id}: its {done.count} responses count again")
        if revision is not None:
            lines.append(
                f"revision {revision.number} of the final report, dated "
                f"{revision.created_on.isoformat()}; the bot sends it to subscribed chats"
            )
        return lines

    for line in run_with_db(args, work):
        print(line)
    return 0


def add_quality_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `quality` with its `exclude` and `restore` actions (no heavy imports here)."""
    p = sub.add_parser(
        "quality",
        help="survey-integrity signals per unit and group; exclude or restore a flagged set",
    )
    p.add_argument("--wave", help="wave name (default: the open wave, else the newest)")
    p.add_argument("--json", action="store_true", help="print the signals as JSON")
    p.add_argument(
        "--items", action="store_true", help="per-item paradata of a closed wave instead"
    )
    p.add_argument("--language", choices=["id", "en"], default="en")
    p.set_defaults(func=cmd_quality)
    actions = p.add_subparsers(dest="quality_command", metavar="ACTION")
    e = actions.add_parser("exclude", help="leave one flagged set out of the index")
    e.add_argument("--wave", help="wave name (default: the open wave, else the newest)")
    e.add_argument("--unit", required=True, help="unit code")
    e.add_argument("--group", required=True, choices=_GROUPS)
    e.add_argument("--kind", required=True, choices=_KINDS, help="the signal")
    e.add_argument("--reason", required=True, help="why (kept with the exclusion)")
    e.add_argument("--by", help="who decides (default: your user name)")
    e.add_argument("--yes", action="store_true", help="exclude (without it: only show)")
    e.add_argument("--language", choices=["id", "en"], default="en")
    e.set_defaults(func=cmd_exclude)
    r = actions.add_parser("restore", help="put an excluded set back into the index")
    r.add_argument("--exclusion", type=int, required=True, help="its number (#N)")
    r.add_argument("--reason", help="why")
    r.add_argument("--by", help="who decides (default: your user name)")
    r.add_argument("--yes", action="store_true", help="restore (without it: only show)")
    r.set_defaults(func=cmd_restore)
