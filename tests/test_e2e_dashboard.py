"""The ways into the dashboard, end to end through the sandbox: the menu button of officials,
/dasbor in private and group chats, the link in scheduled pushes, the launch a Telegram client
does from the menu button, and the sandbox refusing web app buttons where Telegram does."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

import storage.db
from bot.app import build_application
from bot.webhook import serving
from sandbox import SandboxChat, SandboxServer
from sandbox.cluster import free_port
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave, sandbox_settings
from services.access import claim_grant, create_grant
from services.i18n import catalog
from services.miniapp.auth import launch_key, sign_launch
from storage.roles import Role
from tests.e2e_fixtures import Harness, reply
from tests.miniapp_fixtures import ADMIN_ID, PUBLIC_URL, Dash, seed_scores

pytestmark = pytest.mark.e2e

DASHBOARD = PUBLIC_URL + "/app/"
GROUP = -100_777
TUESDAY_7_WIB = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def _t(key: str, language: str = "id") -> str:
    return catalog().t(language, key)


async def test_an_official_gets_the_dashboard_menu_button_and_can_open_it(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)

    button = dash.h.sandbox.menu_button(boss)
    assert button == {"type": "web_app", "text": "Dasbor", "web_app": {"url": DASHBOARD}}
    # What a Telegram client opens on a tap, served here by the bot's own web server.
    opened = dash.h.sandbox.mini_app_url(boss, now=dash.h.clock())
    assert opened.startswith(DASHBOARD + "#tgWebAppData=")
    launch = dict(parse_qsl(urlsplit(opened).fragment))["tgWebAppData"]
    answer = await dash.get("/app/api/overview", launch)
    assert answer.status_code == 200
    assert answer.json()["me"]["role"] == "leadership"


async def test_admins_get_the_menu_button_at_start_up(dash: Dash) -> None:
    admin = dash.h.sandbox.user(ADMIN_ID, "Inspektur", language_code="en")
    assert dash.h.sandbox.menu_button(admin) == {"type": "commands"}  # unknown chat at start

    await dash.h.restart()

    assert dash.h.sandbox.menu_button(admin)["web_app"] == {"url": DASHBOARD}
    assert dash.h.sandbox.menu_button(admin)["text"] == "Dasbor"  # the default language


async def test_dasbor_gives_a_web_app_button_in_private_and_a_link_in_groups(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)

    await boss.command("dasbor")
    answer = await reply(boss)
    assert "Dasbor SPI" in answer.plain_text
    assert [(b.text, b.web_app) for b in answer.flat_buttons] == [
        (_t("dashboard_button"), DASHBOARD)
    ]

    group = dash.h.sandbox.group(GROUP, "Pimpinan")
    await boss.command("dashboard", chat=group)
    answer = await boss.wait_for_reply(chat=group)
    assert [(b.text, b.url, b.web_app) for b in answer.flat_buttons] == [
        (_t("dashboard_button"), "https://t.me/spi_sandbox_bot?startapp=overview", None)
    ]


async def test_a_unit_head_opening_it_sees_their_unit(dash: Dash) -> None:
    await seed_scores(dash.h)
    head = await dash.official(Role.UNIT_HEAD, "DINKES", language="en")

    await head.command("dashboard")
    answer = await reply(head)
    assert answer.flat_buttons[0].text == "Open the dashboard"
    assert dash.h.sandbox.menu_button(head)["text"] == "Dashboard"
    opened = dash.h.sandbox.mini_app_url(head, now=dash.h.clock())
    launch = dict(parse_qsl(urlsplit(opened).fragment))["tgWebAppData"]
    body = (await dash.get("/app/api/overview", launch)).json()
    assert body["scope"]["code"] == "DINKES"
    assert body["me"]["role_label"] == "Unit head — Dinas Kesehatan"


async def test_someone_without_a_role_is_refused_and_loses_the_button(dash: Dash) -> None:
    citizen = dash.h.user()
    await citizen.command("dasbor")
    answer = await reply(citizen)

    assert answer.plain_text == _t("access_denied")
    assert not answer.flat_buttons
    resets = [c for c in dash.h.sandbox.calls("setChatMenuButton") if c.chat_id == citizen.id]
    assert resets
    assert dash.h.sandbox.menu_button(citizen) == {"type": "default"}


async def test_without_a_public_address_dasbor_says_the_dashboard_is_not_set_up(
    dash_unconfigured: Dash,
) -> None:
    dash = dash_unconfigured
    boss = await dash.official(Role.LEADERSHIP)

    assert dash.h.sandbox.menu_button(boss) == {"type": "commands"}
    await boss.command("dasbor")
    assert (await reply(boss)).plain_text == _t("dashboard_not_configured")
    group = dash.h.sandbox.group(GROUP, "Pimpinan")
    await boss.command("dasbor", chat=group)
    assert (await boss.wait_for_reply(chat=group)).plain_text == _t("dashboard_not_configured")


async def _settle(chat: SandboxChat) -> None:
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


async def test_a_pushed_digest_links_to_the_dashboard(dash: Dash) -> None:
    await seed_scores(dash.h)
    admin = dash.h.user("id", user_id=ADMIN_ID)
    group = dash.h.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    before = len(group.messages)

    dash.h.clock.now = TUESDAY_7_WIB + timedelta(days=1)
    assert dash.h.app is not None
    await dash.h.app.bot_data.scheduler.tick()
    await _settle(group)

    (digest,) = group.messages[before:]
    assert digest.text is not None
    assert '<a href="https://t.me/spi_sandbox_bot?startapp=progress">Buka dasbor</a>' in (
        digest.text
    )


async def test_the_sandbox_refuses_web_app_buttons_where_telegram_does(dash: Dash) -> None:
    sandbox = dash.h.sandbox
    user = dash.h.user()
    group = sandbox.group(GROUP, "Pimpinan")
    api = sandbox.base_url + SANDBOX_TOKEN

    async def send(chat_id: int, url: str) -> httpx.Response:
        markup = {"inline_keyboard": [[{"text": "Buka", "web_app": {"url": url}}]]}
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"{api}/sendMessage",
                json={"chat_id": chat_id, "text": "x", "reply_markup": markup},
            )

    assert (await send(user.id, DASHBOARD)).json()["ok"] is True
    refused = (await send(group.id, DASHBOARD)).json()
    assert refused["description"] == "Bad Request: BUTTON_TYPE_INVALID"
    refused = (await send(user.id, "http://dasbor.example.go.id/app/")).json()
    assert refused["description"] == "Bad Request: BUTTON_URL_INVALID"
    assert (await send(user.id, "http://127.0.0.1:9/app/")).json()["ok"] is True  # loopback
    async with httpx.AsyncClient() as client:
        menu = {"type": "web_app", "text": "Dasbor", "web_app": {"url": "ftp://x"}}
        answer = await client.post(
            f"{api}/setChatMenuButton", json={"chat_id": user.id, "menu_button": menu}
        )
        assert answer.json()["description"] == "Bad Request: BUTTON_URL_INVALID"
        menu["web_app"] = {"url": DASHBOARD}
        answer = await client.post(
            f"{api}/setChatMenuButton", json={"chat_id": group.id, "menu_button": menu}
        )
        assert answer.json()["description"] == "Bad Request: chat not found"
        answer = await client.post(f"{api}/getChatMenuButton", json={"chat_id": user.id})
        assert answer.json()["result"] == {"type": "commands"}


async def test_webhook_mode_serves_the_dashboard_beside_the_webhook(tmp_path: Path) -> None:
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox,
            f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            secrets.token_urlsafe(32),
            webhook_secret="webhook_" + secrets.token_urlsafe(24),
            webhook_listen=f"127.0.0.1:{free_port()}",
            web_listen="127.0.0.1:0",  # not used in webhook mode: one server for both
            web_public_url=PUBLIC_URL,
        )
        async with storage.db.Database(settings.database_url) as db:
            await open_sample_wave(db.engine, "2026-S1", datetime.now(UTC))
        app = build_application(settings, webhook=True)
        assert app.bot_data.web is None
        async with serving(app, settings) as server, httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/app/")).status_code == 200
            services = app.bot_data.services
            engine, now = services.db.engine, services.clock()
            payload, _ = await create_grant(engine, Role.LEADERSHIP, None, now)
            await claim_grant(engine, services.pseudonym(4242), payload, now)
            user = {"id": 4242, "first_name": "Bupati", "language_code": "id"}
            launch = sign_launch(launch_key(SANDBOX_TOKEN), user, datetime.now(UTC))
            answer = await http.get("/app/api/overview", headers={"Authorization": f"tma {launch}"})
            assert answer.status_code == 200
            assert answer.json()["me"]["role"] == "leadership"
            assert (await http.get("/app/api/overview")).status_code == 401
            assert (await http.get("/healthz")).text == "ok"


async def test_polling_without_web_listen_serves_no_dashboard(harness: Harness) -> None:
    assert harness.app is not None
    assert harness.app.bot_data.web is None
