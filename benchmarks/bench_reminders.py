"""Benchmark: one reminder round to many people, with 429s injected by the sandbox (issue 10).

The real Application (no polling, scheduler off) runs a reminder round against the sandbox
Bot API over loopback HTTP on a SQLite file. Every person has an unfinished survey and an
encrypted contact; a share of them (default 5%) gets one 429 (retry_after 1 s) on their
reminder. Measured: send rate against the configured bulk rate (target ≥ 0.95 × 30 msg/s),
reminders lost (a person with none) and duplicated (a person with two), and the process's
peak memory before and after the round (the round pages contacts, so it should stay flat).

`python -m benchmarks.bench_reminders [--people 10000] [--share-429 0.05]` prints JSON.
A round to 10,000 people takes about 6 minutes at 30 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import storage
from bot.app import build_application
from bot.runner import running
from sandbox import SandboxServer
from sandbox.demo import open_sample_wave, sandbox_settings
from services.contacts import cipher_for
from services.context import Services
from storage.models import ContactPurpose

TARGET_RATIO = 0.95
FIRST_CHAT = 7_000_000
STARTED = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
ROUND_AT = STARTED + timedelta(days=1, hours=1)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _people(services: Services, wave: storage.Wave, count: int) -> list[int]:
    """Give `count` people an unfinished external survey and a (survey) contact."""
    engine = services.db.engine
    unit = next(u for u in await storage.list_units(engine) if u.serves_public)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
    cipher = cipher_for(services)
    for chat_id in chats:
        pseudonym = services.pseudonym(chat_id)
        await storage.start_session(
            engine, pseudonym, wave.id, "external", unit.id, None, "id", "consent", STARTED
        )
        blob = cipher.encrypt(pseudonym, ContactPurpose.SURVEY, chat_id)
        await storage.save_contact(engine, pseudonym, ContactPurpose.SURVEY, blob)
    return chats


async def run(people: int, share_429: float, seed: int = 10) -> dict[str, Any]:
    """Run one round to `people` people; return the figures."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="spibot-bench-reminders-") as folder:
        async with SandboxServer() as sandbox:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            settings = sandbox_settings(
                sandbox, url, secrets.token_urlsafe(32), scheduler_enabled=False
            )
            clock = lambda: ROUND_AT  # noqa: E731 - a fixed clock for the round
            app = build_application(settings, clock=clock)
            async with running(app, polling=False):
                services = app.bot_data.services
                wave = await open_sample_wave(services.db.engine, "2026-S1", STARTED)
                chats = await _people(services, wave, people)
                for chat_id in chats:
                    sandbox.user(user_id=chat_id, first_name=f"P{chat_id}", language_code="id")
                flooded = rng.sample(chats, round(people * share_429))
                for chat_id in flooded:
                    sandbox.inject_fault("sendMessage", 429, retry_after=1, chat_id=chat_id)
                rss_before = _peak_rss_mib()
                started = time.perf_counter()
                report = await app.bot_data.scheduler.reminders.run(ROUND_AT)
                elapsed = time.perf_counter() - started
                rss_after = _peak_rss_mib()
            delivered = Counter(
                int(call.chat_id)
                for call in sandbox.calls("sendMessage")
                if call.error is None and call.chat_id is not None
            )
    rate = report.sent / elapsed if elapsed else 0.0
    lost = sum(1 for chat_id in chats if delivered[chat_id] == 0)
    duplicated = sum(1 for chat_id in chats if delivered[chat_id] > 1)
    configured = settings.rate_limit_per_second
    return {
        "people": people,
        "share_429": share_429,
        "injected_429": len(flooded),
        "seconds": round(elapsed, 1),
        "sent": report.sent,
        "failed": report.failed,
        "rate_per_second": round(rate, 2),
        "configured_per_second": configured,
        "ratio": round(rate / configured, 3),
        "lost": lost,
        "duplicated": duplicated,
        "peak_rss_mib_before_round": round(rss_before, 1),
        "peak_rss_mib_after_round": round(rss_after, 1),
        "within_target": rate >= TARGET_RATIO * configured and lost == 0 and duplicated == 0,
    }


def main(people: int = 10_000, share_429: float = 0.05) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    return asyncio.run(run(people, share_429))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--share-429", type=float, default=0.05)
    options = parser.parse_args()
    json.dump(main(options.people, options.share_429), sys.stdout, indent=2)
    print()
