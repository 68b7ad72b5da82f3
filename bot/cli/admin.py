"""`spibot` commands for survey administration: units, waves, invitations, unit links."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from services.settings import Settings
    from storage import AsyncEngine

from bot.cli.common import now, run_with_db
from bot.cli.reach import cmd_invites_status

__all__ = ["add_admin_commands"]

T = TypeVar("T")


def cmd_units_import(args: argparse.Namespace) -> int:
    """Import units from a CSV file."""
    from services.admin import import_units_csv

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        result = await import_units_csv(engine, Path(args.file))
        return f"units: {result.created} created, {result.updated} updated"

    print(run_with_db(args, work))
    return 0


def cmd_units_list(args: argparse.Namespace) -> int:
    """List units."""
    import storage

    def counts(unit: storage.Unit) -> str:
        known = (unit.staff_count, unit.expert_count, unit.service_user_count)
        return "/".join("-" if c is None else str(c) for c in known)

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        units = await storage.list_units(engine)
        header = f"{'code':<24} {'kind':<10} {'public':<7} {'staff/expert/users':<18} name"
        return [header] + [
            f"{u.code:<24} {u.kind:<10} {'publik' if u.serves_public else '-':<7} "
            f"{counts(u):<18} {u.name}"
            for u in units
        ]

    for line in run_with_db(args, work):
        print(line)
    return 0


def cmd_wave_open(args: argparse.Namespace) -> int:
    """Open a survey wave."""
    from services.admin import open_wave
    from services.report_build import fix_opening_targets

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await open_wave(engine, args.name, now())
        await fix_opening_targets(engine, settings, wave)  # targets do not move overnight
        return f"wave {wave.name!r} is open (id {wave.id})"

    print(run_with_db(args, work))
    return 0


def cmd_wave_close(args: argparse.Namespace) -> int:
    """Close the open (or named) wave."""
    from services import revisions
    from services.admin import resolve_wave

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await resolve_wave(engine, args.name)
        if not wave.is_open:
            return f"wave {wave.name!r} was already closed"
        await revisions.close_wave(engine, settings, wave, now())
        return f"wave {wave.name!r} is closed; its final report is frozen"

    print(run_with_db(args, work))
    return 0


def _moment(text: str, zone_name: str) -> datetime:
    """Parse `2026-03-10 07:00` (local time zone unless an offset is given)."""
    from zoneinfo import ZoneInfo

    from services.errors import AdminError

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AdminError(f"{text!r}: give a date and time like 2026-03-10 07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone_name))


def cmd_wave_plan(args: argparse.Namespace) -> int:
    """Plan a wave: the scheduler opens it (and closes it) on time."""
    import storage
    from services.errors import AdminError

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        opens = _moment(args.opens, settings.timezone)
        closes = None if args.closes is None else _moment(args.closes, settings.timezone)
        try:
            plan = await storage.plan_wave(engine, args.name, opens, closes)
        except (ValueError, storage.WaveConflict) as exc:
            raise AdminError(str(exc)) from exc
        until = "" if plan.closes_at is None else f", closes {plan.closes_at.isoformat()}"
        return f"wave {plan.name!r} planned: opens {plan.opens_at.isoformat()}{until}"

    print(run_with_db(args, work))
    return 0


def cmd_wave_reopen(args: argparse.Namespace) -> int:
    """Open a closed wave again."""
    import storage
    from services.admin import resolve_wave
    from services.errors import AdminError

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await resolve_wave(engine, args.name)
        try:
            reopened = await storage.reopen_wave(engine, wave.id)
        except storage.WaveConflict as exc:
            raise AdminError(str(exc)) from exc
        return f"wave {wave.name!r} is open again" if reopened else f"wave {wave.name!r} is open"

    print(run_with_db(args, work))
    return 0


def cmd_wave_list(args: argparse.Namespace) -> int:
    """List waves."""
    import storage

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        lines = []
        for wave in await storage.list_waves(engine):
            opened = wave.opened_at.astimezone(settings.zone).date().isoformat()
            closed = (
                wave.closed_at.astimezone(settings.zone).date().isoformat()
                if wave.closed_at
                else ""
            )
            lines.append(f"{wave.id:>4}  {wave.name:<20} {wave.status.value:<7} {opened} {closed}")
        return lines or ["no waves yet; open one with `spibot wave open NAME`"]

    for line in run_with_db(args, work):
        print(line)
    return 0


def cmd_invites_create(args: argparse.Namespace) -> int:
    """Create personal invitation links for a roster."""
    import storage
    from services.admin import create_invitations, read_roster, resolve_wave, write_invitations_csv
    from surveys import Group

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await resolve_wave(engine, args.wave)
        units = {u.code: u for u in await storage.list_units(engine)}
        roster = read_roster(Path(args.roster), units)
        rows = await create_invitations(
            engine,
            wave=wave,
            group=Group(args.group),
            roster=roster,
            bot_username=settings.bot_username,
            now=now(),
        )
        count = write_invitations_csv(Path(args.out), rows)
        return (
            f"{count} personal links for wave {wave.name!r} written to {args.out}; "
            "share each link only with its person (each works once)"
        )

    print(run_with_db(args, work))
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    """Print a unit's open service-user link and optionally write its QR poster."""
    import storage
    from services.admin import AdminError, resolve_wave
    from services.links import deep_link, unit_payload

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        # A poster is printed once and used for years: without --wave the link opens whichever
        # wave is open when it is scanned.
        wave = await resolve_wave(engine, args.wave) if args.wave else None
        if wave is not None and not wave.is_open:
            raise AdminError(f"--wave: {wave.name} is closed; a link bound to it never works")
        if wave is None and await storage.current_wave(engine) is None:
            print(
                "warning: no wave is open now; the link works as soon as one opens",
                file=sys.stderr,
            )
        unit = await storage.get_unit(engine, args.unit.upper())
        if unit is None:
            raise AdminError(f"--unit: no unit with code {args.unit!r} (see `spibot units list`)")
        if not unit.serves_public:
            raise AdminError(f"--unit: {unit.code} does not serve the public (serves_public=no)")
        payload = unit_payload(settings.secret_bytes(), unit.code, wave.id if wave else None)
        link = deep_link(settings.bot_username, payload)
        if args.qr:
            from services.poster import write_qr_poster

            write_qr_poster(
                Path(args.qr), link=link, unit_name=unit.name, institution=settings.institution_name
            )
            return f"{link}\nQR poster written to {args.qr}"
        return link

    print(run_with_db(args, work))
    return 0


def add_admin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add units, wave, invites and link commands to the `spibot` parser."""
    units = sub.add_parser("units", help="organisational units").add_subparsers(
        dest="units_command", required=True, metavar="ACTION"
    )
    p = units.add_parser(
        "import",
        help="import units from CSV (code,name,kind,parent,serves_public and optionally "
        "staff_count,expert_count,service_user_count: each group's population in the unit)",
    )
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(func=cmd_units_import)
    p = units.add_parser("list", help="list units")
    p.set_defaults(func=cmd_units_list)

    wave = sub.add_parser("wave", help="survey waves").add_subparsers(
        dest="wave_command", required=True, metavar="ACTION"
    )
    p = wave.add_parser("open", help="open a wave with the current questionnaires")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_wave_open)
    p = wave.add_parser("close", help="close the open wave (or the named one)")
    p.add_argument("name", metavar="NAME", nargs="?")
    p.set_defaults(func=cmd_wave_close)
    p = wave.add_parser("plan", help="plan a wave: the bot opens and closes it on time")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--opens", required=True, metavar="'YYYY-MM-DD HH:MM'", help="local time")
    p.add_argument("--closes", metavar="'YYYY-MM-DD HH:MM'", help="local time (optional)")
    p.set_defaults(func=cmd_wave_plan)
    p = wave.add_parser("reopen", help="open a closed wave again")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_wave_reopen)
    p = wave.add_parser("list", help="list waves")
    p.set_defaults(func=cmd_wave_list)

    invites = sub.add_parser("invites", help="personal invitation links").add_subparsers(
        dest="invites_command", required=True, metavar="ACTION"
    )
    p = invites.add_parser("create", help="one-time links for a roster of employees or experts")
    p.add_argument("--group", required=True, choices=["internal", "expert"])
    p.add_argument(
        "--roster", required=True, metavar="FILE.csv", help="a 'unit' column with unit codes"
    )
    p.add_argument(
        "--out", required=True, metavar="FILE.csv", help="the roster with a 'link' column"
    )
    p.add_argument("--wave", metavar="NAME", help="bind the link to one wave (default: every wave)")
    p.set_defaults(func=cmd_invites_create)
    p = invites.add_parser("status", help="per unit: links issued, opened and completed")
    p.add_argument("--wave", metavar="NAME", help="default: the open wave, else the newest")
    p.set_defaults(func=cmd_invites_status)

    p = sub.add_parser("link", help="a unit's open link for service users (and its QR poster)")
    p.add_argument("--unit", required=True, metavar="CODE")
    p.add_argument("--qr", metavar="FILE.png", help="write a printable QR poster")
    p.add_argument("--wave", metavar="NAME", help="bind the link to one wave (default: every wave)")
    p.set_defaults(func=cmd_link)
