"""Who is acting: the pseudonym that stands for a Telegram user, and the language to answer in.

This is the one place that decides the language: a language chosen with /bahasa wins over the
Telegram client's language, which wins over the configured default.
"""

from __future__ import annotations

from dataclasses import dataclass

import storage.respondents
from services.context import Services
from services.i18n import pick_language

__all__ = ["Person", "choose_language", "person_for"]


@dataclass(frozen=True, slots=True)
class Person:
    """Who is acting: pseudonym and display language. The Telegram id stops here."""

    pseudonym: str
    language: str


def choose_language(chosen: str | None, telegram_code: str | None, default: str) -> str:
    """Return the reply language: the person's choice, else their client's, else `default`."""
    return chosen or pick_language(telegram_code, default)


async def person_for(services: Services, user_id: int, telegram_code: str | None) -> Person:
    """Return the person behind a Telegram user, with the language to answer them in."""
    pseudonym = services.pseudonym(user_id)
    chosen = await storage.respondents.get_respondent_language(services.db.engine, pseudonym)
    return Person(
        pseudonym, choose_language(chosen, telegram_code, services.settings.default_language)
    )
