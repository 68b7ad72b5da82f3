"""The dashboard under test: the real bot (polling) against the sandbox with WEB_LISTEN and
WEB_PUBLIC_URL set, its Mini App server on a free loopback port, an HTTP client for it, and
launch data signed in the test with the bot's token, as Telegram signs it."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

import storage.db
from sandbox import SandboxServer, SandboxUser
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave, sandbox_settings
from services.access import create_grant
from services.admin import import_units_csv
from services.miniapp.auth import launch_key, sign_launch
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Clock, Harness, reply
from tests.score_data import add_responses

__all__ = [
    "ADMIN_ID",
    "CHROMIUM_FLAGS",
    "PUBLIC_URL",
    "Dash",
    "browser",
    "chromium_path",
    "dash",
    "dash_unconfigured",
    "dash_without_wave",
    "seed_scores",
]

ADMIN_ID = 999
PUBLIC_URL = "https://dasbor.example.go.id"


@dataclass
class Dash:
    """A running bot with its dashboard, and helpers to sign launch data and call the API."""

    h: Harness
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        assert self.h.app is not None
        assert self.h.app.bot_data.web is not None
        return self.h.app.bot_data.web.url

    def launch(
        self,
        user_id: int,
        language: str | None = "id",
        *,
        auth_date: datetime | None = None,
        token: str = SANDBOX_TOKEN,
        **extra: str,
    ) -> str:
        """Return launch data for a user, signed like Telegram signs it (default: now)."""
        user: dict[str, Any] = {"id": user_id, "first_name": "Pejabat", "is_bot": False}
        if language is not None:
            user["language_code"] = language
        return sign_launch(launch_key(token), user, auth_date or self.h.clock(), **extra)

    async def get(self, path: str, launch: str | None = None, **params: str) -> httpx.Response:
        headers = {} if launch is None else {"Authorization": f"tma {launch}"}
        return await self.http.get(path, headers=headers, params=params)

    async def post(self, path: str, launch: str | None, body: Any) -> httpx.Response:
        headers = {} if launch is None else {"Authorization": f"tma {launch}"}
        content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).read()
        return await self.http.post(
            path, headers={**headers, "Content-Type": "application/json"}, content=content
        )

    async def official(
        self, role: Role, unit: str | None = None, language: str = "id"
    ) -> SandboxUser:
        """Return a sandbox user who opened a role link (so the role is theirs)."""
        payload, _ = await create_grant(self.h.engine, role, unit, self.h.clock())
        user = self.h.user(language)
        await user.open_deep_link(payload)
        await reply(user)
        return user

    def today(self) -> date:
        return self.h.clock().date()


async def seed_scores(h: Harness) -> None:
    """Three units with every group shown, one with a too-small cell; then a day passes
    (provisional results show whole days before today)."""
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, 6, h.clock())
        await add_responses(h.engine, h.wave, "DISPENDUKCAPIL", group, 6, h.clock(), level=0.5)
        await add_responses(h.engine, h.wave, "DPUPR", group, 5, h.clock(), level=0.6)
    await add_responses(h.engine, h.wave, "BAPPEDA", Group.INTERNAL, 3, h.clock())
    h.clock.advance(days=1)


async def _dash(tmp_path: Path, *, with_wave: bool = True, **overrides: Any) -> AsyncIterator[Dash]:
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox,
            f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            secrets.token_urlsafe(32),
            admin_user_ids=str(ADMIN_ID),
            web_listen="127.0.0.1:0",
            **{"web_public_url": PUBLIC_URL, **overrides},
        )
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            if with_wave:
                wave = await open_sample_wave(db.engine, "2026-S1", clock())
            else:  # the units only: no wave was ever opened
                units = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
                with resources.as_file(units) as path:
                    await import_units_csv(db.engine, path)
                wave = None
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)  # type: ignore[arg-type]
        await h.start()
        try:
            assert h.app is not None
            assert h.app.bot_data.web is not None
            async with httpx.AsyncClient(base_url=h.app.bot_data.web.url, timeout=30) as http:
                yield Dash(h, http)
        finally:
            await h.stop()


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    """The bot with its dashboard, on a fresh database with the Mojokerto units and a wave."""
    async for value in _dash(tmp_path):
        yield value


@pytest.fixture
async def dash_without_wave(tmp_path: Path) -> AsyncIterator[Dash]:
    """The bot with its dashboard before any wave was opened."""
    async for value in _dash(tmp_path, with_wave=False):
        yield value


@pytest.fixture
async def dash_unconfigured(tmp_path: Path) -> AsyncIterator[Dash]:
    """The bot serving the dashboard, but without WEB_PUBLIC_URL: no way in from Telegram."""
    async for value in _dash(tmp_path, web_public_url=""):
        yield value


# -- a real browser ------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Return the Debian Chromium to drive (SPIBOT_CHROMIUM overrides), or None."""
    given = os.environ.get("SPIBOT_CHROMIUM")
    if given:
        return given
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Debian Chromium under Playwright."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[dev]'")
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium found: apt-get install chromium (or set SPIBOT_CHROMIUM)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()
