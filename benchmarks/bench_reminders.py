"""Benchmark: one reminder round to many people, with 429s injected by the sandbox (issue 10).

The real Application (no polling, scheduler off) runs a reminder round on a SQLite file
against the sandbox Bot API over loopback HTTP. The sandbox runs in a **child process**, as
Telegram would be elsewhere: the bot process's CPU time and memory are then the bot's alone.
Every person has an unfinished survey and an encrypted contact; a share of them (default 5%)
gets one 429 (retry_after 1 s) on their reminder.

Measured: the send rate against the configured bulk rate (target ≥ 0.95 × 30 msg/s), people
with no reminder (lost) or two (duplicated), the bot's CPU time per reminder, and its memory:
resident size sampled through the round against its size when the round starts (the round
streams contacts a page at a time, so the growth must not follow the number of people).

`python -m benchmarks.bench_reminders [--people 10000] [--share-429 0.05]` prints JSON.
A round to 10,000 people takes about 6 minutes at 30 msg/s, after ~2 minutes of setup.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import storage.contacts
import storage.sessions
import storage.units
import storage.waves
from bot.app import build_application
from bot.runner import running
from sandbox import SandboxServer
from sandbox.demo import SANDBOX_TOKEN, open_sample_wave
from services.context import Services
from services.reach import cipher_for
from services.settings import load_settings
from storage.contacts import ContactPurpose

SECTION_TITLE: Final = "## Reminder round (issue 10)"
TARGET_RATIO: Final = 0.95
FIRST_CHAT: Final = 7_000_000
STARTED: Final = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
ROUND_AT: Final = STARTED + timedelta(days=1, hours=1)
SAMPLE_SECONDS: Final = 0.5
_PAGE_BYTES: Final = os.sysconf("SC_PAGE_SIZE")


def _rss_mib() -> float:
    """Return this process's resident size now (not its peak)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * _PAGE_BYTES / 1024**2


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the sandbox, in its own process ------------------------------------------------------------


def _sandbox_process(conn: Connection, chats: list[int], flooded: list[int]) -> None:
    """Serve the sandbox Bot API until asked for the tally, then send it and stop."""
    asyncio.run(_serve_sandbox(conn, chats, flooded))


async def _serve_sandbox(conn: Connection, chats: list[int], flooded: list[int]) -> None:
    async with SandboxServer() as sandbox:
        for chat_id in chats:
            sandbox.user(user_id=chat_id, first_name=f"P{chat_id}", language_code="id")
        for chat_id in flooded:
            sandbox.inject_fault("sendMessage", 429, retry_after=1, chat_id=chat_id)
        conn.send((sandbox.base_url, sandbox.base_file_url))
        await asyncio.to_thread(conn.recv)  # the round is over
        calls = sandbox.calls("sendMessage")
        delivered = Counter(
            int(call.chat_id) for call in calls if call.error is None and call.chat_id is not None
        )
        conn.send(
            {
                "refused_429": sum(1 for call in calls if call.error is not None),
                "lost": sum(1 for chat_id in chats if delivered[chat_id] == 0),
                "duplicated": sum(1 for chat_id in chats if delivered[chat_id] > 1),
            }
        )


# -- the bot -----------------------------------------------------------------------------------


async def _people(services: Services, wave: storage.waves.Wave, chats: list[int]) -> None:
    """Give each person an unfinished external survey and a (survey) contact."""
    engine = services.db.engine
    unit = next(u for u in await storage.units.list_units(engine) if u.serves_public)
    cipher = cipher_for(services)
    for chat_id in chats:
        pseudonym = services.pseudonym(chat_id)
        await storage.sessions.start_session(
            engine, pseudonym, wave.id, "external", unit.id, None, "id", "consent", STARTED
        )
        blob = cipher.encrypt(pseudonym, ContactPurpose.SURVEY, chat_id)
        await storage.contacts.save_contact(engine, pseudonym, ContactPurpose.SURVEY, blob)


async def _sample_rss(samples: list[float]) -> None:
    while True:
        samples.append(_rss_mib())
        await asyncio.sleep(SAMPLE_SECONDS)


async def _round(base_url: str, file_url: str, chats: list[int], folder: Path) -> dict[str, Any]:
    settings = load_settings(
        None,
        telegram_bot_token=SANDBOX_TOKEN,
        telegram_api_base_url=base_url,
        telegram_api_base_file_url=file_url,
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        spibot_secret=secrets.token_urlsafe(32),
        bot_username="spi_sandbox_bot",
        scheduler_enabled=False,
    )
    app = build_application(settings, clock=lambda: ROUND_AT)
    async with running(app, polling=False):
        services = app.bot_data.services
        wave = await open_sample_wave(services.db.engine, "2026-S1", STARTED)
        await _people(services, wave, chats)
        samples: list[float] = []
        rss_start = _rss_mib()
        sampler = asyncio.create_task(_sample_rss(samples))
        load_start = _load()
        cpu_start = time.process_time()
        started = time.perf_counter()
        report = await app.bot_data.scheduler.reminders.run(ROUND_AT)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_start
        sampler.cancel()
    configured = settings.rate_limit_per_second
    rate = report.sent / elapsed if elapsed else 0.0
    return {
        "seconds": round(elapsed, 1),
        "sent": report.sent,
        "failed": report.failed,
        "rate_per_second": round(rate, 2),
        "configured_per_second": configured,
        "ratio": round(rate / configured, 3),
        "bot_cpu_ms_per_reminder": round(1000 * cpu / max(report.sent, 1), 2),
        "load_at_start": load_start,
        "load_at_end": _load(),
        "rss_mib_round_start": round(rss_start, 1),
        "rss_mib_round_max": round(max(samples, default=rss_start), 1),
        "rss_mib_round_growth": round(max(samples, default=rss_start) - rss_start, 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def run(people: int, share_429: float, seed: int = 10) -> dict[str, Any]:
    """Run one round to `people` people; return the figures."""
    chats = list(range(FIRST_CHAT, FIRST_CHAT + people))
    flooded = random.Random(seed).sample(chats, round(people * share_429))
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_sandbox_process, args=(theirs, chats, flooded), daemon=True)
    child.start()
    try:
        base_url, file_url = ours.recv()
        with tempfile.TemporaryDirectory(prefix="spibot-bench-reminders-") as folder:
            figures = asyncio.run(_round(base_url, file_url, chats, Path(folder)))
        ours.send("tally")
        tally = ours.recv()
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    ok = (
        figures["ratio"] >= TARGET_RATIO
        and tally["lost"] == 0
        and tally["duplicated"] == 0
        and figures["sent"] == people
    )
    return {
        "people": people,
        "share_429": share_429,
        "injected_429": len(flooded),
        **figures,
        **tally,
        "within_target": ok,
    }


def render(result: dict[str, Any]) -> list[str]:
    """Return the docs/benchmarks.md section for this benchmark."""
    verdict = "within target" if result["within_target"] else "**over target**"
    return [
        SECTION_TITLE,
        "",
        "`python -m benchmarks.bench_reminders` (`benchmarks/bench_reminders.py`). One reminder "
        f"round to {result['people']:,} people with an unfinished survey, "
        f"{result['injected_429']:,} of them ({result['share_429']:.0%}) answered once with "
        "429 (retry_after 1 s); the real Application on a SQLite file, the sandbox Bot API in "
        "its own process on loopback. The rate counts reminders delivered over the whole "
        "round, database reads and writes included; CPU time and memory are the bot "
        "process's.",
        "",
        f"Load average (1/5/15 min) at the round's start {result['load_at_start']}, at its end "
        f"{result['load_at_end']}.",
        "",
        f"- rate: **{result['rate_per_second']:.2f} msg/s** = "
        f"**{result['ratio']:.3f} × {result['configured_per_second']:g}/s** configured "
        f"(target ≥ {TARGET_RATIO}); {result['sent']:,} sent in {result['seconds']:,} s; "
        f"{result['refused_429']:,} sends answered 429 and waited out. The bulk limiter "
        "starts with a full bucket (one second's worth), and a 429 is retried inside "
        "`bot/transport.py` without passing the limiter again, so the retries come on top of "
        "the configured rate",
        f"- lost **{result['lost']}**, duplicated **{result['duplicated']}** (target 0 and 0)",
        f"- memory: resident {result['rss_mib_round_start']:.0f} MiB when the round started, "
        f"at most {result['rss_mib_round_max']:.0f} MiB during it "
        f"(+{result['rss_mib_round_growth']:.1f} MiB, "
        f"{1024 * result['rss_mib_round_growth'] / max(result['people'], 1):.1f} KB a person). "
        "Contacts are read 500 at a time; what grows is discussed in docs/reminders.md",
        f"- bot CPU: {result['bot_cpu_ms_per_reminder']:.1f} ms per reminder "
        f"({os.cpu_count()} CPUs, shared)",
        f"- verdict on rate, lost and duplicated: {verdict}",
        "",
    ]


def main(people: int = 10_000, share_429: float = 0.05) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    return run(people, share_429)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--share-429", type=float, default=0.05)
    options = parser.parse_args()
    json.dump(main(options.people, options.share_429), sys.stdout, indent=2)
    print()
