"""Delivery against the sandbox Bot API: 429 waits, 403 pauses, nothing raises.

An `ExtBot` without a rate limiter lets every injected 429 reach `Delivery`; the end-to-end tests
cover the same path through the Application and PTB's `AIORateLimiter`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import Defaults, ExtBot

import storage.db
import storage.subscriptions
from sandbox import SandboxServer
from sandbox.demo import sandbox_settings
from services.context import Services
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing, retry_after_seconds

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
GROUP = -100_500
ADMINS = (901, 902)  # 902 never started the bot
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Setup:
    sandbox: SandboxServer
    services: Services
    bot: Bot
    waits: list[float]

    def delivery(self, **options: float) -> Delivery:
        async def record(seconds: float) -> None:
            self.waits.append(seconds)

        return Delivery(self.bot, self.services, sleep=record, **options)  # type: ignore[arg-type]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox,
            f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            secrets.token_urlsafe(32),
            admin_user_ids=",".join(str(a) for a in ADMINS),
        )
        async with storage.db.Database(settings.database_url) as db:
            services = Services(settings=settings, db=db, secret=settings.secret_bytes())
            # As the Application builds it: HTML is the default parse mode.
            bot = ExtBot(
                settings.require_token(),
                base_url=sandbox.base_url,
                defaults=Defaults(parse_mode=ParseMode.HTML),
            )
            async with bot:
                sandbox.user(ADMINS[0], "Admin")
                sandbox.group(GROUP, "Pimpinan")
                await storage.subscriptions.subscribe(db.engine, GROUP, "id", NOW)
                yield Setup(sandbox, services, bot, [])


def test_retry_after_in_seconds_from_int_or_timedelta() -> None:
    assert retry_after_seconds(RetryAfter(timedelta(seconds=3))) == 3.0
    assert retry_after_seconds(RetryAfter(7)) == 7.0


async def test_429_is_waited_out_and_retried(setup: Setup) -> None:
    setup.sandbox.inject_fault(method="sendPhoto", status=429, retry_after=2, times=2)
    outcome = await setup.delivery().send(GROUP, Outgoing(photo=PNG, caption="<b>Indeks</b>"))
    assert outcome is DeliveryOutcome.SENT
    assert setup.waits == [2.0, 2.0]
    (photo,) = setup.sandbox.chat(GROUP).messages
    assert photo.photo == PNG
    assert photo.plain_text == "Indeks"


async def test_429_beyond_the_attempts_fails_without_raising(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.sandbox.inject_fault(method="sendMessage", status=429, retry_after=1, times=None)
    with caplog.at_level(logging.WARNING, logger="services.pushes.delivery"):
        outcome = await setup.delivery(max_attempts=3).send(GROUP, Outgoing(text="x"))
    assert outcome is DeliveryOutcome.FAILED
    assert setup.waits == [1.0, 1.0]
    assert "giving up after 3 attempts" in caplog.text


async def test_a_flood_wait_too_long_is_not_waited(setup: Setup) -> None:
    setup.sandbox.inject_fault(method="sendMessage", status=429, retry_after=3600)
    outcome = await setup.delivery(max_wait=120).send(GROUP, Outgoing(text="x"))
    assert outcome is DeliveryOutcome.FAILED
    assert setup.waits == []


async def test_403_pauses_the_subscription_and_tells_admins_once(setup: Setup) -> None:
    setup.sandbox.chat(GROUP).kick_bot()
    delivery = setup.delivery()
    items = [Outgoing(text="one"), Outgoing(text="two")]
    assert await delivery.send_all(GROUP, items) is DeliveryOutcome.GONE
    subscription = await storage.subscriptions.get_subscription(setup.services.db.engine, GROUP)
    assert subscription is not None
    assert not subscription.active
    assert subscription.paused_reason == "Forbidden: bot was kicked from the group chat"
    # Stopped at the first refusal; the admin who started the bot is told, the other cannot be.
    assert len([c for c in setup.sandbox.sent if c.chat_id == GROUP]) == 1
    (notice,) = setup.sandbox.chat(ADMINS[0]).messages
    assert str(GROUP) in notice.plain_text
    assert "dijeda" in notice.plain_text

    assert await delivery.send(GROUP, Outgoing(text="again")) is DeliveryOutcome.GONE
    assert len(setup.sandbox.chat(ADMINS[0]).messages) == 1  # already paused: no second notice


async def test_a_chat_that_no_longer_exists_is_gone(setup: Setup) -> None:
    await storage.subscriptions.subscribe(setup.services.db.engine, -100_999, "id", NOW)
    outcome = await setup.delivery().send(-100_999, Outgoing(text="x"))
    assert outcome is DeliveryOutcome.GONE
    subscription = await storage.subscriptions.get_subscription(setup.services.db.engine, -100_999)
    assert subscription is not None
    assert subscription.paused_reason == "Chat not found"


async def test_other_errors_are_logged_and_reported_as_failed(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.sandbox.inject_fault(method="sendDocument", status=500)
    with caplog.at_level(logging.ERROR, logger="services.pushes.delivery"):
        outcome = await setup.delivery().send_all(
            GROUP, [Outgoing(document=b"a,b\n", filename="x.csv"), Outgoing(text="after")]
        )
    assert outcome is DeliveryOutcome.FAILED
    assert "scheduled message failed" in caplog.text
    assert [m.plain_text for m in setup.sandbox.chat(GROUP).messages] == ["after"]
    subscription = await storage.subscriptions.get_subscription(setup.services.db.engine, GROUP)
    assert subscription is not None
    assert subscription.active


async def test_an_empty_outgoing_is_a_programming_error(setup: Setup) -> None:
    with pytest.raises(ValueError, match="needs a text"):
        await setup.delivery().send(GROUP, Outgoing())
