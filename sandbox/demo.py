"""`spibot demo`: a whole simulated survey wave, offline.

The real bot runs against the in-process sandbox Bot API over loopback HTTP, on a SQLite file
in the output folder. Simulated people open personal invitations (employees, experts) and a
unit's open QR link (service users), tap, type, go back, give up; then the summary is printed.
A simulated Bupati opens a leadership role link; with `--serve` the sandbox, the bot and its
Mini App dashboard keep running after the wave, and the demo prints a 127.0.0.1 address with
launch data signed for that Bupati, until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final, Protocol

import storage.db
import storage.frames
import storage.waves
from sandbox import SandboxServer, SandboxUser
from sandbox.demo_result import leadership_result, result_lines
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services import reports
from services.access import create_grant
from services.admin import create_invitations, import_units_csv, open_wave
from services.context import utc_now
from services.links import unit_payload
from services.reports import load_report
from services.settings import Settings, load_settings
from storage.roles import Role
from surveys import Group

__all__ = [
    "DEMO_UNITS",
    "DemoBot",
    "DemoOptions",
    "StartBot",
    "open_sample_wave",
    "run_demo",
    "sandbox_settings",
]

SANDBOX_TOKEN: Final = "123456:SANDBOX-demo-token"  # noqa: S105 - only the local sandbox accepts it
# A handful of Mojokerto units: agencies with public counters, a hospital and two kecamatan.
DEMO_UNITS: Final = (
    "DINKES",
    "RSUD-SOEKANDAR",
    "DISPENDUKCAPIL",
    "DPMPTSP",
    "KEC-SOOKO",
    "KEC-PACET",
)
# Share of respondents per group, and how each unit tends to answer (0 bad … 1 good).
_GROUP_SHARE: Final = ((Group.INTERNAL, 0.45), (Group.EXTERNAL, 0.40), (Group.EXPERT, 0.15))
_CONCURRENCY: Final = 16
# The demo's admin (from settings) and the leadership group that subscribes to reports.
DEMO_ADMIN_ID: Final = 9_000_001
LEADERSHIP_GROUP_ID: Final = -1_002_024
# The Bupati, who holds a leadership role (granted by a role link, as in real life).
DEMO_BUPATI_ID: Final = 9_000_002


class DemoBot(Protocol):
    """The running bot, as the demo needs it (the composition root provides it)."""

    async def push_due_reports(self) -> None:
        """Run the scheduler's tick now: send every push that is due."""


# Starts the real bot on these settings against the sandbox, and stops it on exit.
StartBot = Callable[[Settings], AbstractAsyncContextManager[DemoBot]]


@dataclass(frozen=True)
class DemoOptions:
    """What the demo does and where it writes."""

    out: Path
    respondents: int = 300
    seed: int = 2024
    as_json: bool = False
    serve: bool = False  # keep the sandbox, bot and dashboard running after the wave


@dataclass(frozen=True)
class _Visit:
    group: Group
    unit: str
    outcome: Outcome


def sandbox_settings(
    sandbox: SandboxServer, database_url: str, secret: str, **overrides: Any
) -> Settings:
    """Return settings that point the bot at a sandbox Bot API (the demo and the tests).

    Retries and timeouts are short: on loopback a second is a long time, and a fault test
    must not wait out production's patience.
    """
    overrides = {"bot_api_retry_seconds": 1.5, "bot_api_timeout_seconds": 3.0, **overrides}
    return load_settings(
        None,
        telegram_bot_token=SANDBOX_TOKEN,
        telegram_api_base_url=sandbox.base_url,
        telegram_api_base_file_url=sandbox.base_file_url,
        database_url=database_url,
        spibot_secret=secret,
        bot_username="spi_sandbox_bot",
        **overrides,
    )


async def open_sample_wave(
    engine: storage.db.AsyncEngine, name: str, now: datetime
) -> storage.waves.Wave:
    """Import the 49 sample units of Kabupaten Mojokerto and open a wave."""
    units_csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
    with resources.as_file(units_csv) as path:
        await import_units_csv(engine, path)
    return await open_wave(engine, name, now)


def _fresh_database(out: Path) -> Path:
    """Return the demo database path, removing a previous run's file."""
    db_file = out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    return db_file


async def run_demo(options: DemoOptions, start_bot: StartBot) -> int:
    """Run the demo and print what happened; returns the exit code."""
    rng = random.Random(options.seed)
    options.out.mkdir(parents=True, exist_ok=True)
    db_file = _fresh_database(options.out)
    # A fixed secret per seed keeps pseudonyms (and so the run) repeatable.
    secret = f"demo-secret-{options.seed}-{'x' * 16}"
    # With --serve the bot also serves its dashboard on loopback (the sandbox takes plain
    # HTTP web app addresses there, as Telegram's test servers do).
    web: dict[str, Any] = {}
    if options.serve:
        port = _free_port()
        web = {"web_listen": f"127.0.0.1:{port}", "web_public_url": f"http://127.0.0.1:{port}"}
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox,
            f"sqlite+aiosqlite:///{db_file}",
            secret,
            admin_user_ids=str(DEMO_ADMIN_ID),
            # The sandbox has no flood limits; Telegram's 30 messages/s would only slow the demo.
            rate_limit_per_second=1000,
            **web,
        )
        now = utc_now()
        async with storage.db.Database(settings.database_url) as db:
            engine = db.engine
            wave = await open_sample_wave(engine, f"Demo {now.date().isoformat()}", now)
            async with start_bot(settings) as bot:
                bupati = await _bupati(sandbox, engine)
                plan = await _plan(engine, settings, wave, options.respondents, rng)
                visits = await _simulate(sandbox, plan)
                counts = await storage.frames.response_counts(engine, wave.id)
                charts = await _leadership_report(
                    sandbox, bot, engine, settings, wave, options.out / "charts"
                )
                # The same report the scheduler just sent to the group (the wave is closed).
                bundle = await load_report(engine, settings, wave_name=wave.name)
                assert bundle is not None
                summary = _summary(visits, counts, wave.name, options)
                summary["leadership_report"] = {
                    "chat": "Pimpinan",
                    "charts": [p.name for p in charts],
                    "result": leadership_result(bundle, charts),
                }
                if options.serve and settings.dashboard_url is not None:
                    # What the Bupati's Telegram opens from the menu button, signed by the
                    # sandbox with the bot's token as Telegram would.
                    summary["dashboard"] = {
                        "user": "Bupati",
                        "url": sandbox.mini_app_url(bupati, settings.dashboard_url),
                        "valid_hours": settings.web_auth_max_age / 3600,
                    }
                _print(summary, options.as_json)
                if options.serve:
                    await _serve_until_stopped()
    return 0


def _free_port() -> int:
    """Return a loopback port nothing listens on right now (the dashboard takes it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _bupati(sandbox: SandboxServer, engine: storage.db.AsyncEngine) -> SandboxUser:
    """Have the simulated Bupati open a leadership role link, as `spibot grant` prints it."""
    payload, _ = await create_grant(engine, Role.LEADERSHIP, None, utc_now())
    bupati = sandbox.user(DEMO_BUPATI_ID, "Bupati", language_code="id")
    await bupati.open_deep_link(payload)
    await bupati.wait_for_reply()
    return bupati


async def _serve_until_stopped() -> None:
    """Keep everything running until Ctrl-C (SIGINT) or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _plan(
    engine: storage.db.AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    count: int,
    rng: random.Random,
) -> list[tuple[Group, str, str, Persona]]:
    """Decide who takes part, through which link, and how each person behaves."""
    unit_leaning = {code: rng.uniform(0.6, 0.9) for code in DEMO_UNITS}
    plan: list[tuple[Group, str, str, Persona]] = []
    for _ in range(count):
        roll = rng.random()
        group = Group.EXPERT
        cumulative = 0.0
        for candidate, share in _GROUP_SHARE:
            cumulative += share
            if roll < cumulative:
                group = candidate
                break
        unit = rng.choice(DEMO_UNITS)
        persona = Persona(
            leaning=min(1.0, max(0.0, rng.gauss(unit_leaning[unit], 0.1))),
            rng=random.Random(rng.random()),
            abandon_at=rng.randint(1, 12) if rng.random() < 0.08 else None,
            goes_back=rng.random() < 0.10,
            ineligible=group is Group.EXTERNAL and rng.random() < 0.05,
            language="en" if rng.random() < 0.1 else "id",
        )
        if group is Group.EXTERNAL:
            payload = unit_payload(settings.secret_bytes(), unit)
        else:
            rows = await create_invitations(
                engine,
                wave=wave,
                group=group,
                roster=[{"unit": unit}],
                bot_username=settings.bot_username,
                now=utc_now(),
            )
            payload = rows[0].link.split("start=", 1)[1]
        plan.append((group, unit, payload, persona))
    return plan


async def _simulate(
    sandbox: SandboxServer, plan: list[tuple[Group, str, str, Persona]]
) -> list[_Visit]:
    """Play every respondent through the real bot, a few at a time."""
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(index: int, group: Group, unit: str, payload: str, persona: Persona) -> _Visit:
        async with gate:
            user = sandbox.user(
                user_id=200_000 + index,
                first_name=f"Responden {index}",
                language_code=persona.language,
            )
            outcome, _ = await simulate_respondent(user, payload, persona)
            return _Visit(group, unit, outcome)

    return list(await asyncio.gather(*(one(i, *entry) for i, entry in enumerate(plan))))


async def _leadership_report(
    sandbox: SandboxServer,
    bot: DemoBot,
    engine: storage.db.AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    folder: Path,
) -> list[Path]:
    """Close the wave and let the scheduler push the final report to a subscribed group.

    The admin subscribes the "Pimpinan" group with /langganan like a real admin would; the
    report then goes out through the scheduler and delivery code, not a demo-only path.
    Returns the chart files saved from what the group received.
    """
    admin = sandbox.user(user_id=DEMO_ADMIN_ID, first_name="Admin", language_code="id")
    group = sandbox.group(LEADERSHIP_GROUP_ID, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    # What `spibot wave close` does (the final report is frozen); the scheduler notices on
    # its next tick.
    await reports.close_wave(engine, settings, wave, utc_now())
    await bot.push_due_reports()
    # Tall charts (ranking, progress) arrive as documents, the others as photos.
    photos = [
        (message.filename or f"chart-{message.message_id}.png", image)
        for message in group.messages
        if (image := message.photo or message.document) is not None
    ]
    return await asyncio.to_thread(_save_charts, folder, photos)


def _save_charts(folder: Path, photos: list[tuple[str, bytes]]) -> list[Path]:
    """Write the received chart photos into the demo's output folder."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, data in photos:
        path = folder / name
        path.write_bytes(data)
        saved.append(path)
    return saved


def _summary(
    visits: list[_Visit],
    counts: list[storage.frames.ResponseCount],
    wave: str,
    options: DemoOptions,
) -> dict[str, Any]:
    by_group: dict[str, Counter[str]] = {g.value: Counter() for g in Group}
    by_unit: dict[str, Counter[str]] = {u: Counter() for u in DEMO_UNITS}
    for visit in visits:
        for table, key in ((by_group, visit.group.value), (by_unit, visit.unit)):
            table[key]["started"] += 1
            table[key][visit.outcome.value] += 1
    stored = {(c.unit_code, c.grp): c.submitted for c in counts}
    return {
        "wave": wave,
        "seed": options.seed,
        "respondents": len(visits),
        "by_group": {k: dict(v) for k, v in by_group.items()},
        "by_unit": {k: dict(v) for k, v in by_unit.items()},
        "stored_submitted": {
            unit: {g.value: stored.get((unit, g.value), 0) for g in Group} for unit in DEMO_UNITS
        },
        "out": str(options.out),
    }


def _print(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2), flush=True)
        return
    print("spi-bot demo: the real bot against the sandbox Bot API on 127.0.0.1 (no network)")
    print(
        f"wave {summary['wave']!r}, {summary['respondents']} simulated respondents, "
        f"seed {summary['seed']}\n"
    )
    columns = ("started", "completed", "abandoned", "ineligible", "declined", "refused")
    header = f"{'':<18}" + "".join(f"{c:>11}" for c in columns)
    for title, table in (("per group", summary["by_group"]), ("per unit", summary["by_unit"])):
        print(title)
        print(header)
        for key, row in table.items():
            print(f"{key:<18}" + "".join(f"{row.get(c, 0):>11}" for c in columns))
        print()
    print("submitted responses stored in the database (internal / external / expert):")
    for unit, row in summary["stored_submitted"].items():
        print(f"  {unit:<18} {row['internal']:>4} {row['external']:>4} {row['expert']:>4}")
    report = summary["leadership_report"]
    print(
        f"\nwave closed: the subscribed leadership group {report['chat']!r} received the final "
        f"report, {len(report['charts'])} charts saved in {summary['out']}/charts/\n"
    )
    for line in result_lines(report["result"], Path(summary["out"]) / "charts"):
        print(line)
    print(f"database: {summary['out']}/demo.db")
    dashboard = summary.get("dashboard")
    if dashboard is not None:
        print(
            f"\nthe dashboard (Mini App) as the demo's {dashboard['user']} opens it, in any "
            f"desktop browser (valid {dashboard['valid_hours']:g} h):\n{dashboard['url']}\n"
            "the sandbox, the bot and the dashboard keep running until Ctrl-C",
            flush=True,
        )
