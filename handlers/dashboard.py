"""/dasbor (/dashboard): the way into the Mini App dashboard from a chat.

In a private chat the answer carries a web app button (and the chat gets the dashboard's menu
button); in a group, where Telegram refuses web app buttons, a link that opens the bot's Main
Mini App. Only officials get either; the dashboard itself checks again who opens it.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.constants import ChatType

from handlers.context import BotContext
from handlers.reports import Need, asker_command
from services.access import Asker
from services.links import mini_app_link

__all__ = ["GROUP_VIEW", "on_dashboard"]

GROUP_VIEW = "overview"  # the view a group's link opens first


@asker_command(Need.ROLE)
async def on_dashboard(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /dasbor: a button that opens the dashboard, or why there is none."""
    chat = update.effective_chat
    if chat is None:
        return
    language = asker.language
    url = context.services.settings.dashboard_url
    username = context.bot.username
    if url is None or (chat.type != ChatType.PRIVATE and not username):
        await context.bot.send_message(chat.id, context.t(language, "dashboard_not_configured"))
        return
    label = context.t(language, "dashboard_button")
    if chat.type == ChatType.PRIVATE:
        button = InlineKeyboardButton(label, web_app=WebAppInfo(url))
        text = context.t(language, "dashboard_intro")
        await context.bot.send_message(chat.id, text, reply_markup=InlineKeyboardMarkup([[button]]))
        # An official who got their role before the dashboard existed gets its menu button now.
        await context.bot_data.menus.show_dashboard(context.bot, chat.id, language)
        return
    button = InlineKeyboardButton(label, url=mini_app_link(username, GROUP_VIEW))
    text = context.t(language, "dashboard_group_intro")
    await context.bot.send_message(chat.id, text, reply_markup=InlineKeyboardMarkup([[button]]))
