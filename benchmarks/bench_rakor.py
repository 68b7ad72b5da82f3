"""Benchmark: the rakor PDF of a 49-unit wave (the Mojokerto units), as `/laporan pdf` makes it.

Target: ≤ 3 s median to lay it out on a 2-core machine (the person waits in chat, with an
"uploading a document" status) and ≤ 1 MB (Telegram takes documents up to 50 MB; a PDF
that size opens at once on a phone or a meeting-room laptop).

Run with `python -m benchmarks.bench_rakor [repeats]`; `main()` returns the numbers.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final

import numpy as np
import pandas as pd

import storage.actions
from scoring import Corrections, ScoringConfig, UnitInfo, WaveResult, build_report
from scoring.paradata import duration_band, pace_band
from services.actions import ActionStatus
from services.rakor.pdf import build_pdf
from services.reports import ReportBundle
from storage.waves import Wave, WaveStatus
from surveys.model import Dimension, Group
from tests.test_scoring_support import DAY, likert, questionnaire

TARGET_SECONDS: Final = 3.0
TARGET_BYTES: Final = 1024 * 1024
HISTORY: Final = (WaveResult("2025-S1", 72.1), WaveResult("2025-S2", 73.4))


def _units() -> list[UnitInfo]:
    text = resources.files("sandbox.data").joinpath("mojokerto-units.csv").read_text("utf-8")
    return [
        UnitInfo(
            row["code"],
            row["name"],
            row["kind"],
            row["parent"] or None,
            row["serves_public"] == "yes",
            300,
            int(row["expert_count"] or 8),
            5000,
        )
        for row in csv.DictReader(text.splitlines())
    ]


def _bundle(seed: int = 7) -> ReportBundle:
    """A closed 49-unit wave: most units full, some partial, some small, some empty."""
    rng = np.random.default_rng(seed)
    units = _units()
    questions = [likert(f"q{i:02d}", list(Dimension)[i % 7], reverse=i % 5 == 0) for i in range(21)]
    questionnaires = {g: questionnaire(g, questions) for g in Group}
    rows: list[tuple[object, ...]] = []
    rid = 0
    for ui, unit in enumerate(units):
        if ui % 11 == 10:
            continue  # nobody answered here
        for group in Group:
            if group is Group.EXTERNAL and not unit.serves_public:
                continue
            count = int(rng.integers(2, 9)) if ui % 7 == 3 else int(rng.integers(8, 40))
            for _ in range(count):
                rid += 1
                values = rng.choice(5, size=len(questions), p=[0.05, 0.1, 0.25, 0.35, 0.25]) + 1
                duration = duration_band(int(rng.integers(300, 900)))
                pace = pace_band(int(rng.integers(300, 900)), len(questions))
                rows += [
                    (f"r{rid:06d}", group.value, unit.code, duration, pace, DAY, q.id, str(v))
                    for q, v in zip(questions, values, strict=True)
                ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "response_id",
            "grp",
            "unit_code",
            "duration_band",
            "pace_band",
            "completed_on",
            "question_id",
            "value",
        ],
    )
    report = build_report(
        frame,
        questionnaires,
        ScoringConfig(),
        wave="2026-S1",
        wave_open=False,
        units=units,
        corrections=Corrections(1.2, 0.3, "kasus 2025"),
        history=HISTORY,
        institution_name="Pemerintah Kabupaten Mojokerto",
        year=2026,
    )
    opened = datetime(2026, 3, 2, tzinfo=UTC)
    wave = Wave(1, "2026-S1", WaveStatus.CLOSED, opened, datetime(2026, 3, 31, tzinfo=UTC), {})
    return ReportBundle(report=report, wave=wave, history=HISTORY, as_of=date(2026, 4, 1))


def _actions(bundle: ReportBundle) -> list[storage.actions.Action]:
    """Three follow-up actions for every other unit."""
    now = datetime(2026, 4, 1, tzinfo=UTC)
    statuses = list(ActionStatus)
    out = []
    for ui, unit in enumerate(bundle.report.units[::2]):
        for i in range(3):
            out.append(
                storage.actions.Action(
                    id=len(out) + 1,
                    unit_id=ui,
                    unit_code=unit.code or "",
                    unit_name=unit.name,
                    dimension="procurement" if i else None,
                    recommendation="" if i else "Perkuat pengawasan pengadaan",
                    what="Umumkan jadwal, syarat dan biaya layanan di loket dan situs web",
                    who="Kepala Bidang Pelayanan",
                    due_on=date(2026, 5, 1 + i),
                    status=statuses[(ui + i) % len(statuses)],
                    note="",
                    document_file_id=None,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
    return out


def main(repeats: int = 5, language: str = "id") -> dict[str, Any]:
    """Lay the PDF out once cold (fonts registered, modules warm) and `repeats` times warm."""
    bundle = _bundle()
    actions = _actions(bundle)
    start = time.perf_counter()
    first = build_pdf(bundle, actions, language, date(2026, 4, 1))
    cold = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        made = build_pdf(bundle, actions, language, date(2026, 4, 1))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "units": len(bundle.report.units),
        "actions": len(actions),
        "pages": first.pages,
        "bytes": len(made.data),
        "repeats": repeats,
        "cold_seconds": round(cold, 3),
        "median_seconds": round(median, 3),
        "min_seconds": round(min(times), 3),
        "within_target": median <= TARGET_SECONDS and len(made.data) <= TARGET_BYTES,
    }


def render(result: dict[str, Any]) -> list[str]:
    """Return this benchmark's section of docs/benchmarks.md."""
    verdict = "within target" if result["within_target"] else "**over target**"
    return [
        "## Rakor PDF (issue 22)",
        "",
        "`python -m benchmarks.bench_rakor` (`benchmarks/bench_rakor.py`). The PDF `/laporan "
        f"pdf` sends, for a closed {result['units']}-unit wave (the Mojokerto units: most with "
        f"an index, some partial, suppressed or empty) with {result['actions']} follow-up "
        "actions, laid out by `services.rakor.pdf.build_pdf` from a `ReportBundle` (reading "
        "the report is `spibot score`'s cost, measured above). Cold: the first PDF of a "
        f"process, fonts registered; then {result['repeats']} runs.",
        "",
        f"- {result['pages']} pages, {result['bytes'] / 1024:.0f} KB (target ≤ 1 MB)",
        f"- median **{result['median_seconds']:.2f} s**, best {result['min_seconds']:.2f} s, "
        f"cold {result['cold_seconds']:.2f} s (target ≤ {TARGET_SECONDS:g} s)",
        f"- verdict: {verdict}",
        "",
    ]


if __name__ == "__main__":
    found = main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print("\n".join(render(found)))
