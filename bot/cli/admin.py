"""`spibot` commands for survey administration: units, waves, invitations, unit links."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from services.settings import Settings
    from storage.db import AsyncEngine

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
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves

    def counts(unit: storage.units.Unit) -> str:
        known = (unit.staff_count, unit.expert_count, unit.service_user_count)
        return "/".join("-" if c is None else str(c) for c in known)

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        units = await storage.units.list_units(engine)
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
    """Open a survey wave and say which questionnaire each group answers."""
    from services.admin import open_wave, parse_choices
    from services.reports import fix_opening_targets

    choices = parse_choices(args.questionnaire or [])

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        wave = await open_wave(engine, args.name, now(), choices)
        await fix_opening_targets(engine, settings, wave)  # targets do not move overnight
        return [
            f"wave {wave.name!r} is open (id {wave.id})",
            *await _questionnaire_lines(engine, wave.questionnaire_ids),
        ]

    print("\n".join(run_with_db(args, work)))
    return 0


async def _questionnaire_lines(engine: AsyncEngine, ids: Mapping[str, int]) -> list[str]:
    """Say which questionnaire each group answers, and what is stored but left unused."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves
    from services.admin import catalogue, origin_of
    from surveys import Group

    lines: list[str] = []
    chosen: dict[str, str] = {}
    for group in Group:
        stored = await storage.questionnaires.get_questionnaire(engine, ids[group.value])
        if stored is None:
            continue
        chosen[group.value] = stored.key
        lines.append(
            f"  {group.value + ':':<9} {stored.key} v{stored.version} ({origin_of(stored)})"
        )
    for entry in await catalogue(engine):
        if entry.unused and entry.key != chosen.get(entry.group.value):
            lines.append(
                f"note: {entry.key} v{entry.version} ({entry.group}) is stored but no wave "
                f"uses it; choose it with --questionnaire {entry.group}={entry.key}"
            )
    return lines


def cmd_wave_close(args: argparse.Namespace) -> int:
    """Close the open (or named) wave."""
    from services import reports
    from services.admin import resolve_wave

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await resolve_wave(engine, args.name)
        if not wave.is_open:
            return f"wave {wave.name!r} was already closed"
        await reports.close_wave(engine, settings, wave, now())
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


def _local(moment: datetime | None, zone_name: str) -> str:
    """Write a moment in the bot's time zone, to the minute ("2026-07-01 07:00")."""
    from zoneinfo import ZoneInfo

    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M")


def cmd_wave_plan(args: argparse.Namespace) -> int:
    """Plan a wave (the scheduler opens and closes it on time), list plans, or cancel one."""
    from services.errors import AdminError

    if args.list:
        return _print_plans(args)
    if args.cancel:
        return _cancel_plan(args)
    if args.name is None or args.opens is None:
        raise AdminError("wave plan: give NAME and --opens (or --list, or --cancel NAME)")
    from services.admin import check_choices, choice_text, parse_choices
    from storage.waves import PlanOverlap

    choices = parse_choices(args.questionnaire or [])

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        import storage.errors
        import storage.questionnaires
        import storage.units
        import storage.waves

        zone = settings.timezone
        opens = _moment(args.opens, zone)
        closes = None if args.closes is None else _moment(args.closes, zone)
        await check_choices(engine, choices)
        try:
            plan = await storage.waves.plan_wave(
                engine, args.name, opens, closes, choice_text(choices)
            )
        except PlanOverlap as exc:
            span = f"{_local(exc.opens_at, zone)} to {_local(exc.closes_at, zone)}"
            if exc.closes_at is None:
                span = f"from {_local(exc.opens_at, zone)}, with no closing time"
            raise AdminError(
                f"{args.name!r} overlaps wave {exc.other!r} ({span}); plan it after that wave "
                f"closes, or re-plan {exc.other!r} with an earlier --closes"
            ) from exc
        except (ValueError, storage.errors.WaveConflict) as exc:
            raise AdminError(str(exc)) from exc
        until = "" if plan.closes_at is None else f", closes {_local(plan.closes_at, zone)}"
        chosen = "; questionnaires: " + (choice_text(choices) or "the defaults")
        lines = [f"wave {plan.name!r} planned: opens {_local(plan.opens_at, zone)}{until}{chosen}"]
        current = await storage.waves.current_wave(engine)
        plans = await storage.waves.list_wave_plans(engine)
        if current is not None and not any(
            p.wave_id == current.id and p.closes_at is not None for p in plans
        ):
            lines.append(
                f"note: wave {current.name!r} is open with no planned close; {plan.name!r} "
                "waits until it is closed (spibot wave close)"
            )
        return lines

    for line in run_with_db(args, work):
        print(line, file=sys.stderr if line.startswith("note:") else sys.stdout)
    return 0


def _print_plans(args: argparse.Namespace) -> int:
    """Print every plan: when, which questionnaires, invitations issued, and what became of it."""

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        import storage.errors
        import storage.questionnaires
        import storage.units
        import storage.waves

        plans = await storage.waves.list_wave_plans(engine)
        if not plans:
            return ["no planned waves; plan one with `spibot wave plan NAME --opens ...`"]
        waves = {w.id: w for w in await storage.waves.list_waves(engine)}
        issued = await storage.waves.planned_invitation_counts(engine)
        current = await storage.waves.current_wave(engine)
        zone, moment = settings.timezone, now()
        lines = [
            f"{'name':<16} {'opens':<16} {'closes':<16} {'status':<26} {'links':>5}  questionnaires"
        ]
        for plan in plans:
            wave = waves.get(plan.wave_id) if plan.wave_id is not None else None
            if wave is not None:
                status = f"opened ({wave.status.value})"
            elif plan.wave_id is not None:
                status = "opened (wave deleted)"
            elif plan.opens_at <= moment and current is not None:
                status = f"waits: {current.name} is open"[:26]
            else:
                status = "planned"
            lines.append(
                f"{plan.name:<16} {_local(plan.opens_at, zone):<16} "
                f"{_local(plan.closes_at, zone):<16} {status:<26} {issued.get(plan.name, 0):>5}  "
                f"{plan.questionnaire_choice or 'defaults'}"
            )
        return lines

    print("\n".join(run_with_db(args, work)))
    return 0


def _cancel_plan(args: argparse.Namespace) -> int:
    """Cancel a plan that has not opened (its invitation links stop working: --yes)."""
    from services.errors import AdminError

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        import storage.errors
        import storage.questionnaires
        import storage.units
        import storage.waves

        issued = (await storage.waves.planned_invitation_counts(engine)).get(args.cancel, 0)
        if issued and not args.yes:
            raise AdminError(
                f"{issued} personal links were issued for {args.cancel!r}; they stop working "
                "if the plan is cancelled. Add --yes to cancel it anyway"
            )
        try:
            dropped = await storage.waves.cancel_plan(engine, args.cancel)
        except storage.errors.StorageError as exc:
            raise AdminError(str(exc)) from exc
        gone = f"; its {dropped} personal links no longer work" if dropped else ""
        return f"planned wave {args.cancel!r} cancelled{gone}"

    print(run_with_db(args, work))
    return 0


def cmd_wave_reopen(args: argparse.Namespace) -> int:
    """Open a closed wave again."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves
    from services.admin import resolve_wave
    from services.errors import AdminError

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await resolve_wave(engine, args.name)
        try:
            reopened = await storage.waves.reopen_wave(engine, wave.id)
        except storage.errors.WaveConflict as exc:
            raise AdminError(str(exc)) from exc
        return f"wave {wave.name!r} is open again" if reopened else f"wave {wave.name!r} is open"

    print(run_with_db(args, work))
    return 0


def cmd_wave_list(args: argparse.Namespace) -> int:
    """List waves."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        lines = []
        for wave in await storage.waves.list_waves(engine):
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
    """Create personal invitation links for a roster (the open wave, a named or planned one)."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves
    from services.admin import (
        create_invitations,
        invitation_target,
        read_roster,
        write_invitations_csv,
    )
    from surveys import Group

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        wave = await invitation_target(engine, args.wave)
        units = {u.code: u for u in await storage.units.list_units(engine)}
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
        when = ""
        if isinstance(wave, storage.waves.WavePlan):
            when = f" (planned: they work from {_local(wave.opens_at, settings.timezone)})"
        return (
            f"{count} personal links for wave {wave.name!r}{when} written to {args.out}; "
            "share each link only with its person (each works once)"
        )

    print(run_with_db(args, work))
    return 0


def cmd_invites_renew(args: argparse.Namespace) -> int:
    """Issue the next wave's links for the roster of an earlier wave, in one step."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves
    from services.admin import (
        invitation_target,
        next_target,
        renew_invitations,
        resolve_wave,
        write_invitations_csv,
    )
    from services.errors import AdminError
    from surveys import Group

    roster = Path(args.roster)
    try:
        data = roster.read_bytes()
    except OSError as exc:
        raise AdminError(f"{roster}: cannot read: {exc.strerror}") from None

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        source = await resolve_wave(engine, args.source)
        target = (
            await invitation_target(engine, args.to)
            if args.to
            else await next_target(engine, source)
        )
        renewal = await renew_invitations(
            engine,
            secret=settings.secret_bytes(),
            source=source,
            target=target,
            data=data,
            file_name=str(roster),
            group=Group(args.group) if args.group else None,
            bot_username=settings.bot_username,
            now=now(),
        )
        count = write_invitations_csv(Path(args.out), renewal.rows)
        groups = ", ".join(f"{n} {g}" for g, n in sorted(renewal.by_group.items()))
        issued = ", ".join(f"{n} {g}" for g, n in sorted(renewal.source_issued.items()))
        when = ""
        if isinstance(target, storage.waves.WavePlan):
            when = f", working from {_local(target.opens_at, settings.timezone)}"
        lines = [
            f"{count} personal links for wave {renewal.target!r} ({groups}{when}) written to "
            f"{args.out}; share each link only with its person (each works once)",
            f"{source.name!r} issued {issued or 'no links'}; "
            f"{renewal.new_people} rows had no link from it",
        ]
        return "\n".join(lines)

    print(run_with_db(args, work))
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    """Print a unit's open service-user link and optionally write its QR poster."""
    import storage.errors
    import storage.questionnaires
    import storage.units
    import storage.waves
    from services.admin import resolve_wave
    from services.errors import AdminError
    from services.links import deep_link, unit_payload

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        # A poster is printed once and used for years: without --wave the link opens whichever
        # wave is open when it is scanned.
        wave = await resolve_wave(engine, args.wave) if args.wave else None
        if wave is not None and not wave.is_open:
            raise AdminError(f"--wave: {wave.name} is closed; a link bound to it never works")
        if wave is None and await storage.waves.current_wave(engine) is None:
            print(
                "warning: no wave is open now; the link works as soon as one opens",
                file=sys.stderr,
            )
        unit = await storage.units.get_unit(engine, args.unit.upper())
        if unit is None:
            raise AdminError(f"--unit: no unit with code {args.unit!r} (see `spibot units list`)")
        if not unit.serves_public:
            raise AdminError(f"--unit: {unit.code} does not serve the public (serves_public=no)")
        payload = unit_payload(settings.secret_bytes(), unit.code, wave.id if wave else None)
        link = deep_link(settings.bot_username, payload)
        if args.qr:
            from services.admin import write_qr_poster

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
    p = wave.add_parser("open", help="open a wave (each group: its newest default questionnaire)")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--questionnaire",
        action="append",
        metavar="GROUP=NAME",
        help="the questionnaire a group answers, e.g. external=layanan (repeat per group; "
        "NAME@VERSION for an older version; see `spibot survey list`)",
    )
    p.set_defaults(func=cmd_wave_open)
    p = wave.add_parser("close", help="close the open wave (or the named one)")
    p.add_argument("name", metavar="NAME", nargs="?")
    p.set_defaults(func=cmd_wave_close)
    p = wave.add_parser(
        "plan", help="plan a wave: the bot opens and closes it on time (--list, --cancel)"
    )
    p.add_argument("name", metavar="NAME", nargs="?")
    p.add_argument("--opens", metavar="'YYYY-MM-DD HH:MM'", help="local time")
    p.add_argument("--closes", metavar="'YYYY-MM-DD HH:MM'", help="local time (optional)")
    p.add_argument(
        "--questionnaire",
        action="append",
        metavar="GROUP=NAME",
        help="the questionnaire a group answers (repeat per group; default: the newest)",
    )
    p.add_argument("--list", action="store_true", help="list the planned waves")
    p.add_argument("--cancel", metavar="NAME", help="cancel a plan that has not opened")
    p.add_argument(
        "--yes", action="store_true", help="with --cancel: even if invitations were issued"
    )
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
    p.add_argument(
        "--wave",
        metavar="NAME",
        help="the wave (default: the open one); a planned wave's links work from its opening",
    )
    p.set_defaults(func=cmd_invites_create)
    p = invites.add_parser(
        "renew",
        help="the next wave's links for the same roster (the file an earlier wave's links "
        "were written to)",
    )
    p.add_argument("--from", dest="source", required=True, metavar="WAVE", help="earlier wave")
    p.add_argument("--to", metavar="WAVE", help="default: the open wave, else the next planned one")
    p.add_argument(
        "--roster", required=True, metavar="FILE.csv", help="a 'unit' column and the old 'link'"
    )
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the roster with new links")
    p.add_argument(
        "--group", choices=["internal", "expert"], help="for rows without an old link (new people)"
    )
    p.set_defaults(func=cmd_invites_renew)
    p = invites.add_parser("status", help="per unit: links issued, opened and completed")
    p.add_argument("--wave", metavar="NAME", help="default: the open wave, else the newest")
    p.set_defaults(func=cmd_invites_status)

    p = sub.add_parser("link", help="a unit's open link for service users (and its QR poster)")
    p.add_argument("--unit", required=True, metavar="CODE")
    p.add_argument("--qr", metavar="FILE.png", help="write a printable QR poster")
    p.add_argument("--wave", metavar="NAME", help="bind the link to one wave (default: every wave)")
    p.set_defaults(func=cmd_link)
