"""The one table of commands: names in Indonesian and English, callback, audience and chats.

It feeds both the handler registration (`register`) and Telegram's command menus (`menus`),
so a command cannot be registered without its menu line, or listed without a handler.
Inline buttons have one registry too (`BUTTONS`): each family of button data, its pattern
and its one handler. Handler order matters within PTB's group 0 and is decided in `register`
only; the button patterns exclude each other, so among them it means nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import (
    actions,
    admin,
    common,
    dashboard,
    grants,
    integrity,
    pushes,
    reach,
    reports,
    respondent,
)
from handlers.context import BotContext
from handlers.menus import MenuEntry, Menus
from services.admin import ADMIN_BUTTONS, ROSTER_BUTTONS
from services.i18n import LANGUAGES, Catalog
from services.integrity import QUALITY_BUTTONS
from services.links import GRANT_PREFIX, start_command_pattern
from services.reach import OUTREACH_BUTTONS, REMINDER_BUTTONS

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = ["BUTTONS", "COMMANDS", "Audience", "Buttons", "Command", "menus", "register"]

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


class Audience(Enum):
    """Whose menu lists a command."""

    RESPONDENT = "respondent"  # everyone
    OFFICIAL = "official"  # admins and role holders, in their private chat's menu


@dataclass(frozen=True, slots=True)
class Command:
    """One command: `key` names its menu line (`menu_<key>` in the catalogs)."""

    key: str
    id: str  # as typed in Indonesian
    en: str  # as typed in English
    callback: Handler
    audience: Audience
    private_only: bool = False  # surveys never happen in groups: answers would be public

    @property
    def names(self) -> list[str]:
        """Return the names the command answers to (both languages)."""
        return list(dict.fromkeys((self.id, self.en)))

    def name_in(self, language: str) -> str:
        """Return the command's name in a language."""
        return self.en if language == "en" else self.id


RESPONDENT, OFFICIAL = Audience.RESPONDENT, Audience.OFFICIAL
COMMANDS: Final = (
    Command("start", "start", "start", respondent.on_start, RESPONDENT, private_only=True),
    Command(
        "language", "bahasa", "language", respondent.on_language, RESPONDENT, private_only=True
    ),
    Command("cancel", "batal", "cancel", respondent.on_cancel, RESPONDENT, private_only=True),
    Command("help", "bantuan", "help", common.help_command, RESPONDENT),
    # Score queries work in private and group chats: the asker's own role decides.
    Command("score", "skor", "score", reports.on_score, OFFICIAL),
    Command("unit", "unit", "unit", reports.on_unit, OFFICIAL),
    Command("dimensions", "dimensi", "dimensions", reports.on_dimensions, OFFICIAL),
    Command("ranking", "peringkat", "ranking", reports.on_ranking, OFFICIAL),
    Command("trend", "tren", "trend", reports.on_trend, OFFICIAL),
    Command("simulate", "simulasi", "simulate", reports.on_simulate, OFFICIAL),
    Command("actions", "tindaklanjut", "actions", actions.on_actions, OFFICIAL),
    Command("progress", "progres", "progress", reports.on_progress, OFFICIAL),
    # /laporan pdf is the rakor PDF (handlers/reports/rakor.py); /laporan alone the chart pack.
    Command("report", "laporan", "report", reports.on_report, OFFICIAL),
    # The Mini App dashboard: a web app button in private chats, a t.me link in groups.
    Command("dashboard", "dasbor", "dashboard", dashboard.on_dashboard, OFFICIAL),
    # Scheduled reports, in private and group chats; only admins and leadership may use them.
    Command("subscribe", "langganan", "subscribe", pushes.on_subscribe, OFFICIAL),
    Command("schedule", "jadwal", "schedule", pushes.on_schedule, OFFICIAL),
    Command("stop", "berhenti", "stop", pushes.on_stop, OFFICIAL),
    # Suggestions follow the score rules (a unit head sees their own unit's); the data export
    # is a file of every response, for admins, and only in a private chat.
    Command("comments", "saran", "suggestions", reports.on_comments, OFFICIAL),
    Command("export", "ekspor", "export", reports.on_export, OFFICIAL, private_only=True),
    # The inspectorate's admin (admins only; refusals are polite). Private chats only: role
    # links and pseudonym codes are not for a group's eyes.
    Command("waves", "gelombang", "wave", admin.on_waves, OFFICIAL, private_only=True),
    Command("access", "akses", "access", admin.on_access, OFFICIAL, private_only=True),
    Command("uptake", "undangan", "invites", admin.on_uptake, OFFICIAL, private_only=True),
    Command("broadcast", "siaran", "broadcast", admin.on_broadcast, OFFICIAL, private_only=True),
    # Survey integrity (issue 24): admins and leadership read it, admins decide; private only.
    Command("quality", "kualitas", "quality", integrity.on_quality, OFFICIAL, private_only=True),
)


def menus(messages: Catalog, dashboard_url: str | None = None) -> Menus:
    """Return the command menus built from the table (with the dashboard's menu button when
    `dashboard_url` is set)."""

    def entries(audience: Audience) -> dict[str, list[MenuEntry]]:
        return {
            language: [(c.name_in(language), c.key) for c in COMMANDS if c.audience is audience]
            for language in LANGUAGES
        }

    return Menus(messages, entries(Audience.RESPONDENT), entries(Audience.OFFICIAL), dashboard_url)


@dataclass(frozen=True, slots=True)
class Buttons:
    """One family of inline-button data: what its data looks like, and its one handler."""

    name: str
    pattern: str  # a regular expression matched at the start of the callback data
    callback: Handler


_FAMILIES: Final = (
    Buttons("unit choice", rf"^\d+\.{reports.UNIT_ACTION}\.", reports.on_unit_button),
    Buttons("subscriptions", pushes.BUTTON_PATTERN, pushes.on_schedule_button),
    Buttons("follow-up actions", actions.BUTTON_PATTERN, actions.on_action_button),
    Buttons("reminders", REMINDER_BUTTONS, reach.on_reminder_button),
    Buttons("inspectorate", ADMIN_BUTTONS, admin.on_admin_button),
    Buttons("quality", QUALITY_BUTTONS, integrity.on_quality_button),
    Buttons("outreach", OUTREACH_BUTTONS, reach.on_outreach_button),
    Buttons("rosters", ROSTER_BUTTONS, admin.on_roster_button),
)
# The survey takes its own buttons and whatever data no other family claims (a stale or
# forged button, answered as such), so it is defined by the others, not by coming last.
SURVEY_BUTTONS: Final = "^(?!" + "|".join(f"(?:{family.pattern})" for family in _FAMILIES) + ")"
# The one registry of button data (tests/test_buttons.py: disjoint, one handler each).
BUTTONS: Final = (*_FAMILIES, Buttons("survey", SURVEY_BUTTONS, respondent.on_button))


def register(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Register every handler; order matters within the group, so it is decided here only."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    private_only = [name for c in COMMANDS if c.private_only for name in c.names]
    app.add_handler(CommandHandler(private_only, common.group_refusal, filters=groups))
    # A photo captioned with a private-only command (/siaran) in a group: the same refusal.
    captioned = filters.CaptionRegex(rf"^/({'|'.join(private_only)})(@\w+)?(\s|$)")
    app.add_handler(MessageHandler(filters.PHOTO & groups & captioned, common.group_refusal))
    # Deep links are routed here, before the plain /start: a role link is not a survey.
    grant_link = filters.Regex(start_command_pattern(GRANT_PREFIX))
    app.add_handler(CommandHandler("start", grants.on_grant, filters=private & grant_link))
    for command in COMMANDS:
        app.add_handler(
            CommandHandler(
                command.names,
                command.callback,
                filters=private if command.private_only else None,
            )
        )
    # Every button family once; the patterns exclude each other, so their order means nothing.
    for family in BUTTONS:
        app.add_handler(CallbackQueryHandler(family.callback, pattern=family.pattern))
    # A roster CSV: an admin's document (any, so a wrong one is explained), or someone else's
    # CSV (refused). Other documents go on to the survey's answer below.
    admins = filters.User(user_id=app.bot_data.services.settings.admin_user_ids)
    roster = filters.Document.ALL & private & (admins | admin.CSV_DOCUMENT)
    app.add_handler(MessageHandler(roster, admin.on_roster_document))
    app.add_handler(MessageHandler(admin.CSV_DOCUMENT & groups, admin.on_group_document))
    # Last in the group: anything not handled above.
    app.add_handler(MessageHandler(filters.COMMAND & private, common.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, respondent.on_text))
    app.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, respondent.on_non_text)
    )
    # An official's answer in a follow-up dialogue: group -1 runs before the survey's text
    # handler and stops the update only when a dialogue took it (one lookup otherwise).
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, actions.on_draft_text), group=-1
    )
    app.add_handler(
        MessageHandler(filters.Document.ALL & private, actions.on_draft_document), group=-1
    )
    # An admin's reason for an exclusion (/kualitas), when their dialogue waits for one
    # (group -3: before the follow-up dialogue and the survey; stops the update only then).
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, integrity.on_reason_text),
        group=-3,
    )
    app.add_handler(
        MessageHandler(
            ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL & private,
            integrity.on_reason_other,
        ),
        group=-3,
    )
    # A photo sent as an action's evidence, when a note question waits for it (group -2: it
    # runs before the broadcast's photo handler and stops the update only when it took it).
    app.add_handler(MessageHandler(filters.PHOTO & private, actions.on_draft_photo), group=-2)
    # A broadcast's picture (captioned /siaran, or sent after it); other photos go on to the
    # survey, which answers them as before.
    app.add_handler(MessageHandler(filters.PHOTO & private, admin.on_broadcast_photo), group=-1)
    app.add_error_handler(common.error_handler)
