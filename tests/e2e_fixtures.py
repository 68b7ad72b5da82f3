"""End-to-end harness: the real Application over real HTTP against the sandbox Bot API,
on a real SQLite file (or PostgreSQL), with the Mojokerto units and an open wave."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.db
from bot.app import SpiApplication, build_application
from bot.runner import running
from sandbox import SandboxServer, SandboxUser
from sandbox.demo import open_sample_wave, sandbox_settings
from sandbox.models import SentMessage
from services.admin import create_invitations
from services.links import unit_payload
from services.settings import Settings
from storage.waves import Wave
from surveys import Group

__all__ = ["Clock", "Harness", "database_url_for", "harness"]


class Clock:
    """A controllable clock for the bot (time moves only when a test says so)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 WIB

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


@dataclass
class Harness:
    """A running bot against the sandbox, and helpers to set up survey scenarios."""

    sandbox: SandboxServer
    settings: Settings
    clock: Clock
    wave: Wave
    app: SpiApplication | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _next_user: int = 50_000

    @property
    def engine(self) -> storage.db.AsyncEngine:
        assert self.app is not None
        return self.app.bot_data.services.db.engine

    async def start(self) -> None:
        """Start (or restart) the bot process on the same database."""
        self.app = build_application(self.settings, clock=self.clock)
        await self._stack.enter_async_context(running(self.app))

    async def stop(self) -> None:
        """Stop the bot, as a crash or deploy would."""
        await self._stack.aclose()
        self._stack = AsyncExitStack()
        self.app = None

    async def restart(self) -> None:
        """Stop the bot and start a fresh Application on the same database."""
        await self.stop()
        await self.start()

    def user(self, language: str | None = "id", user_id: int | None = None) -> SandboxUser:
        """Return a new sandbox user."""
        if user_id is None:
            self._next_user += 1
            user_id = self._next_user
        return self.sandbox.user(
            user_id=user_id, first_name=f"User{user_id}", language_code=language
        )

    async def invitation(self, group: Group, unit_code: str = "DINKES") -> str:
        """Create one personal invitation and return its /start payload."""
        rows = await create_invitations(
            self.engine,
            wave=self.wave,
            group=group,
            roster=[{"unit": unit_code, "name": "x"}],
            bot_username="spi_sandbox_bot",
            now=self.clock(),
        )
        return rows[0].link.split("start=", 1)[1]

    def unit_payload(self, unit_code: str = "DISPENDUKCAPIL", *, bound: bool = False) -> str:
        """Return the signed open-link payload of a unit (bound to this wave if `bound`)."""
        wave_id = self.wave.id if bound else None
        return unit_payload(self.settings.secret_bytes(), unit_code, wave_id)


async def reply(
    user: SandboxUser, timeout: float = 5.0, *, one_keyboard: bool = False
) -> SentMessage:
    """Wait for the bot to settle after the user's last action; return the newest message.

    With `one_keyboard`, settled also means at most one message with live buttons (the survey's
    promise: a late edit retiring the old keyboard must not pass for the reply to the next
    action). Admin screens may keep several menus live, so it is off by default.
    """
    import asyncio

    await user.wait_for_reply(timeout=timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        stamp = user.chat.last_bot_activity
        await asyncio.sleep(0.05)
        if user.chat.last_bot_activity != stamp:
            continue
        if not one_keyboard or loop.time() > deadline:
            break
        if sum(1 for m in user.chat.messages if m.buttons) <= 1:
            break
    message = user.chat.last_message
    assert message is not None
    return message


def live(user: SandboxUser) -> SentMessage:
    """Return the newest bot message that still has buttons."""
    for message in reversed(user.chat.messages):
        if message.buttons:
            return message
    raise AssertionError("no message with buttons in the chat")


def action_buttons(message: SentMessage, action: str) -> list[str]:
    """Return the callback data of the buttons with this action code."""
    return [b.data for b in message.flat_buttons if b.data and b.data.split(".")[1:2] == [action]]


@pytest.fixture
async def harness(
    tmp_path: Path, database_url_for: Callable[[Path], str]
) -> AsyncIterator[Harness]:
    """A running bot on a fresh database with the Mojokerto units and an open wave."""
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox, database_url_for(tmp_path), secrets.token_urlsafe(32), admin_user_ids="999"
        )
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            wave = await open_sample_wave(db.engine, "2026-S1", clock())
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()


@pytest.fixture
def database_url_for() -> Callable[[Path], str]:
    """Return a function giving the database URL for a test (SQLite file in tmp_path)."""
    return lambda tmp: f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
