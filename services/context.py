"""The services every feature shares, created once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.i18n import Catalog, catalog
from services.security import pseudonym_for
from services.settings import Settings
from storage.db import Database

__all__ = ["Services", "utc_now"]


def utc_now() -> datetime:
    """Return the current aware UTC time (the default clock)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Settings, database, secret, clock and messages, created once in `build_application`."""

    settings: Settings
    db: Database
    secret: bytes
    clock: Callable[[], datetime] = utc_now
    messages: Catalog = field(default_factory=catalog)
    bot_username: str = ""

    def pseudonym(self, telegram_user_id: int) -> str:
        """Return the keyed hash that stands for this Telegram user everywhere in storage."""
        return pseudonym_for(self.secret, telegram_user_id)

    def is_admin(self, telegram_user_id: int) -> bool:
        """Tell whether this user is a configured admin."""
        return telegram_user_id in self.settings.admin_user_ids
