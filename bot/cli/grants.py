"""`spibot grant`: role links for officials (with a label), the list of holders and links, and
revoking a role with everything it set up."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db, settings_from

if TYPE_CHECKING:
    from services.admin import Holder, PendingLink, Revocation
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_grant_commands"]


def _who(label: str | None) -> str:
    return f'"{label}"' if label else "(no label)"


def _role(role: str, unit_code: str | None) -> str:
    return f"unit head of {unit_code}" if unit_code else role


def _create(args: argparse.Namespace) -> int:
    """Print a one-time link that grants a role to whoever opens it first, within the TTL."""
    from services.access import create_grant
    from services.admin import LabelError, clean_label
    from services.errors import AdminError
    from services.links import deep_link
    from storage.roles import Role

    role = Role(args.role)
    if (role is Role.UNIT_HEAD) != (args.unit is not None):
        raise AdminError("--unit is required for unit_head and not allowed for leadership")
    try:
        label = clean_label(args.label)
    except LabelError as exc:
        raise AdminError(f"--label: {exc}") from None

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        if not settings.bot_username:
            deep_link("", "")  # raises the AdminError that names BOT_USERNAME
        try:
            payload, grant = await create_grant(engine, role, args.unit, now(), label=label)
        except ValueError as exc:
            raise AdminError(str(exc)) from exc
        until = (grant.created_at + settings.role_link_ttl).astimezone(settings.zone)
        lines = [
            deep_link(settings.bot_username, payload),
            f"one-time link #{grant.id} granting {_role(role.value, args.unit)} to "
            f"{_who(label)}: give it to that person only; it works once, until "
            f"{until:%Y-%m-%d %H:%M} ({settings.timezone})",
        ]
        if label is None:
            lines.append('tip: --label "Bupati" shows in /akses and --list who holds the role')
        return lines

    print("\n".join(run_with_db(args, work)))
    return 0


def _holder_line(holder: Holder, settings: Settings) -> str:
    since = holder.granted_at.astimezone(settings.zone).date()
    link = f"#{holder.grant_id}" if holder.grant_id is not None else "-"
    return (
        f"  {link:<6} {holder.code}  {_role(holder.role.value, holder.unit_code):<28} "
        f"{_who(holder.label)}  since {since}"
    )


def _link_line(link: PendingLink, settings: Settings) -> str:
    until = link.expires_at.astimezone(settings.zone)
    state = "EXPIRED" if link.expired(now()) else "until"
    return (
        f"  #{link.id:<5} {_role(link.role.value, link.unit_code):<28} {_who(link.label)}  "
        f"{state} {until:%Y-%m-%d %H:%M}"
    )


def _list(args: argparse.Namespace) -> int:
    """Print who holds a role (by label and pseudonym code) and the links nobody opened."""
    from services import admin

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        held = await admin.holders(engine)
        pending = await admin.pending_links(engine, settings.role_link_ttl)
        lines = [f"role holders: {len(held)}"]
        lines += [_holder_line(h, settings) for h in held]
        lines.append(f"links not opened yet: {len(pending)}")
        lines += [_link_line(link, settings) for link in pending]
        lines.append("revoke with `spibot grant --revoke ID` (a link #ID or a holder's code)")
        return lines

    print("\n".join(run_with_db(args, work)))
    return 0


async def _reset_menus(settings: Settings, chats: list[int]) -> str:
    """Reset the officials' command menu in these private chats through the Bot API."""
    from telegram import Bot, BotCommandScopeChat
    from telegram.error import TelegramError

    if not chats:
        return "their command menu goes at their next command (the bot knows no chat of theirs)"
    if settings.telegram_bot_token is None:
        return "TELEGRAM_BOT_TOKEN not set: their command menu goes at their next command"
    bot = Bot(settings.require_token(), base_url=settings.telegram_api_base_url)
    try:
        async with bot:
            for chat in chats:
                await bot.delete_my_commands(scope=BotCommandScopeChat(chat))
    except TelegramError as exc:
        return f"command menu not reset now ({type(exc).__name__}); it goes at their next command"
    return "their command menu is back to the respondents' one"


def _revoke(args: argparse.Namespace) -> int:
    """Withdraw a link nobody opened, or revoke a holder's role and everything it set up."""
    from services import admin
    from services.context import Services
    from services.errors import AdminError
    from storage.db import Database

    settings = settings_from(args)
    secret = settings.secret_bytes()

    async def main() -> list[str]:
        async with Database(settings.database_url) as db:
            services = Services(settings=settings, db=db, secret=secret)
            found, grant_id = await admin.find(db.engine, args.revoke)
            if grant_id is not None and not found:
                if await admin.withdraw_link(db.engine, grant_id):
                    return [f"link #{grant_id} withdrawn: it can no longer be used"]
                raise AdminError(
                    f"no link #{grant_id} that is unopened or whose role is still held "
                    "(see `spibot grant --list`)"
                )
            people = {h.pseudonym for h in found}
            if len(people) != 1:
                what = "is ambiguous: give more of the code" if people else "matches no holder"
                raise AdminError(f"{args.revoke!r} {what} (see `spibot grant --list`)")
            done: list[Revocation] = [await admin.revoke(services, h) for h in found]
        lines = []
        for revocation in done:
            holder = revocation.holder
            lines.append(
                f"revoked {_role(holder.role.value, holder.unit_code)} of {_who(holder.label)} "
                f"({holder.code}); follow-up drafts dropped: {revocation.drafts_dropped}; "
                f"subscriptions paused: {len(revocation.paused_chats)}"
            )
        last = done[-1]
        if not last.still_official:
            chats = list(dict.fromkeys(c for r in done for c in r.menu_chats))
            lines.append(await _reset_menus(settings, chats))
        return lines

    for line in asyncio.run(main()):
        print(line)
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    """Create a role link, list holders and links, or revoke."""
    from services.errors import AdminError

    if args.list:
        return _list(args)
    if args.revoke is not None:
        return _revoke(args)
    if args.role is None:
        raise AdminError("give --role (to create a link), --list or --revoke ID")
    return _create(args)


def add_grant_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `spibot grant`."""
    p = sub.add_parser(
        "grant", help="role links for officials: create (--role), --list, --revoke ID"
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--role", choices=["leadership", "unit_head"], help="create a role link")
    what.add_argument("--list", action="store_true", help="holders and unopened links")
    what.add_argument(
        "--revoke", metavar="ID", help="a link #ID (withdraw, or revoke its holder) or a code"
    )
    p.add_argument("--unit", help="unit code (unit_head only)")
    p.add_argument("--label", help='who the link is for, e.g. "Bupati" (shown in /akses)')
    p.set_defaults(func=cmd_grant)
