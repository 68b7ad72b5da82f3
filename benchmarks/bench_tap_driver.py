"""Benchmark: a respondent's SQL at driver level against its SQLAlchemy Core reference (issue 23).

Both versions live in the tree (`storage.tap_sqlite` and `storage.tap_postgres`; the Core
statements in `storage.turns` and `storage.sessions`), so each figure is a paired A/B taken
on the same machine at the same moment, on a SQLite file and on PostgreSQL:

1. **The whole bot**: `spibot run` as shipped against `benchmarks.tap_core` (the same bot
   with the Core statements), each its own OS process polling the sandbox Bot API on
   loopback, 50 closed-loop respondents on a unit's open link (starts, taps, typed answers,
   submissions); the bot's CPU (user + system, from /proc) over a window after a warm-up,
   per action. The set-ups run in turn, `ROUNDS` rounds, each in another order; each ratio
   is taken within a round, then the median of the rounds.
2. **The storage calls alone**, in this process: per tap (`load_turn` then `move_session`)
   and per survey (`start_session`, a read and `submit`), CPU time (`time.process_time`) of
   batches of 40 people, Core and driver batches alternating.

`python -m benchmarks.bench_tap_driver [--quick] [--write-doc]` prints JSON; `main()` returns
the figures for `python -m benchmarks`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from benchmarks.bench_scaleout import DEFAULT_POSTGRES, POSTGRES_ENV, throwaway_database
from benchmarks.botapi_load import echo_bot_aiohttp, run_echo
from benchmarks.botapi_survey import SurveyBot, SurveyFactory, run_survey, running_survey_bot

__all__ = ["main", "render"]

SECTION_TITLE: Final = "## A respondent's SQL at driver level (issue 23)"
KINDS: Final = ("sqlite", "postgresql")
USERS: Final = 50
ROUNDS: Final = 4
WARM_UP: Final = 3.0
WINDOW: Final = 8.0
PEOPLE: Final = 40  # per batch of the storage calls
TAPS: Final = 15  # per person and batch
BATCHES: Final = 8
NOW: Final = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ECHO: Final = "echo"
# Issue 23's target for the survey polling SQLite, on the 2-core machine.
TARGET_SQLITE_MS: Final = 1.5
TARGET_ECHO_RATIO: Final = 2.3


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


@asynccontextmanager
async def _database(kind: str, folder: Path) -> AsyncIterator[str]:
    """An empty database of `kind` (migrated by whoever opens it first); yield its URL."""
    if kind == "postgresql":
        async with throwaway_database(os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)) as url:
            yield url
        return
    yield f"sqlite+aiosqlite:///{folder / f'bench-{secrets.token_hex(4)}.db'}"


# -- the whole bot --------------------------------------------------------------------------------


def _bot(kind: str, core: bool, folder: Path) -> SurveyFactory:
    """`spibot run` on a fresh `kind` database with an open wave; on Core statements if `core`."""

    @asynccontextmanager
    async def start(sandbox: Any) -> AsyncIterator[SurveyBot]:
        entry = "benchmarks.tap_core" if core else "bot"
        async with _database(kind, folder) as url, running_survey_bot(sandbox, url, entry) as bot:
            yield bot

    return start


async def whole_bot(rounds: int, window: float, warm_up: float) -> dict[str, Any]:
    """Bot CPU per action, shipped (driver) and Core, per database, in paired rounds, beside
    the echo bot on spi-bot's transport (the issue's yardstick)."""
    setups: list[tuple[str, bool]] = [(kind, core) for kind in KINDS for core in (True, False)]
    setups.append((ECHO, False))
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="spibot-tapdriver-") as folder:
        for index in range(rounds):
            order = setups[index % len(setups) :] + setups[: index % len(setups)]
            if index % 2:
                order.reverse()
            row: dict[str, Any] = {}
            for kind, core in order:
                started = _load()
                if kind == ECHO:
                    result = await run_echo(USERS, window, echo_bot_aiohttp, warm_up=warm_up)
                    name = ECHO
                else:
                    factory = _bot(kind, core, Path(folder))
                    result = await run_survey(USERS, window, factory, warm_up=warm_up)
                    name = f"{kind} {'core' if core else 'driver'}"
                row[name] = {
                    "load": started,
                    "bot_ms_per_action": result["cpu"]["bot_ms_per_action"],
                    "actions_per_second": result["actions"]["all"]["per_second"],
                }
                print(f"round {index + 1} {name}: {json.dumps(row[name])}", file=sys.stderr)
            runs.append(row)
    figures: dict[str, Any] = {"runs": runs}
    echo = [r[ECHO]["bot_ms_per_action"] for r in runs]
    figures[ECHO] = _spread(echo)
    for kind in KINDS:
        core = [r[f"{kind} core"]["bot_ms_per_action"] for r in runs]
        driver = [r[f"{kind} driver"]["bot_ms_per_action"] for r in runs]
        figures[kind] = {
            "core_ms": _spread(core),
            "driver_ms": _spread(driver),
            "ratio": _spread([d / c for c, d in zip(core, driver, strict=True)]),
            "over_echo": _spread([d / e for d, e in zip(driver, echo, strict=True)]),
            "loads": [r[f"{kind} driver"]["load"].split(" / ")[0] for r in runs],
        }
    return figures


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


# -- the storage calls alone ------------------------------------------------------------------


async def _sample_wave(url: str) -> tuple[Any, int, int]:
    import storage.db
    import storage.units
    from sandbox.demo import open_sample_wave

    db = storage.db.Database(url)
    await db.initialize()
    wave = await open_sample_wave(db.engine, "Bench", NOW)
    unit = next(u for u in await storage.units.list_units(db.engine) if u.serves_public)
    return db, wave.id, unit.id


async def storage_calls(kind: str, batches: int = BATCHES) -> dict[str, Any]:
    """Microseconds of CPU per tap and per survey's start and submit, Core and driver."""
    from storage.sessions import start_session, submit
    from storage.turns import load_turn, move_session

    taken: dict[str, dict[bool, list[float]]] = {"tap": {}, "survey": {}}
    with tempfile.TemporaryDirectory(prefix="spibot-tapdriver-") as folder:
        async with _database(kind, Path(folder)) as url:
            db, wave_id, unit_id = await _sample_wave(url)
            engine, serial = db.engine, 0
            try:
                for batch in range(batches):
                    for core in (True, False) if batch % 2 == 0 else (False, True):
                        people = []
                        started = time.process_time()
                        for _ in range(PEOPLE):
                            serial += 1
                            people.append(
                                await start_session(
                                    engine,
                                    f"{serial:064x}",
                                    wave_id,
                                    "external",
                                    unit_id,
                                    None,
                                    "id",
                                    "question",
                                    NOW,
                                    core=core,
                                )
                            )
                        tapping = time.process_time()
                        for step in range(TAPS):
                            for index, person in enumerate(people):
                                turn = await load_turn(engine, person.pseudonym, core=core)
                                assert turn.session is not None
                                moved = await move_session(
                                    engine,
                                    turn.session,
                                    now=NOW + timedelta(seconds=5 * step + 5),
                                    answer=(f"q{step}", "3"),
                                    question_id=f"q{step + 1}",
                                    core=core,
                                )
                                assert moved is not None
                                people[index] = moved
                        submitting = time.process_time()
                        for person in people:
                            await load_turn(engine, person.pseudonym, core=core)
                            assert await submit(
                                engine,
                                person.pseudonym,
                                NOW + timedelta(minutes=5),
                                date(2026, 3, 2),
                                expected_version=person.version,
                                core=core,
                            )
                        done = time.process_time()
                        taken["tap"].setdefault(core, []).append(
                            (submitting - tapping) / (PEOPLE * TAPS) * 1e6
                        )
                        taken["survey"].setdefault(core, []).append(
                            ((tapping - started) + (done - submitting)) / PEOPLE * 1e6
                        )
            finally:
                await db.close()
    return {
        what: {
            "core_us": round(statistics.median(times[True])),
            "driver_us": round(statistics.median(times[False])),
            "ratio": _spread([d / c for c, d in zip(times[True], times[False], strict=True)]),
        }
        for what, times in taken.items()
    }


# -- the whole benchmark ------------------------------------------------------------------------


async def _main(quick: bool, rounds: int) -> dict[str, Any]:
    window, warm_up = (4.0, 2.0) if quick else (WINDOW, WARM_UP)
    rounds = 1 if quick else rounds
    result: dict[str, Any] = {"machine_at_start": f"{os.cpu_count()} CPUs, load {_load()}"}
    result["storage"] = {kind: await storage_calls(kind, 2 if quick else BATCHES) for kind in KINDS}
    result["bot"] = await whole_bot(rounds, window, warm_up)
    result.update(rounds=rounds, window=window, warm_up=warm_up, users=USERS)
    result["machine_at_end"] = f"load {_load()}"
    return result


def main(quick: bool = False, rounds: int = ROUNDS) -> dict[str, Any]:
    """Run the benchmark (quick: one short round, two batches)."""
    return asyncio.run(_main(quick, rounds))


def _cell(stats: dict[str, float], unit: str = "", digits: int = 2) -> str:
    return (
        f"**{stats['median']:.{digits}f}{unit}** "
        f"({stats['min']:.{digits}f}–{stats['max']:.{digits}f})"
    )


def render(result: dict[str, Any]) -> list[str]:
    """Return the docs/benchmarks.md section for this benchmark."""
    bot, calls = result["bot"], result["storage"]
    lines = [
        SECTION_TITLE,
        "",
        "`python -m benchmarks.bench_tap_driver` (`benchmarks/bench_tap_driver.py`). A start, a "
        "tap, a typed answer and a submission run as plain SQL on the driver connection that "
        "SQLAlchemy's pool hands out (`storage/tap_sqlite.py`, `storage/tap_postgres.py`); the "
        "SQLAlchemy Core statements stay as the reference, so both run from one tree, paired. "
        f"**Whole bot**: `spibot run` as shipped against the same bot on the Core statements "
        f"(`benchmarks/tap_core.py`), each its own process polling the sandbox on loopback, "
        f"{result['users']} closed-loop respondents on an open unit link; the bot's CPU (user + "
        f"system, /proc) over a {result['window']:.0f} s window after {result['warm_up']:.0f} "
        f"s of warm-up, divided by the actions in it; {result['rounds']} rounds, each in "
        "another order, the ratio taken within each round (median, min–max). **Storage calls "
        f"alone**: CPU time in one process of batches of {PEOPLE} people, Core and driver "
        f"alternating ({TAPS} taps each: `load_turn` then `move_session`; per survey: "
        "`start_session`, a read and `submit`). PostgreSQL is the local server; a connection "
        "is pinged only after idling longer than `DB_PING_IDLE_SECONDS`, as shipped.",
        "",
        f"Machine: {result['machine_at_start']} at the start, {result['machine_at_end']} at "
        "the end (1/5/15 min; above ~0.5 other work shared the 2 cores: CPU per action "
        "moves less with it than any rate).",
        "",
        "| database | bot CPU per action, Core | driver level | driver ÷ Core (paired) "
        "| storage per tap, Core → driver | per survey's start and submit "
        "| load (1 min) at each run |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        row, call = bot[kind], calls[kind]
        lines.append(
            f"| {kind} | {_cell(row['core_ms'], ' ms')} | {_cell(row['driver_ms'], ' ms')} | "
            f"{_cell(row['ratio'], '×')} | {call['tap']['core_us']} → "
            f"**{call['tap']['driver_us']} µs** ({call['tap']['ratio']['median']:.2f}×) | "
            f"{call['survey']['core_us']} → **{call['survey']['driver_us']} µs** "
            f"({call['survey']['ratio']['median']:.2f}×) | {', '.join(row['loads'])} |"
        )
    sqlite = bot["sqlite"]
    met = (
        sqlite["driver_ms"]["median"] <= TARGET_SQLITE_MS
        and sqlite["over_echo"]["median"] <= TARGET_ECHO_RATIO
    )
    lines += [
        "",
        f"The echo bot on spi-bot's transport (same rounds): {_cell(bot[ECHO], ' ms')} per "
        f"action. Issue 23's target for the survey polling SQLite, ≤ {TARGET_SQLITE_MS} ms and "
        f"≤ {TARGET_ECHO_RATIO}× the echo bot: {sqlite['driver_ms']['median']:.2f} ms, "
        f"{_cell(sqlite['over_echo'], '×')} the echo bot, "
        + (
            "**met**."
            if met
            else "**not met** in these rounds (the load at each run is in the table; "
            "the CPU per tap benchmark above measures the shipped bot on its own)."
        ),
    ]
    return [*lines, ""]


if __name__ == "__main__":
    from benchmarks.bench_botapi import DOC, write_section

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round, two batches")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="paired rounds of the bot")
    parser.add_argument(
        "--write-doc", action="store_true", help="update this section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        figures = main(args.quick, args.rounds)
        print(json.dumps(figures, indent=1))
        if args.write_doc:
            write_section(DOC, render(figures), SECTION_TITLE)
            print(f"wrote {DOC}", file=sys.stderr)
