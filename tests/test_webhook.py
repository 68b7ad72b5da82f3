"""Webhook mode end to end: a real uvicorn server on loopback, the real Application, and the
sandbox Bot API, fed by plain HTTP POSTs and by the sandbox's own webhook delivery."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import storage.db
import storage.frames
import storage.updates
from bot.app import SpiApplication, build_application
from bot.webhook import SECRET_HEADER, WEBHOOK_PATH, WebhookServer, serving
from sandbox import SandboxServer, SandboxUser
from sandbox.cluster import free_port
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave, sandbox_settings
from sandbox.simulation import Outcome, Persona, simulate_respondent
from sandbox.webhook import DeliveryPolicy
from services.links import unit_payload
from services.settings import Settings, load_settings
from storage.updates import processed_updates
from tests.e2e_fixtures import Clock, reply
from tests.storage_fixtures import _ThrowawayDatabase
from tests.test_storage_updates import _terminate_backends

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "webhook_" + secrets.token_urlsafe(24)


@dataclass
class WebhookBot:
    """A bot in webhook mode against the sandbox, and an HTTP client for its server."""

    sandbox: SandboxServer
    settings: Settings
    app: SpiApplication
    server: WebhookServer
    http: httpx.AsyncClient
    clock: Clock

    @property
    def engine(self) -> storage.db.AsyncEngine:
        return self.app.bot_data.services.db.engine

    async def post(self, update: Any, secret: str | None = WEBHOOK_SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return await self.http.post(self.server.webhook_url, content=body, headers=headers)


async def _webhook_bot(
    tmp_path: Path, *, deliver: bool, database_url: str | None = None, **overrides: Any
) -> AsyncIterator[WebhookBot]:
    policy = DeliveryPolicy(timeout=5.0, retry_delay=0.05, max_retry_delay=0.2)
    async with SandboxServer(webhook_policy=policy) as sandbox:
        port = free_port()
        public = {"webhook_public_url": f"http://127.0.0.1:{port}"} if deliver else {}
        settings = sandbox_settings(
            sandbox,
            database_url or f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            secrets.token_urlsafe(32),
            webhook_secret=WEBHOOK_SECRET,
            webhook_listen=f"127.0.0.1:{port}",
            **public,
            **overrides,
        )
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            await open_sample_wave(db.engine, "2026-S1", clock())
        app = build_application(settings, clock=clock, webhook=True)
        async with (
            serving(app, settings) as server,
            httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        ):
            yield WebhookBot(sandbox, settings, app, server, http, clock)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[WebhookBot]:
    """A webhook bot that only the test posts to (no webhook set at the sandbox)."""
    async for value in _webhook_bot(tmp_path, deliver=False):
        yield value


@pytest.fixture
async def delivered_bot(tmp_path: Path) -> AsyncIterator[WebhookBot]:
    """A webhook bot that set its webhook at the sandbox, which delivers every update."""
    async for value in _webhook_bot(tmp_path, deliver=True):
        yield value


# What /start without a payload sends: the welcome, then the menu.
_START_MESSAGES = 2
_update_ids = iter(range(900_000, 1_000_000))


def _update(message: dict[str, Any]) -> dict[str, Any]:
    """Wrap a message a sandbox user sent as the update Telegram would POST."""
    return {"update_id": next(_update_ids), "message": message}


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def test_health_readiness_and_metrics(bot: WebhookBot) -> None:
    assert (await bot.http.get("/healthz")).text == "ok"
    ready = await bot.http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready")
    scraped = await bot.http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    for name in ("spibot_updates_handled_total", "spibot_update_queue_depth"):
        assert name in scraped.text
    # The webhook only takes POSTs; the probes only GETs.
    assert (await bot.http.get(WEBHOOK_PATH)).status_code == 405


async def test_readiness_fails_when_the_database_is_gone(bot: WebhookBot) -> None:
    await bot.app.bot_data.services.db.close()
    ready = await bot.http.get("/readyz")
    assert ready.status_code == 503
    assert (await bot.http.get("/healthz")).status_code == 200


async def test_an_update_is_answered_only_after_it_is_handled(bot: WebhookBot) -> None:
    user = bot.sandbox.user(user_id=50_001, first_name="Ani", language_code="id")
    update = _update(await user.command("start"))
    answer = await bot.post(update)
    assert answer.status_code == 200
    # No waiting: the replies were sent before the webhook answered.
    assert user.chat.messages
    assert await storage.updates.update_state(bot.engine, update["update_id"]) is (
        storage.updates.UpdateState.FINISHED
    )


async def test_a_redelivered_update_is_handled_once(bot: WebhookBot) -> None:
    user = bot.sandbox.user(user_id=50_002, first_name="Budi", language_code="id")
    update = _update(await user.command("start"))
    before = _metric((await bot.http.get("/metrics")).text, "spibot_duplicate_updates_total")
    assert (await bot.post(update)).status_code == 200
    sent = len(user.chat.messages)
    assert sent >= 1
    for _ in range(3):  # Telegram retrying after a timeout, or a second process receiving it
        again = await bot.post(update)
        assert again.status_code == 200
    assert len(user.chat.messages) == sent
    after = _metric((await bot.http.get("/metrics")).text, "spibot_duplicate_updates_total")
    assert after - before == 3


async def test_simultaneous_copies_of_an_update_are_handled_once(bot: WebhookBot) -> None:
    user = bot.sandbox.user(user_id=50_003, first_name="Citra", language_code="id")
    update = _update(await user.command("start"))
    answers = await asyncio.gather(*(bot.post(update) for _ in range(5)))
    codes = sorted(answer.status_code for answer in answers)
    # One copy is handled (200); the rest see it finished (200) or still in hand (503, retried).
    assert codes.count(200) >= 1
    assert set(codes) <= {200, 503}
    assert (await bot.post(update)).status_code == 200
    assert len(user.chat.messages) == _START_MESSAGES


async def test_an_update_a_dead_process_claimed_is_handled_after_its_lease(
    bot: WebhookBot,
) -> None:
    user = bot.sandbox.user(user_id=50_004, first_name="Dewi", language_code="id")
    update = _update(await user.command("start"))
    # Another process claimed it and died before answering Telegram.
    assert await storage.updates.claim_update(bot.engine, update["update_id"], bot.clock())
    refused = await bot.post(update)
    assert refused.status_code == 503  # Telegram will redeliver it
    assert user.chat.messages == []
    lease = timedelta(seconds=bot.settings.update_claim_lease_seconds)
    bot.clock.advance(seconds=lease.total_seconds() + 1)
    assert (await bot.post(update)).status_code == 200
    assert len(user.chat.messages) == _START_MESSAGES


async def _tap_first_button(user: SandboxUser) -> dict[str, Any]:
    """Tap the first button of the user's live survey screen; return the update to post."""
    screen = user.chat.last_message
    assert screen is not None
    assert screen.buttons
    return {
        "update_id": next(_update_ids),
        "callback_query": await user.tap(screen, data=screen.buttons[0][0].data),
    }


async def test_a_tap_handled_by_a_process_that_died_before_finishing_counts_once(
    bot: WebhookBot,
) -> None:
    """The crash window between handling an update and marking it finished: Telegram
    redelivers, the update is handled again after the lease, and the tap still counts once."""
    user = bot.sandbox.user(user_id=50_006, first_name="Fitri", language_code="id")
    payload = unit_payload(bot.settings.secret_bytes(), "DINKES", None)
    assert (await bot.post(_update(await user.open_deep_link(payload)))).status_code == 200
    tap = await _tap_first_button(user)
    assert (await bot.post(tap)).status_code == 200
    after_tap = user.chat.last_message
    assert after_tap is not None
    shown, edits = after_tap.plain_text, after_tap.edit_count
    # The process handled the tap and died before `finish_update`: its claim stays open.
    async with bot.engine.begin() as conn:
        await conn.execute(
            processed_updates.update()
            .where(processed_updates.c.update_id == tap["update_id"])
            .values(finished_at=None)
        )
    assert (await bot.post(tap)).status_code == 503  # within the lease: Telegram retries
    bot.clock.advance(seconds=bot.settings.update_claim_lease_seconds + 1)
    assert (await bot.post(tap)).status_code == 200  # taken over and handled again...
    now = user.chat.message(after_tap.message_id)
    # ...as a stale tap: the person's screen did not move a second step.
    assert now.plain_text == shown
    assert len(user.chat.messages) == 1
    assert now.edit_count in (edits, edits + 1)
    assert (await bot.post(tap)).status_code == 200  # finished now: never again
    assert await storage.updates.update_state(bot.engine, tap["update_id"]) is (
        storage.updates.UpdateState.FINISHED
    )


@pytest.mark.postgres
async def test_the_next_update_is_handled_after_postgresql_cut_every_connection(
    tmp_path: Path,
) -> None:
    """A server restart (here: every backend of the bot's database terminated) costs no update:
    the bot's pool replaces the dead connections without a ping per checkout."""
    database = _ThrowawayDatabase.create()
    try:
        async for bot in _webhook_bot(tmp_path, deliver=False, database_url=database.url):
            user = bot.sandbox.user(user_id=50_007, first_name="Galih", language_code="id")
            payload = unit_payload(bot.settings.secret_bytes(), "DINKES", None)
            assert (await bot.post(_update(await user.open_deep_link(payload)))).status_code == 200
            before = user.chat.last_message
            assert before is not None
            assert await _terminate_backends(database.url) >= 1
            tap = await _tap_first_button(user)
            answer = await bot.post(tap)
            assert (answer.status_code, answer.text) == (200, "ok")
            after = user.chat.message(before.message_id)
            assert after.plain_text != before.plain_text  # the survey moved on
            assert await storage.updates.update_state(bot.engine, tap["update_id"]) is (
                storage.updates.UpdateState.FINISHED
            )
    finally:
        database.drop()


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong_secret_of_good_length", WEBHOOK_SECRET + "x"],
    ids=["missing", "empty", "wrong", "one_character_longer"],
)
async def test_a_wrong_secret_is_refused(bot: WebhookBot, secret: str | None) -> None:
    user = bot.sandbox.user(user_id=50_005, first_name="Eko", language_code="id")
    update = _update(await user.command("start"))
    refused = await bot.post(update, secret=secret)
    assert refused.status_code == 403
    assert user.chat.messages == []
    assert await storage.updates.update_state(bot.engine, update["update_id"]) is (
        storage.updates.UpdateState.UNKNOWN
    )


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b"\xff\xfe"],
)
async def test_a_body_that_is_no_update_is_refused(bot: WebhookBot, body: bytes) -> None:
    answer = await bot.post(body)
    assert answer.status_code == 400
    assert (await bot.http.get("/healthz")).status_code == 200


async def test_the_sandbox_delivers_a_survey_through_the_webhook(
    delivered_bot: WebhookBot,
) -> None:
    bot = delivered_bot
    hook = bot.sandbox.webhook
    assert hook is not None
    assert hook.url == f"{bot.settings.webhook_public_url}{WEBHOOK_PATH}"
    assert hook.secret_token == WEBHOOK_SECRET
    payload = unit_payload(bot.settings.secret_bytes(), "DINKES", None)
    user = bot.sandbox.user(user_id=50_010, first_name="Fajar", language_code="id")
    outcome, answered = await simulate_respondent(user, payload, Persona(0.6, random.Random(1)))
    assert outcome is Outcome.COMPLETED
    assert answered > 0
    counts = await storage.frames.response_counts(bot.engine, 1)
    assert [(c.unit_code, c.grp, c.submitted) for c in counts] == [("DINKES", "external", 1)]
    # The last reply went out before its update was answered: wait for that 200 too.
    await bot.sandbox.wait_for(lambda: bot.sandbox.pending_updates == 0, 5)
    # Every delivery was answered 200 on its first attempt: nothing was handled twice.
    assert {attempt.status for attempt in bot.sandbox.webhook_attempts} == {200}


async def test_the_sandbox_retries_until_the_bot_can_take_the_update(
    delivered_bot: WebhookBot,
) -> None:
    bot = delivered_bot
    # Every coming update id is held by a claim of a process that died: refused with 503.
    for update_id in range(1, 50):
        await storage.updates.claim_update(bot.engine, update_id, bot.clock())
    user = bot.sandbox.user(user_id=50_011, first_name="Gita", language_code="id")
    await user.command("start")
    for _ in range(200):
        if any(a.status == 503 for a in bot.sandbox.webhook_attempts):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the sandbox never tried to deliver the update")
    assert user.chat.messages == []
    # The lease runs out; Telegram's (the sandbox's) next retry is handled.
    bot.clock.advance(seconds=bot.settings.update_claim_lease_seconds + 1)
    answer = await reply(user)
    assert answer.plain_text
    assert len(user.chat.messages) == _START_MESSAGES
    assert [a.status for a in bot.sandbox.webhook_attempts][-1] == 200


def test_run_webhook_without_a_secret_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    env = tmp_path / ".env"
    env.write_text(
        f"TELEGRAM_BOT_TOKEN=123:abc\nSPIBOT_SECRET={secrets.token_urlsafe(32)}\n"
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'never.db'}\n"
    )
    assert main(["--env-file", str(env), "run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("configuration error: WEBHOOK_SECRET: required in webhook mode")
    assert not (tmp_path / "never.db").exists()  # refused before touching the database


@pytest.mark.postgres
async def test_pool_settings_bound_the_connections_of_a_process() -> None:
    """N processes share one server's max_connections: each holds at most pool + overflow."""
    database = _ThrowawayDatabase.create()
    try:
        settings = load_settings(
            None,
            telegram_bot_token=SANDBOX_TOKEN,  # the bot never calls the Bot API here
            database_url=database.url,
            spibot_secret=secrets.token_urlsafe(32),
            db_pool_size=2,
            db_max_overflow=1,
        )
        db = build_application(settings).bot_data.services.db
        await db.initialize()
        try:
            held = [await db.engine.connect() for _ in range(3)]
            with pytest.raises(TimeoutError):  # a fourth waits for one to come back
                await asyncio.wait_for(db.engine.connect(), 0.5)
            await held.pop().close()
            async with db.engine.connect() as conn:  # ...and gets it
                held.append(conn)
                for other in held[:-1]:
                    await other.close()
        finally:
            await db.close()
    finally:
        database.drop()
