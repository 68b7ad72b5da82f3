"""`spibot demo --serve`: after the wave the sandbox, the bot and its dashboard keep running, and
the printed 127.0.0.1 address opens the dashboard as the demo's Bupati, until Ctrl-C. The demo
runs as its own process (as a person would start it), interrupted at the end."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.miniapp_fixtures import CHROMIUM_FLAGS, chromium_path

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
# How long the demo may take to reach its address on a busy machine: a safety net for a hung
# process, not a wait (the test goes on at the line that carries the address).
STARTUP_LIMIT = 300.0


class Demo:
    """The running demo process and what it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def address(self) -> str:
        """Read the output until the dashboard's address; return it."""
        assert self.process.stdout is not None
        while True:
            raw = await self.process.stdout.readline()
            if not raw:
                raise AssertionError("the demo ended without an address:\n" + "".join(self.lines))
            line = raw.decode()
            self.lines.append(line)
            if line.startswith("http://127.0.0.1:"):
                return line.strip()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """`spibot demo --serve` as a subprocess; interrupted (then killed, if it must be) after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "WEBHOOK_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--serve",
        "--respondents",
        "12",
        "--seed",
        "5",
        "--out",
        str(tmp_path / "demo-out"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    running = Demo(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_demo_serve_keeps_the_dashboard_open_for_the_bupati(demo: Demo) -> None:
    url = await asyncio.wait_for(demo.address(), STARTUP_LIMIT)
    parts = urlsplit(url)
    launch = dict(parse_qsl(parts.fragment))["tgWebAppData"]
    base = f"{parts.scheme}://{parts.netloc}"

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        shell = await http.get(parts.path)
        assert shell.status_code == 200
        overview = await http.get("/app/api/overview", headers={"Authorization": f"tma {launch}"})
    assert overview.status_code == 200
    body = overview.json()
    assert body["me"]["role"] == "leadership"
    assert body["wave"]["provisional"] is False  # the demo's wave is closed: the final report
    assert body["scope"]["headline"]["state"] in ("index", "partial", "insufficient")
    await _open_in_a_browser(url, body)

    demo.process.send_signal(signal.SIGINT)  # Ctrl-C
    assert await asyncio.wait_for(demo.process.wait(), 60) == 0


async def _open_in_a_browser(url: str, overview: dict[str, Any]) -> None:
    """Open the address in Chromium, when there is one (the browser tests need it anyway)."""
    path = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return
    if path is None:
        return
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(url)
            institution = page.locator(".institution")
            await institution.wait_for()
            assert await institution.inner_text() == overview["me"]["institution"]
        finally:
            await browser.close()
