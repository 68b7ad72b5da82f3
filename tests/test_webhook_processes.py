"""Three `spibot run --webhook` processes on one PostgreSQL behind a round-robin proxy.

Real OS processes (so one can be killed with SIGKILL, `sandbox.cluster`), the sandbox
delivering updates to the proxy as Telegram would (retrying non-2xx, timeouts and refused
connections), and simulated respondents. Skipped with the reason shown when PostgreSQL is
unreachable.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import storage.db
import storage.schedules
import storage.subscriptions
from sandbox import SandboxChat, SandboxServer
from sandbox.cluster import WebhookCluster, bot_environment, webhook_cluster
from sandbox.demo import open_sample_wave
from sandbox.simulation import Outcome, Persona, simulate_respondent
from sandbox.webhook import DeliveryPolicy
from services.links import unit_payload
from storage.answers import answers, responses
from storage.updates import processed_updates
from surveys import Group, bundled_questionnaires
from tests.storage_fixtures import _ThrowawayDatabase

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET = secrets.token_urlsafe(32)
WEBHOOK_SECRET = "wh_" + secrets.token_urlsafe(24)
# Respondents answering at the same moment: enough to keep every process busy, few enough for
# a shared 2-core machine to answer each of them within the step timeout.
ACTIVE = 12
# A simulated person's patience per step. It also bounds how long they wait for the bot to
# leave one live keyboard: a process killed after sending a new screen but before recording
# it leaves an extra one that nobody knows of (tapping either still works).
STEP_TIMEOUT = 30
UNITS = ("DISPENDUKCAPIL", "BAPENDA", "DPMPTSP")  # units that serve the public
LEADERSHIP = -1_002_024
ZONE = ZoneInfo("Asia/Jakarta")  # the bot's default TIMEZONE: crontabs are local time


@pytest.fixture
def database_url() -> Iterator[str]:
    database = _ThrowawayDatabase.create()
    yield database.url
    database.drop()


async def _prepare(database_url: str) -> None:
    """Open a wave, and subscribe the leadership group to a daily digest due a minute ago."""
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=1)).astimezone(ZONE)
    async with storage.db.Database(database_url) as db:
        await open_sample_wave(db.engine, "2026-S1", now - timedelta(minutes=10))
        await storage.subscriptions.subscribe(
            db.engine, LEADERSHIP, "id", now - timedelta(minutes=10)
        )
        await storage.schedules.set_schedule(
            db.engine,
            LEADERSHIP,
            storage.schedules.ScheduleKind.DIGEST,
            f"{due.minute} {due.hour} * * *",
            now - timedelta(minutes=10),
        )


@asynccontextmanager
async def _cluster(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[SandboxServer, WebhookCluster, SandboxChat]]:
    policy = DeliveryPolicy(timeout=20.0, retry_delay=0.2, max_retry_delay=1.0, max_attempts=30)
    async with AsyncExitStack() as stack:
        # About exactly-once, not latency: on this shared 2-core machine three bot processes
        # under load can take longer than Telegram's 15 s to answer a tap.
        sandbox = await stack.enter_async_context(
            SandboxServer(webhook_policy=policy, callback_query_ttl=300)
        )
        leadership = sandbox.group(LEADERSHIP, "Pimpinan")
        env = bot_environment(sandbox, database_url, SECRET, WEBHOOK_SECRET)
        env.update(
            CONCURRENT_UPDATES="8",
            DB_POOL_SIZE="3",
            DB_MAX_OVERFLOW="3",
            # A claim of a killed process is taken over quickly (the sandbox retries meanwhile).
            UPDATE_CLAIM_LEASE_SECONDS="3",
        )
        cluster = await stack.enter_async_context(webhook_cluster(sandbox, env, tmp_path))
        yield sandbox, cluster, leadership


async def _respondents(
    sandbox: SandboxServer, cluster: WebhookCluster, count: int, kill_after: int | None = None
) -> None:
    """Run `count` respondents, ACTIVE at a time; SIGKILL process 1 once `kill_after` finished."""
    finished = 0
    active = asyncio.Semaphore(ACTIVE)

    async def respond(i: int) -> None:
        nonlocal finished
        async with active:
            user = sandbox.user(user_id=70_000 + i, first_name=f"R{i}", language_code="id")
            payload = unit_payload(SECRET.encode(), UNITS[i % len(UNITS)], None)
            persona = Persona(random.Random(i).random(), random.Random(i))
            outcome, _ = await simulate_respondent(user, payload, persona, timeout=STEP_TIMEOUT)
        assert outcome is Outcome.COMPLETED, (i, outcome, user.chat.last_message)
        finished += 1
        if kill_after is not None and finished == kill_after:
            cluster.kill(1)

    await asyncio.gather(*(respond(i) for i in range(count)))


async def _stored(database_url: str) -> tuple[int, dict[str, dict[str, str]], int, int]:
    """Return submitted responses, their answers, ledger rows and unfinished ledger rows."""
    engine = storage.db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            submitted = (
                await conn.execute(select(func.count()).select_from(responses))
            ).scalar_one()
            given: dict[str, dict[str, str]] = defaultdict(dict)
            filed = select(responses.c.id)
            for response_id, question_id, value in await conn.execute(
                select(answers.c.response_id, answers.c.question_id, answers.c.value).where(
                    answers.c.response_id.in_(filed)
                )
            ):
                given[response_id][question_id] = value
            rows = (
                await conn.execute(select(func.count()).select_from(processed_updates))
            ).scalar_one()
            unfinished = (
                await conn.execute(
                    select(func.count()).where(processed_updates.c.finished_at.is_(None))
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(submitted), given, int(rows), int(unfinished)


def _assert_each_answer_once(given: dict[str, dict[str, str]]) -> None:
    """Every response holds exactly the answers its path asks for: none lost, none stray."""
    questionnaire = bundled_questionnaires()[Group.EXTERNAL]
    for values in given.values():
        shown = {q.id for q in questionnaire.visible(values)}
        required = {q.id for q in questionnaire.visible(values) if q.required}
        assert required <= values.keys() <= shown


def _delivered(sandbox: SandboxServer) -> set[int]:
    return {a.update_id for a in sandbox.webhook_attempts if a.status == 200}


async def test_three_processes_serve_fifty_respondents_each_update_once(
    tmp_path: Path, database_url: str
) -> None:
    await _prepare(database_url)
    async with _cluster(tmp_path, database_url) as (sandbox, cluster, leadership):
        await _respondents(sandbox, cluster, 50)
        await sandbox.wait_for(lambda: sandbox.pending_updates == 0, 30)
        await sandbox.wait_for(lambda: leadership.messages, 30)  # the digest that was due
        handled = await cluster.metric("spibot_updates_handled_total")
        delivered = _delivered(sandbox)
        assert not sandbox.webhook_given_up
    submitted, given, rows, unfinished = await _stored(database_url)
    assert submitted == len(given) == 50
    _assert_each_answer_once(given)
    # Each update was handled once, by one process: as many handlings as distinct updates.
    assert handled == len(delivered) == rows
    assert unfinished == 0
    # Three schedulers ticked at start-up, each saw the digest due: one of them sent it.
    assert len(leadership.messages) == 1


async def test_a_process_killed_mid_load_loses_nothing(tmp_path: Path, database_url: str) -> None:
    await _prepare(database_url)
    async with _cluster(tmp_path, database_url) as (sandbox, cluster, _):
        await _respondents(sandbox, cluster, 30, kill_after=5)
        await sandbox.wait_for(lambda: sandbox.pending_updates == 0, 30)
        assert cluster.processes[1].returncode == -signal.SIGKILL
        refused = [a for a in sandbox.webhook_attempts if a.status != 200]
        delivered = _delivered(sandbox)
        assert not sandbox.webhook_given_up
    submitted, given, rows, unfinished = await _stored(database_url)
    assert submitted == len(given) == 30  # everyone finished, the dead process's share too
    _assert_each_answer_once(given)
    assert refused  # its in-flight updates were refused or unanswered, and redelivered
    assert len(delivered) == rows
    assert unfinished == 0  # every claim the dead process left was taken over and finished
