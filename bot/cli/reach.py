"""`spibot` commands for reaching respondents: reminders, outreach broadcasts, invitation uptake."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from services.reach import PhotoInfo
    from services.settings import Settings
    from storage.db import AsyncEngine

from bot.cli.common import configure_logging, run_with_db, settings_from

__all__ = ["add_reach_commands", "cmd_broadcast", "cmd_invites_status", "cmd_remind"]


def cmd_remind(args: argparse.Namespace) -> int:
    """Run a reminder round now (quiet hours still apply)."""
    from services.context import Services
    from services.pushes.delivery import Delivery
    from services.reach import Reminders
    from storage.db import Database

    settings = settings_from(args)
    # Our own summary is printed; library chatter at INFO would only bury it.
    configure_logging("WARNING")
    secret = settings.secret_bytes()

    async def main() -> list[str]:
        async with Database(settings.database_url) as db:
            services = Services(settings=settings, db=db, secret=secret)
            token = "0:dry-run" if args.dry_run else settings.require_token()
            bot = _bulk_bot(settings, token)
            reminders = Reminders(services, Delivery(bot, services))
            if args.dry_run:
                report = await reminders.run(wave_name=args.wave, dry_run=True)
            else:
                async with bot:
                    report = await reminders.run(wave_name=args.wave)
        if report.wave is None:
            return ["no wave is open: nobody to remind"]
        if report.quiet:
            return [f"wave {report.wave}: quiet hours (or Sunday) now, nothing sent"]
        due = ", ".join(f"round {n}: {count}" for n, count in report.due.items()) or "none"
        if args.dry_run:
            return [f"wave {report.wave}: would remind ({due}); nothing sent (--dry-run)"]
        return [
            f"wave {report.wave}: due {due}",
            f"sent {report.sent}, blocked (contact deleted) {report.gone}, "
            f"failed {report.failed}, taken by another process {report.taken}",
        ]

    for line in asyncio.run(main()):
        print(line)
    return 0


def _bulk_bot(settings: Settings, token: str) -> ExtBot[dict[str, Any]]:
    """Return a bot for bulk sends from the command line, paced like the running bot's."""
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot

    from bot.transport import ResilientLimiter

    return ExtBot(
        token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.file_base_url,
        defaults=Defaults(parse_mode=ParseMode.HTML),
        # The bot's own limiter: bulk sends paced (this process has its own budget).
        rate_limiter=ResilientLimiter(
            bulk_per_second=settings.rate_limit_per_second,
            retry_seconds=settings.bot_api_retry_seconds,
        ),
    )


def cmd_broadcast(args: argparse.Namespace) -> int:
    """Send an outreach text (and picture) to the opted-in people of all or some units, after a
    preview."""
    from services import reach
    from services.context import Services
    from services.errors import AdminError
    from services.pushes.delivery import Delivery
    from storage.broadcasts import confirm_broadcast, get_broadcast
    from storage.db import Database

    settings = settings_from(args)
    # Our own summary is printed; library chatter at INFO would only bury it.
    configure_logging("WARNING")
    secret = settings.secret_bytes()
    if not args.file and not args.photo:
        raise AdminError("give the text (--file MSG.md), a picture (--photo FILE) or both")
    text = ""
    if args.file:
        try:
            text = _read(Path(args.file), "text").decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AdminError(f"{args.file}: not UTF-8 text (save it as UTF-8)") from exc
    photo = _read(Path(args.photo), "picture") if args.photo else None
    units = [code for code in (args.units or "").split(",") if code.strip()]

    async def main() -> list[str]:
        async with Database(settings.database_url) as db:
            services = Services(settings=settings, db=db, secret=secret)
            draft = await reach.draft_broadcast(services, text, units, photo=photo)
            count = await reach.recipients_count(services, draft)
            where = ", ".join(draft.unit_codes) or "every unit"
            print(f"--- preview ({count} opted-in people, {where})")
            if photo is not None:
                print(_picture_line(reach.check_photo(photo), draft.text, args.photo))
            if draft.text:
                print(draft.text)
            print("---")
            if not args.yes:
                answer = await asyncio.to_thread(input, "send it? [y/N] ")
                if answer.strip().lower() not in ("y", "ya", "yes"):
                    return ["not sent"]
            await confirm_broadcast(db.engine, draft.id)
            confirmed = await get_broadcast(db.engine, draft.id)
            assert confirmed is not None
            bot = _bulk_bot(settings, settings.require_token())
            async with bot:
                report = await reach.send_broadcast(services, Delivery(bot, services), confirmed)
        return [
            f"broadcast {draft.id}: sent {report.sent}, blocked (contact deleted) {report.gone}, "
            f"failed {report.failed}"
        ]

    for line in asyncio.run(main()):
        print(line)
    return 0


def _read(path: Path, what: str) -> bytes:
    """Return a file's bytes; AdminError (one line) when it cannot be read."""
    from services.errors import AdminError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{path}: cannot read the {what}: {exc.strerror}") from exc


def _picture_line(info: PhotoInfo, text: str, name: str) -> str:
    """Describe the picture in the preview, and how the text travels with it."""
    from services.reach import caption_fits

    what = f"[picture: {name}, {info.kind} {info.width}x{info.height} px, {info.size // 1024} KB"
    if not text:
        return f"{what}, sent alone]"
    if caption_fits(text):
        return f"{what}, with the text below as its caption]"
    return (
        f"{what}, sent first; the text below follows as a second message (over 1,024 characters)]"
    )


def cmd_invites_status(args: argparse.Namespace) -> int:
    """Show per unit how many personal links were issued, opened and completed."""
    from services.reach import uptake_for, uptake_lines

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        wave, rows = await uptake_for(engine, args.wave)
        return uptake_lines(wave, rows)

    for line in run_with_db(args, work):
        print(line)
    return 0


def add_reach_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `remind` command to the `spibot` parser (`invites status` lives with invites)."""
    p = sub.add_parser(
        "remind", help="remind people with an unfinished survey now (quiet hours apply)"
    )
    p.add_argument("--wave", metavar="NAME", help="the open wave (default: whichever is open)")
    p.add_argument("--dry-run", action="store_true", help="count who is due; send nothing")
    p.set_defaults(func=cmd_remind)

    p = sub.add_parser(
        "broadcast", help="send an outreach text to opted-in employees (preview, then confirm)"
    )
    p.add_argument("--file", metavar="MSG.md", help="the text (plain, UTF-8)")
    p.add_argument(
        "--photo",
        metavar="FILE",
        help="a picture (JPEG, PNG or WEBP, at most 10 MB) sent with the text as its caption, "
        "or before the text when it is longer than a caption (1,024 characters)",
    )
    p.add_argument("--units", metavar="CODE,CODE", help="only these units (default: every unit)")
    p.add_argument("--yes", action="store_true", help="send without asking after the preview")
    p.set_defaults(func=cmd_broadcast)
