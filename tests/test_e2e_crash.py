"""A real bot process killed with SIGKILL mid-survey, and restarted on the same database.

What must hold (docs/resilience.md): no answer the person saw acknowledged (the next question
appeared) is lost, none is stored twice, and everyone mid-survey continues by tapping or typing
again after the restart.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import storage.db
import storage.waves
from sandbox import SandboxServer, SandboxUser
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.admin import create_invitations
from storage.answers import answers, draft_answers, responses
from storage.respondents import survey_sessions
from surveys import Group
from tests.e2e_fixtures import Clock, action_buttons, live, reply

_POSITION = re.compile(r"Pertanyaan (\d+) dari")


class BotProcess:
    """`spibot run` in a child process, pointed at the sandbox."""

    def __init__(self, sandbox: SandboxServer, database_url: str, secret: str) -> None:
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
            "TELEGRAM_API_BASE_URL": sandbox.base_url,
            "TELEGRAM_API_BASE_FILE_URL": sandbox.base_file_url,
            "DATABASE_URL": database_url,
            "SPIBOT_SECRET": secret,
            "BOT_USERNAME": "spi_sandbox_bot",
            "SCHEDULER_ENABLED": "false",
            "BOT_API_RETRY_SECONDS": "1.5",
            "LOG_LEVEL": "WARNING",
        }
        self.sandbox = sandbox
        self.process: subprocess.Popen[bytes] | None = None
        self._probes = 0

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--env-file", os.devnull, "run"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Ready when it answers: a probe asks for help and waits for the reply.
        self._probes += 1
        probe = self.sandbox.user(user_id=90_000 + self._probes, first_name="Probe")
        await probe.command("bantuan")
        await probe.wait_for_reply(timeout=30)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    async def stop(self) -> None:
        # Without blocking the loop: the sandbox must answer the bot's last calls meanwhile.
        if self.process is not None:
            self.process.terminate()
            for _ in range(200):
                if self.process.poll() is not None:
                    self.process = None
                    return
                await asyncio.sleep(0.05)
            self.kill()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[SandboxServer, BotProcess, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with SandboxServer() as sandbox:
        async with storage.db.Database(url) as db:
            await open_sample_wave(db.engine, "2026-S1", Clock()())
        bot = BotProcess(sandbox, url, secrets.token_urlsafe(32))
        try:
            yield sandbox, bot, url
        finally:
            await bot.stop()


async def _invitations(url: str, count: int) -> list[str]:
    async with storage.db.Database(url) as db:
        wave = await storage.waves.current_wave(db.engine)
        assert wave is not None
        rows = await create_invitations(
            db.engine,
            wave=wave,
            group=Group.INTERNAL,
            roster=[{"unit": "DINKES"} for _ in range(count)],
            bot_username="spi_sandbox_bot",
            now=Clock()(),
        )
    return [row.link.split("start=", 1)[1] for row in rows]


async def _to_question(user: SandboxUser, payload: str, answered: int) -> int:
    """Open the survey and answer `answered` questions; return the question now shown."""
    await user.open_deep_link(payload)
    message = await reply(user)
    for action, index in (("ok", 0), ("lg", 0)):
        await user.tap(message, data=action_buttons(message, action)[index])
        message = await reply(user)
    for _ in range(answered):
        await user.tap(message, data=action_buttons(message, "a")[0])
        message = await reply(user)
    match = _POSITION.search(message.plain_text)
    assert match, message.plain_text
    return int(match[1])


async def _stored(url: str) -> list[int]:
    """Answers stored per survey in progress (draft answers with a value), sorted."""
    async with storage.db.Database(url) as db, db.engine.connect() as conn:
        rows = await conn.execute(
            select(func.count(draft_answers.c.question_id))
            .select_from(
                survey_sessions.outerjoin(
                    draft_answers,
                    (draft_answers.c.pseudonym == survey_sessions.c.pseudonym)
                    & draft_answers.c["value"].is_not(None),
                )
            )
            .group_by(survey_sessions.c.pseudonym)
        )
        return sorted(int(n) for (n,) in rows.all())


async def test_sigkill_mid_survey_loses_nothing_acknowledged(
    setup: tuple[SandboxServer, BotProcess, str],
) -> None:
    sandbox, bot, url = setup
    await bot.start()
    payloads = await _invitations(url, 3)
    people = [sandbox.user(user_id=70_001 + i, first_name=f"ASN{i}") for i in range(3)]
    shown = [
        await _to_question(u, p, 2 + i)
        for i, (u, p) in enumerate(zip(people, payloads, strict=True))
    ]
    acknowledged = [position - 1 for position in shown]  # answers the person saw taken
    # Everyone taps their next answer; the process dies while those taps are in flight.
    for user in people:
        message = live(user)
        await user.tap(message, data=action_buttons(message, "a")[0])
    await asyncio.sleep(random.Random(1).uniform(0.0, 0.05))
    bot.kill()
    stored = await _stored(url)
    # Nothing acknowledged is lost; the in-flight tap is stored at most once (or not yet).
    for have, seen in zip(stored, sorted(acknowledged), strict=True):
        assert seen <= have <= seen + 1
    await bot.start()
    # After the restart each person simply carries on: /start resumes where they are.
    outcomes = await asyncio.gather(
        *(
            simulate_respondent(user, None, Persona(0.5, random.Random(i)), timeout=30)
            for i, user in enumerate(people)
        )
    )
    assert [outcome for outcome, _ in outcomes] == [Outcome.COMPLETED] * 3
    async with storage.db.Database(url) as db, db.engine.connect() as conn:
        submitted = (await conn.execute(select(func.count()).select_from(responses))).scalar_one()
        duplicates = (
            await conn.execute(
                select(answers.c.response_id, answers.c.question_id, func.count())
                .group_by(answers.c.response_id, answers.c.question_id)
                .having(func.count() > 1)
            )
        ).all()
    assert submitted == 3
    assert duplicates == []
