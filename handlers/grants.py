"""Role links: `/start g<token>` gives an official their role and their command menu."""

from __future__ import annotations

import html

from telegram import Update

from handlers.context import BotContext
from services.access import ClaimStatus, Role, claim_grant
from services.actions import remember_unit_head
from services.people import person_for

__all__ = ["on_grant"]


async def on_grant(update: Update, context: BotContext) -> None:
    """Handle /start g<token>: claim a one-time role link."""
    user = update.effective_user
    if user is None or not context.args:
        return
    services = context.services
    person = await person_for(services, user.id, user.language_code)
    language = person.language
    outcome = await claim_grant(
        services.db.engine,
        person.pseudonym,
        context.args[0],
        services.clock(),
        ttl=services.settings.role_link_ttl,
    )
    if outcome.status is ClaimStatus.CLAIMED:
        if outcome.role is Role.UNIT_HEAD:
            # Due-date reminders of the unit's follow-up actions need their chat (encrypted).
            await remember_unit_head(services, user.id, language)
            unit = html.escape(outcome.unit_name or "")
            text = context.t(language, "grant_claimed_unit_head", unit=unit)
        else:
            text = context.t(language, "grant_claimed_leadership")
        await context.bot_data.menus.show_official(context.bot, user.id, language)
    elif outcome.status is ClaimStatus.ALREADY_USED:
        text = context.t(language, "grant_already_used")
    elif outcome.status is ClaimStatus.EXPIRED:
        days = services.settings.role_link_ttl_days
        text = context.t(language, "grant_expired", days=days)
    else:
        text = context.t(language, "grant_invalid")
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)
