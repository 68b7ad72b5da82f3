"""The bot process's footprint: pandas, matplotlib and the export libraries load only when a
report, chart, export or poster needs them (a survey never does), so a 1 GB VPS has room.

The real entry point (`python -m bot run`) runs in a child process against the sandbox; a
SIGUSR1 handler installed before it starts writes the names in `sys.modules` to a file, so the
test reads what the running process holds (no timing involved).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import storage.db
from sandbox import SandboxServer
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.links import unit_payload
from tests.e2e_fixtures import Clock, reply

pytestmark = pytest.mark.e2e

ADMIN = 90_500
# Loaded on demand only: the report and chart stack, exports, XLSForm, QR posters.
HEAVY = ("pandas", "numpy", "matplotlib", "openpyxl", "pyxform", "segno", "PIL")

# `python -m bot ...` as runpy runs it, after a SIGUSR1 handler that lists sys.modules.
_ENTRY = """
import os, runpy, signal, sys

out = sys.argv[1]

def dump(_signum, _frame):
    with open(out + ".partial", "w") as listing:
        listing.write("\\n".join(sorted(sys.modules)))
    os.replace(out + ".partial", out)

signal.signal(signal.SIGUSR1, dump)
sys.argv = ["bot", "--env-file", os.devnull, "run"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


class _Bot:
    """The bot in a child process, and what it has imported."""

    def __init__(self, process: subprocess.Popen[bytes], listing: Path) -> None:
        self.process = process
        self.listing = listing

    async def modules(self) -> set[str]:
        """Ask the process for its sys.modules and wait for the answer."""
        self.listing.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        for _ in range(600):
            if self.listing.exists():
                return set(self.listing.read_text().split())
            assert self.process.poll() is None, "the bot process exited"
            await asyncio.sleep(0.05)
        raise AssertionError("the bot never listed its modules")


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[SandboxServer, _Bot, bytes]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    secret = secrets.token_urlsafe(32)
    async with SandboxServer() as sandbox:
        async with storage.db.Database(url) as db:
            await open_sample_wave(db.engine, "2026-S1", Clock()())
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
            "TELEGRAM_API_BASE_URL": sandbox.base_url,
            "TELEGRAM_API_BASE_FILE_URL": sandbox.base_file_url,
            "DATABASE_URL": url,
            "SPIBOT_SECRET": secret,
            "BOT_USERNAME": "spi_sandbox_bot",
            "ADMIN_USER_IDS": str(ADMIN),
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        listing = tmp_path / "modules.txt"
        process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, str(listing)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            probe = sandbox.user(user_id=ADMIN + 1, first_name="Probe")
            await probe.command("bantuan")
            await probe.wait_for_reply(timeout=60)
            yield sandbox, _Bot(process, listing), secret.encode()
        finally:
            process.terminate()
            for _ in range(200):
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                process.kill()
                process.wait()


async def test_a_bot_that_runs_surveys_never_loads_the_report_stack(
    running: tuple[SandboxServer, _Bot, bytes],
) -> None:
    sandbox, bot, secret = running
    assert not {name.split(".")[0] for name in await bot.modules()} & set(HEAVY)
    # A respondent answers the whole survey and submits it: still nothing of it.
    user = sandbox.user(user_id=90_601, first_name="Ani", language_code="id")
    persona = Persona(leaning=0.6, rng=random.Random(3))
    outcome, answered = await simulate_respondent(user, unit_payload(secret, "DINKES"), persona)
    assert (outcome, answered > 0) == (Outcome.COMPLETED, True)
    loaded = {name.split(".")[0] for name in await bot.modules()}
    assert not loaded & set(HEAVY)
    # An admin asks for the score: now the report stack is loaded, and the answer comes.
    admin = sandbox.user(user_id=ADMIN, first_name="Admin", language_code="id")
    await admin.command("skor")
    assert (await reply(admin, timeout=60)).plain_text
    assert "pandas" in await bot.modules()
