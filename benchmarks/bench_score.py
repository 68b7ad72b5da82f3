"""Benchmark: `spibot score` on a synthetic wave of 40,000 responses ≈ 1,000,000 answers.

Measures in one run: (a) reading the answer rows into a DataFrame (`storage.answers_frame`),
(b) the report step (`scoring.build_report`) and the ratio b/a (target ≤ 2.5), (c) `spibot
score --json` end to end as a subprocess (target ≤ 3 s, peak RSS ≤ 1 GB), and (d) how (a)
and (b) grow from 10k to 1M answers. Generated databases are cached under /tmp.

Run with `python -m benchmarks.bench_score`; `main()` returns the numbers.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

UNITS: Final = 40
SIZES: Final = (10_000, 100_000, 1_000_000)  # answers
CACHE: Final = Path(tempfile.gettempdir()) / "spibot-bench"
SCHEMA_VERSION: Final = "4"  # bump when the generator changes, to regenerate cached files
TARGET_RATIO: Final = 2.5
TARGET_SECONDS: Final = 3.0
TARGET_RSS_BYTES: Final = 1024**3
NOW: Final = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _prepare_schema(
    path: Path,
) -> tuple[int, dict[str, int], dict[str, int], dict[str, list[tuple[str, list[str]]]]]:
    """Migrate an empty file, add 40 units and open a wave; return ids and answer choices."""
    import storage.db
    import storage.frames
    import storage.units
    import storage.waves
    from services.admin import open_wave
    from surveys import bundled_questionnaires

    await storage.db.upgrade(_url(path))
    rows = [
        {
            "code": f"U{i:02d}",
            "name": f"Unit {i:02d}",
            "kind": "opd",
            "serves_public": "yes",
            "staff_count": 400 + 10 * i,
        }
        for i in range(UNITS)
    ]
    async with storage.db.Database(_url(path)) as db:
        await storage.units.import_units(db.engine, rows)
        wave = await open_wave(db.engine, "2026-S1", NOW)
        units = {u.code: u.id for u in await storage.units.list_units(db.engine)}
    choices: dict[str, list[tuple[str, list[str]]]] = {}
    for group, questionnaire in bundled_questionnaires().items():
        # Every question a respondent can answer: scored items, "tidak tahu", unscored ones.
        choices[group.value] = [
            (q.id, [o.value for o in q.options] or ["jawaban bebas"])
            for q in questionnaire.questions
        ]
    return wave.id, units, dict(wave.questionnaire_ids), choices


def generate(answers: int, path: Path, seed: int = 7) -> Path:
    """Write a synthetic wave with about `answers` answers into `path` (bulk inserts)."""
    wave_id, units, questionnaire_of, choices = asyncio.run(_prepare_schema(path))
    rng = random.Random(seed)
    # Mostly employees, as in a real wave: ~23 answers per response on average.
    groups, weights = ("internal", "external", "expert"), (0.7, 0.15, 0.15)
    unit_ids = list(units.values())
    response_rows: list[tuple[object, ...]] = []
    answer_rows: list[tuple[str, str, str]] = []
    while len(answer_rows) < answers:
        grp = rng.choices(groups, weights)[0]
        response_id = secrets.token_hex(16)
        response_rows.append(
            (
                response_id,
                wave_id,
                grp,
                rng.choice(unit_ids),
                questionnaire_of[grp],
                "id",
                date(2026, 3, 1).isoformat(),
                rng.randint(3, 5),  # duration band: 5 to 15 minutes (scoring.paradata)
                rng.randint(4, 6),  # pace band: 8 to 64 seconds per item
            )
        )
        level = rng.random()  # respondents differ, so no identical-vector clusters
        for question_id, values in choices[grp]:
            pick = min(len(values) - 1, max(0, round(rng.gauss(level, 0.3) * (len(values) - 1))))
            answer_rows.append((response_id, question_id, values[pick]))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
            "completed_on, duration_band, pace_band) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            response_rows,
        )
        conn.executemany(
            "INSERT INTO answers (response_id, question_id, value) VALUES (?, ?, ?)",
            answer_rows,
        )
    # Fold the write-ahead log into the file, so the file alone can be renamed and cached.
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    return path


def _schema_head() -> str:
    """The Alembic head revision of this code's migrations."""
    from alembic.script import ScriptDirectory

    import storage.db
    import storage.frames
    import storage.units
    import storage.waves

    return str(ScriptDirectory.from_config(storage.db.alembic_config()).get_current_head())


def database(answers: int) -> tuple[Path, int, int]:
    """Return a cached synthetic database with about `answers` answers, and its row counts."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # The schema's revision is in the name: a file made by another version of the code (another
    # branch on the same machine) may be at a revision this one does not know.
    path = CACHE / f"wave-{answers}-v{SCHEMA_VERSION}-{_schema_head()}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate(answers, partial)
        partial.rename(path)
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        responses = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    return path, int(count), int(responses)


async def _time_steps(path: Path, repeats: int) -> dict[str, float]:
    """Time answers_frame and build_report (as `load_report` calls them), best of `repeats`."""
    import storage.db
    import storage.frames
    import storage.units
    import storage.waves
    from scoring import ScoringConfig, UnitInfo, build_report
    from services.reports import questionnaires_of as _questionnaires

    async with storage.db.Database(_url(path)) as db:
        engine = db.engine
        wave = await storage.waves.current_wave(engine)
        assert wave is not None
        questionnaires = await _questionnaires(engine, wave)
        units = [
            UnitInfo(
                u.code, u.name, u.kind, serves_public=u.serves_public, roster_size=u.staff_count
            )
            for u in await storage.units.list_units(engine)
        ]
        read, score = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            frame = await storage.frames.answers_frame(engine, wave.id)
            read.append(time.perf_counter() - start)
            start = time.perf_counter()
            build_report(
                frame, questionnaires, ScoringConfig(), wave=wave.name, wave_open=True, units=units
            )
            score.append(time.perf_counter() - start)
    return {"read_seconds": min(read), "report_seconds": min(score)}


def _spibot_score(path: Path, repeats: int) -> dict[str, float]:
    """Run `spibot score --json` as a fresh process; wall time and the children's peak RSS."""
    env = {**os.environ, "DATABASE_URL": _url(path), "SPIBOT_SECRET": "bench-" + "x" * 20}
    # As installed: with bytecode. A shell with PYTHONDONTWRITEBYTECODE would make every run
    # compile the project's modules again (~0.2 s); one untimed run writes the bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "bot", "--env-file", os.devnull, "score", "--json"]
    subprocess.run(command, env=env, capture_output=True, check=False)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"spibot score failed: {done.stderr.decode()[-500:]}")
    # ru_maxrss is the largest resident set of any waited-for child, in KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "cli_median_seconds": statistics.median(times),
        "cli_min_seconds": min(times),
        "cli_peak_rss_bytes": float(peak),
    }


def main(repeats: int = 3, cli_repeats: int = 5) -> dict[str, Any]:
    """Run the whole benchmark and return its figures."""
    growth = []
    for size in SIZES:
        path, count, responses = database(size)
        steps = asyncio.run(_time_steps(path, repeats))
        growth.append(
            {
                "answers": count,
                "responses": responses,
                "read_seconds": round(steps["read_seconds"], 3),
                "report_seconds": round(steps["report_seconds"], 3),
                "ratio": round(steps["report_seconds"] / steps["read_seconds"], 2),
            }
        )
    largest, _, _ = database(SIZES[-1])
    cli = _spibot_score(largest, cli_repeats)
    top = growth[-1]
    return {
        "growth": growth,
        "ratio_1m": top["ratio"],
        "cli_median_seconds": round(cli["cli_median_seconds"], 3),
        "cli_min_seconds": round(cli["cli_min_seconds"], 3),
        "cli_peak_rss_mb": round(cli["cli_peak_rss_bytes"] / 1024**2, 1),
        "within_target": top["ratio"] <= TARGET_RATIO
        and cli["cli_median_seconds"] <= TARGET_SECONDS
        and cli["cli_peak_rss_bytes"] <= TARGET_RSS_BYTES,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
