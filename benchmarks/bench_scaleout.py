"""Benchmark: scale-out (issue 11) — 1, 2 and 3 `spibot run --webhook` processes on PostgreSQL.

Each size gets a throwaway PostgreSQL database with the sample units and an open wave, and
that many bot processes started as a deployment starts them (`sandbox.cluster`: their own OS
processes, settings as shipped but warnings-only logs and no hourly heap rewrite). The
sandbox delivers updates by webhook, as Telegram does, through a round-robin proxy; 200
closed-loop respondents (`benchmarks.botapi_survey.run_survey`, the same measuring as the
Bot API load benchmark) answer one unit's open link. The sandbox, the proxy and the
simulated users share this process; the bots and PostgreSQL are other processes.

Besides taps/s and p50/p99 per tap, each size records how busy the CPUs were: the bot
processes, this process (sandbox, proxy, users), PostgreSQL's processes (any client's) and
everything else on the machine, in cores (1.0 = one core all the time); and the bots' CPU
per update, which other work on a shared machine does not change much.

`python -m benchmarks.bench_scaleout [--quick] [--write-doc]` prints JSON; `--write-doc`
replaces this section of docs/benchmarks.md. The PostgreSQL server is
SPIBOT_BENCH_POSTGRES_URL (a libpq URL of a database to connect to for CREATE DATABASE;
default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

import storage.db
from benchmarks.bench_botapi import DOC, write_section
from benchmarks.botapi_procs import cpu_seconds
from benchmarks.botapi_survey import SurveyBot, SurveyFactory, run_survey
from sandbox import SandboxServer
from sandbox.cluster import WebhookCluster, bot_environment, webhook_cluster
from sandbox.demo import open_sample_wave
from services.context import utc_now
from services.links import unit_payload

SECTION_TITLE = "## Scale-out: webhook processes on PostgreSQL (issue 11)"
POSTGRES_ENV = "SPIBOT_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
PROCESSES = (1, 2, 3)
USERS = 200
QUICK_USERS = 50
# (warm-up, window) in seconds. The bots answer a few dozen updates a second here, so 200
# people opening the link at once take several seconds to get their first screen: the warm-up
# lets that wave pass, and the window then measures the closed loop's steady state.
TIMING = (20.0, 20.0)
QUICK_TIMING = (5.0, 5.0)
_TICK = os.sysconf("SC_CLK_TCK")  # /proc/stat counts in clock ticks


# -- CPU accounting (Linux /proc) --------------------------------------------------------------


def _postgres_cpu() -> dict[int, float]:
    """Return CPU seconds per PostgreSQL server process (the server and every backend)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            found[int(stat.parent.name)] = cpu_seconds(int(stat.parent.name))
    return found


def _machine_busy() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine so far, all cores together."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


@dataclass
class _CpuMark:
    wall: float
    own: float
    bots: list[float]
    postgres: dict[int, float]
    machine: tuple[float, float]

    @classmethod
    def now(cls, cluster: WebhookCluster) -> _CpuMark:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            time.monotonic(),
            usage.ru_utime + usage.ru_stime,
            [cpu_seconds(p.pid) for p in cluster.processes],
            _postgres_cpu(),
            _machine_busy(),
        )


def _cpu_seconds(start: _CpuMark, end: _CpuMark) -> dict[str, float]:
    """Return the CPU seconds each party used between two marks, and the wall time."""
    bots = sum(b - a for a, b in zip(start.bots, end.bots, strict=True))
    postgres = sum(end.postgres[pid] - start.postgres.get(pid, 0.0) for pid in end.postgres)
    own = end.own - start.own
    machine = end.machine[0] - start.machine[0]
    return {
        "wall": end.wall - start.wall,
        "bots": bots,
        "harness": own,
        "postgres": postgres,
        "others": max(0.0, machine - bots - own - postgres),
    }


def _cost(seconds: dict[str, float], updates: int) -> dict[str, Any]:
    """Return cores kept busy per party (1.0 = one core all the time) and CPU per update."""
    wall = seconds["wall"]
    cores = {name: round(value / wall, 2) for name, value in seconds.items() if name != "wall"}
    per_update = {
        name: round(seconds[name] * 1000 / updates, 1) if updates else None
        for name in ("bots", "postgres", "harness")
    }
    return {"cores": cores, "cpu_ms_per_update": per_update}


# -- a throwaway database and the bots on it ---------------------------------------------------


@asynccontextmanager
async def throwaway_database(server: str) -> AsyncIterator[str]:
    """Create an empty database on `server` (a libpq URL); yield its SQLAlchemy URL; drop it."""
    name = f"spibot_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(server)
    try:
        yield urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(server, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _measure(cluster: WebhookCluster, warm_up: float, window: float) -> dict[str, Any]:
    """Wait out the warm-up, then return what the window cost (as `run_survey` times it)."""
    await asyncio.sleep(warm_up)
    mark = _CpuMark.now(cluster)
    handled = await cluster.metric("spibot_updates_handled_total")
    await asyncio.sleep(window)
    seconds = _cpu_seconds(mark, _CpuMark.now(cluster))
    updates = int(await cluster.metric("spibot_updates_handled_total") - handled)
    return {"updates_handled": updates, **_cost(seconds, updates)}


def webhook_bots(
    processes: int, server: str, folder: Path, record: dict[str, Any], timing: tuple[float, float]
) -> SurveyFactory:
    """Return a factory running `processes` webhook bots on a fresh database for run_survey.

    What the window (`timing`: warm-up, window) cost is written into `record` when the bots
    stop: CPU (see `_cost`) and the updates the bots handled; and over the whole run, the
    webhook deliveries the sandbox retried or gave up.
    """

    @asynccontextmanager
    async def start(sandbox: SandboxServer) -> AsyncIterator[SurveyBot]:
        # Telegram's patience is more than a busy 2-core machine needs; nothing is given up.
        sandbox.webhook_policy.timeout = 30.0
        sandbox.webhook_policy.max_attempts = 30
        secret = secrets.token_urlsafe(32)
        async with throwaway_database(server) as url:
            async with storage.db.Database(url) as db:
                await open_sample_wave(db.engine, "Bench", utc_now())
            env = bot_environment(sandbox, url, secret, "wh_" + secrets.token_urlsafe(24))
            env["HEAP_RESHUFFLE"] = "false"  # an hourly job; not part of a 40 s run
            async with webhook_cluster(sandbox, env, folder, processes) as cluster:
                payload = unit_payload(secret.encode(), "DISPENDUKCAPIL")

                async def payload_for(index: int) -> str:
                    return payload

                measuring = asyncio.create_task(_measure(cluster, *timing))
                # No process handle: this benchmark reads the CPU of all of them itself.
                yield SurveyBot(payload_for)
                record.update(await measuring)
                record["webhook_retries"] = sum(
                    1 for a in sandbox.webhook_attempts if a.status != 200
                )
                record["webhook_given_up"] = len(sandbox.webhook_given_up)

    return start


# -- the whole benchmark -----------------------------------------------------------------------


async def _main(users: int, warm_up: float, window: float, server: str) -> list[dict[str, Any]]:
    rows = []
    for processes in PROCESSES:
        record: dict[str, Any] = {"processes": processes}
        with tempfile.TemporaryDirectory(prefix="spibot-scaleout-") as folder:
            factory = webhook_bots(processes, server, Path(folder), record, (warm_up, window))
            measured = run_survey(users, window, factory, warm_up=warm_up)
            # Never hang the whole benchmark on a stuck run (bench_botapi bounds its own too).
            record |= await asyncio.wait_for(measured, timeout=4 * (warm_up + window) + 180)
        print(f"{processes} process(es): {json.dumps(record)}", file=sys.stderr, flush=True)
        rows.append(record)
    return rows


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark (quick: 50 users, 5 s warm-up and window per size)."""
    users = QUICK_USERS if quick else USERS
    warm_up, window = QUICK_TIMING if quick else TIMING
    server = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    load = _load()
    rows = asyncio.run(_main(users, warm_up, window, server))
    return {
        "users": users,
        "window_seconds": window,
        "warm_up_seconds": warm_up,
        "sizes": rows,
        "machine": f"{os.cpu_count()} CPUs, load average {load} at start and {_load()} at the end",
        "cpus": os.cpu_count(),
    }


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def _reading(result: dict[str, Any]) -> list[str]:
    """How the figures scale here, and what a larger machine would change (from the costs)."""
    sizes = result["sizes"]
    bot_ms = [row["cpu_ms_per_update"]["bots"] for row in sizes]
    pg_ms = _median([row["cpu_ms_per_update"]["postgres"] for row in sizes])
    others = [row["cores"]["others"] for row in sizes]
    bots = [row["cores"]["bots"] for row in sizes]
    rates = ", ".join(f"{row['taps_per_second']:.0f}" for row in sizes)
    cpus = result["cpus"] or 2
    lines = []
    if all(bot_ms):
        lines.append(
            f"Each update cost the bots **{bot_ms[0]:.1f} ms of CPU** with one process and "
            f"{bot_ms[-1]:.1f} ms with {sizes[-1]['processes']} (likely: each process has its "
            "own event loop, HTTP connections and scheduler, and on a busy machine they take "
            f"turns on the same cores); PostgreSQL {pg_ms or 0:.1f} ms more. One process is one "
            "Python event loop and uses at most one core, so it tops out near "
            f"{1000 / bot_ms[0]:.0f} updates/s; more processes only help while there are idle "
            "cores to run them."
        )
    if max(bots[1:]) > 1.3 * bots[0]:
        got = (
            f"more processes got more CPU ({bots[0]:.2f} cores with one, up to "
            f"{max(bots[1:]):.2f}) and taps/s went {rates} for 1, 2 and 3 processes"
        )
    else:
        got = (
            f"the bots got about as much CPU with 2 or 3 processes as with one "
            f"({min(bots):.2f}–{max(bots):.2f} cores), so taps/s ({rates} for 1, 2 and 3 "
            "processes) followed the machine's load more than the process count"
        )
    lines.append(
        f"On this {cpus}-core machine: other work took {min(others):.1f}–{max(others):.1f} "
        f"cores during these runs (the last column), and {got}. On an idle 2-core machine a "
        "second process can add at most the second core, minus what PostgreSQL, the proxy and "
        "(here) the simulated users need; a third only adds switching. Several processes on "
        "one small machine are still worth it for what issue 11 is about: any of them can die "
        "or restart without losing an update."
    )
    if all(bot_ms):
        per_core = 1000 / bot_ms[0]
        postgres = (
            f" A PostgreSQL core, at {pg_ms:.1f} ms per update, keeps up with about "
            f"{bot_ms[0] / pg_ms:.0f} bot cores' worth of updates."
            if pg_ms
            else ""
        )
        lines.append(
            "On a larger machine (or several), taps/s should grow about linearly with "
            f"processes up to one per free core, roughly {per_core:.0f} updates/s per process "
            "at these costs: the processes share nothing but the database, and every update "
            "is a few short transactions there (the ledger's claim and finish, one read and "
            f"one write of the session).{postgres} Connections grow as processes × "
            "(DB_POOL_SIZE + DB_MAX_OVERFLOW) and must stay under PostgreSQL's max_connections "
            "(100 by default: nine processes at 5 + 5, leaving room for the CLI); beyond that, "
            "a connection pooler or smaller pools."
        )
    return lines


def render(result: dict[str, Any]) -> list[str]:
    """Return the docs/benchmarks.md section for this benchmark."""
    lines = [
        SECTION_TITLE,
        "",
        "`python -m benchmarks.bench_scaleout` (`benchmarks/bench_scaleout.py`). "
        f"{result['users']} closed-loop respondents (each acts again as soon as the bot "
        "replied; a finished one is replaced) on one unit's open link, against 1, 2 and 3 "
        "`spibot run --webhook` processes on one PostgreSQL database (a fresh throwaway one "
        "per size). The sandbox delivers every update by webhook through a round-robin proxy, "
        "retrying what is not answered 200, as Telegram does. Bots: their own OS processes, "
        "settings as shipped (32 concurrent updates, a pool of 5 + 5 connections, 40 webhook "
        "connections) but warnings-only logs and no hourly heap rewrite; the sandbox, the "
        "proxy and the users share the benchmark's process. Each size counts the taps that "
        "finished inside a "
        f"{result['window_seconds']:.0f} s window after a {result['warm_up_seconds']:.0f} s "
        "warm-up (long enough for everyone's first screen); latency is from the tap to the "
        "bot's first edit or reply, and in a closed loop it is about users ÷ actions per "
        "second. CPU over each window, "
        "in cores kept busy (1.0 = one core all the time): the bot processes, PostgreSQL's "
        "processes (any client's), the benchmark's own process (users, sandbox, proxy) and "
        "everything else on the machine; and the bots' CPU per update they handled.",
        "",
        f"Measured on {result['machine']} (1/5/15 min). Whatever else runs on the "
        "machine takes cores from every figure (the last column).",
        "",
        "| processes | taps/s | × 1 process | p50 per tap | p99 per tap | bots CPU | "
        "bots CPU per update | PostgreSQL CPU | users + sandbox CPU | others' CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = result["sizes"][0]["taps_per_second"] or None
    for row in result["sizes"]:
        tap = row["actions"].get("tap", {})
        cores = row.get("cores", {})
        per_update = row.get("cpu_ms_per_update", {}).get("bots")
        scale = f"{row['taps_per_second'] / base:.2f}" if base else "–"
        lines.append(
            f"| {row['processes']} | {row['taps_per_second']:.1f} | {scale} | "
            f"{_ms(tap.get('p50_ms'))} | {_ms(tap.get('p99_ms'))} | "
            f"{cores.get('bots', 0):.2f} | {_ms(per_update)} | "
            f"{cores.get('postgres', 0):.2f} | {cores.get('harness', 0):.2f} | "
            f"{cores.get('others', 0):.2f} |"
        )
    given_up = sum(row.get("webhook_given_up", 0) for row in result["sizes"])
    retried = sum(row.get("webhook_retries", 0) for row in result["sizes"])
    lines += [
        "",
        f"Webhook deliveries retried: {retried}, given up: {given_up} (all sizes together).",
        "",
        *(line for paragraph in _reading(result) for line in (paragraph, "")),
    ]
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 users, short windows")
    parser.add_argument(
        "--write-doc", action="store_true", help="update this section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        figures = main(args.quick)
        print(json.dumps(figures, indent=1))
        if args.write_doc:
            write_section(DOC, render(figures), SECTION_TITLE)
            print(f"wrote {DOC}", file=sys.stderr)
