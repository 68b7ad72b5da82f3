"""Inline-button data has one registry (`handlers.commands.BUTTONS`): every family of button
data is declared once with its pattern and its one handler, the patterns exclude each other
(so registration order means nothing), and the Application the composition root builds
registers each family's handler exactly once (issue 25).

Samples are real button data, made by the functions and constants the bot uses.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from telegram import CallbackQuery, Update, User
from telegram.ext import CallbackQueryHandler

from bot.app import build_application
from handlers import actions as action_handlers
from handlers.commands import BUTTONS
from handlers.pushes import BUTTON_PREFIX as SUBSCRIPTION_PREFIX
from handlers.reports import UNIT_ACTION
from services import callbacks
from services.admin.rosters import button_data as roster_button
from services.reach.outreach import OPT_IN_ACTION, OPT_IN_PREFIX, OPT_OUT_DATA
from services.reach.reminders import CONTINUE_DATA
from services.reach.reminders import OPT_OUT_DATA as REMINDER_OPT_OUT
from services.respondent.entry import PAGE_ACTION
from services.respondent.entry import UNIT_ACTION as START_UNIT_ACTION
from services.respondent.screens import Action
from services.settings import load_settings

SECRET = b"k" * 32


def _signed(action: str, arg: str = "", version: int = 3) -> str:
    return callbacks.encode(SECRET, "pseudonym", version, action, arg)


def _action_codes() -> list[str]:
    return [
        value
        for name, value in vars(action_handlers).items()
        if name.isupper() and isinstance(value, str) and value.startswith("tl")
    ]


SAMPLES: dict[str, list[str]] = {
    "unit choice": [_signed(UNIT_ACTION, "12")],
    "subscriptions": [
        f"{SUBSCRIPTION_PREFIX}:{kind}:{state}"
        for kind in ("digest", "report", "final")
        for state in ("on", "off")
    ],
    "follow-up actions": [_signed(code, "7") for code in _action_codes()],
    "reminders": [CONTINUE_DATA, REMINDER_OPT_OUT],
    "inspectorate": ["adm.w.2026-S1", "adm.ok.5"],
    "quality": ["kua.x.1", "kua.ok.3"],
    "outreach": [OPT_OUT_DATA, f"{OPT_IN_PREFIX}12", _signed(OPT_IN_ACTION, "4")],
    "rosters": [roster_button(action, 3) for action in ("i", "e", "x")],
    "survey": [
        *(_signed(value, "1") for name, value in vars(Action).items() if name.isupper()),
        _signed(START_UNIT_ACTION, "1-2"),
        _signed(PAGE_ACTION, "1-2"),
        "forged",  # data the bot never issued is the survey's to refuse, as before
        "rem.maybe",
    ],
}


def test_every_family_is_declared_once() -> None:
    names = [family.name for family in BUTTONS]
    assert len(names) == len(set(names))
    assert len({family.pattern for family in BUTTONS}) == len(BUTTONS)
    assert len({family.callback for family in BUTTONS}) == len(BUTTONS)
    assert set(names) == set(SAMPLES), "every family has samples here"
    assert _action_codes(), "the follow-up actions' button codes were found"


@pytest.mark.parametrize("family", [family.name for family in BUTTONS])
def test_button_data_matches_its_own_family_only(family: str) -> None:
    for data in SAMPLES[family]:
        matching = [other.name for other in BUTTONS if re.match(other.pattern, data)]
        assert matching == [family], f"{data!r} matches {matching}"


def test_the_application_has_one_handler_per_family(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        telegram_bot_token="123456:" + "A" * 35,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        spibot_secret=secrets.token_urlsafe(32),
        bot_username="spi_test_bot",
    )
    app = build_application(settings)
    handlers = [
        handler
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, CallbackQueryHandler)
    ]
    for family in BUTTONS:
        assert [h.callback for h in handlers].count(family.callback) == 1, family.name
    user = User(1, "Sari", is_bot=False)
    for family, samples in SAMPLES.items():
        expected = next(f.callback for f in BUTTONS if f.name == family)
        for data in samples:
            query = CallbackQuery("1", from_user=user, chat_instance="c", data=data)
            update = Update(1, callback_query=query)
            taking = [h.callback for h in handlers if h.check_update(update)]
            assert taking == [expected], f"{data!r} ({family}) is taken by {taking}"
