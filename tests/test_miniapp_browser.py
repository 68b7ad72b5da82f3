"""The dashboard in a real browser: Chromium from the Debian packages, driven by Playwright
(never Playwright's own browser download), at a cheap phone's 360 x 740, in Telegram's light and
dark themes. It opens the address a Telegram client opens from the menu button, waits for the
index, checks that every request went to the bot's own origin and that the first load fits in
300 KB, and saves screenshots under the test's tmp dir.

Without Chromium (a laptop) these tests skip with the reason; on CI (CI=true, where .ci/run
installs Chromium) a missing browser fails them instead.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox.webapps import DARK_THEME, LIGHT_THEME
from services.i18n import catalog
from storage.roles import Role
from tests.miniapp_fixtures import Dash, seed_scores

pytestmark = pytest.mark.e2e

# The first load (shell, script, stylesheet, the overview's data) on a cheap phone's plan.
FIRST_LOAD_BUDGET = 300 * 1024
PHONE = {"width": 360, "height": 740}


class Visit:
    """One page at a phone's size, recording its requests, their bytes and any error."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[Any] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message: Any) -> None:
        # A Content-Security-Policy violation shows as a console error.
        if message.type == "error":
            self.errors.append(message.text)

    async def transferred(self) -> int:
        """Return the bytes received so far: headers and (compressed) bodies."""
        total = 0
        for request in self.requests:
            sizes = await request.sizes()
            total += sizes["responseHeadersSize"] + sizes["responseBodySize"]
        return total


async def _visit(browser: Any, url: str, *, dark: bool = False) -> Visit:
    page = await browser.new_page(
        viewport=PHONE, device_scale_factor=2, color_scheme="dark" if dark else "light"
    )
    visit = Visit(page)
    await page.goto(url)
    return visit


async def test_the_dashboard_on_a_cheap_phone_light_and_dark(
    dash: Dash, browser: Any, tmp_path: Path
) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)
    origin = dash.url
    expected = (await dash.get("/app/api/overview", dash.launch(boss.id))).json()
    index = expected["scope"]["headline"]["text"]

    for name, theme in (("light", LIGHT_THEME), ("dark", DARK_THEME)):
        # The address the menu button opens, served here by the bot's own server.
        url = dash.h.sandbox.mini_app_url(boss, origin + "/app/", theme=theme, now=dash.h.clock())
        visit = await _visit(browser, url, dark=name == "dark")
        page = visit.page
        await page.locator(".big").first.wait_for()
        assert await page.locator(".big").first.inner_text() == index
        await page.wait_for_load_state("networkidle")
        first_load = await visit.transferred()
        await page.screenshot(path=tmp_path / f"dashboard-{name}.png")
        await page.screenshot(path=tmp_path / f"dashboard-{name}-full.png", full_page=True)

        # Everything came from the bot's own origin: no CDN, no third party.
        assert {urlsplit(r.url).netloc for r in visit.requests} == {urlsplit(origin).netloc}
        assert first_load <= FIRST_LOAD_BUDGET, f"first load {first_load} bytes"
        print(f"first load ({name}): {len(visit.requests)} requests, {first_load} bytes")
        assert not visit.errors
        # Telegram's theme colours are the page's.
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == _rgb(theme["secondary_bg_color"])
        assert await page.evaluate("document.documentElement.classList.contains('dark')") is (
            name == "dark"
        )
        # Nothing wider than the phone.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The launch data left the address bar once read.
        assert "tgWebAppData" not in page.url
        await page.close()


async def test_tapping_through_units_and_the_what_if(
    dash: Dash, browser: Any, tmp_path: Path
) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)
    url = dash.h.sandbox.mini_app_url(boss, dash.url + "/app/", now=dash.h.clock())
    visit = await _visit(browser, url)
    page = visit.page
    await page.locator(".big").first.wait_for()

    await page.get_by_role("button", name="Unit", exact=True).click()
    first = page.locator(".row.unit").first
    await first.wait_for()
    name = await first.locator(".name span").first.inner_text()
    await first.click()
    await page.locator(".scope-name h1").wait_for()
    assert await page.locator(".scope-name h1").inner_text() == name
    await page.screenshot(path=tmp_path / "dashboard-unit.png", full_page=True)

    await page.get_by_role("button", name="Simulasi").click()
    await page.locator("form.whatif").wait_for()
    await page.locator("select").select_option("procurement")
    await page.locator("input[type=number]").fill("10")
    await page.get_by_role("button", name="Hitung").click()
    await page.locator(".result .pair").wait_for()
    assert "Pengelolaan PBJ naik 10,00 poin" in await page.locator(".result .lift").inner_text()
    await page.screenshot(path=tmp_path / "dashboard-whatif.png", full_page=True)
    for tab in ("Tren", "Progres", "Tindak lanjut"):
        await page.get_by_role("button", name=tab).click()
        await page.locator(".card").first.wait_for()
    assert not visit.errors


async def test_a_person_without_a_role_sees_a_polite_refusal(
    dash: Dash, browser: Any, tmp_path: Path
) -> None:
    stranger = dash.h.user()
    url = dash.h.sandbox.mini_app_url(stranger, dash.url + "/app/", now=dash.h.clock())

    visit = await _visit(browser, url)
    message = visit.page.locator(".problem .message")
    await message.wait_for()

    assert await message.inner_text() == catalog().t("id", "access_denied")
    assert await visit.page.locator("#tabs").is_hidden()
    await visit.page.screenshot(path=tmp_path / "dashboard-refusal.png")
    assert [e for e in visit.errors if "403" not in e] == []  # the refusal itself is a 403


async def test_an_old_link_asks_to_open_the_dashboard_from_telegram_again(
    dash: Dash, browser: Any
) -> None:
    boss = await dash.official(Role.LEADERSHIP, language="en")
    old = dash.h.clock() - timedelta(days=3)
    url = dash.h.sandbox.mini_app_url(boss, dash.url + "/app/", now=old)

    visit = await _visit(browser, url)
    message = visit.page.locator(".problem .message")
    await message.wait_for()

    assert await message.inner_text() == catalog().t("en", "miniapp_unauthorized")


def _rgb(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"
