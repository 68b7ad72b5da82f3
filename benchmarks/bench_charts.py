"""Benchmark: render the six-chart pack for a synthetic 40-unit wave (target ≤ 1.5 s, PNG ≤ 300 KB).

Run with `python -m benchmarks.bench_charts [repeats]`; `main()` returns the numbers.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from scoring import Corrections, ScoringConfig, WaveResult, build_report
from scoring.charts import render_pack
from tests.test_scoring_support import synthetic_frame

UNITS = 40
RESPONSES = 6_000
ITEMS = 21
HISTORY = [WaveResult("2022-1", 68.2), WaveResult("2023-1", 70.4), WaveResult("2024-1", 72.9)]
TARGET_SECONDS = 1.5
TARGET_BYTES = 300 * 1024


def main(repeats: int = 7, language: str = "id") -> dict[str, Any]:
    """Render the pack `repeats` times (after one warm-up) and return timings and sizes."""
    frame, questionnaires, units = synthetic_frame(RESPONSES, UNITS, ITEMS, seed=11)
    report = build_report(
        frame,
        questionnaires,
        ScoringConfig(),
        wave="2025-1",
        wave_open=True,
        units=units,
        corrections=Corrections(1.2, 0.3),
        history=HISTORY,
        institution_name="Pemerintah Kabupaten Benchmark",
    )
    render_pack(report, language, HISTORY)  # warm-up: font cache, imports
    times = []
    pack: dict[str, bytes] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        pack = render_pack(report, language, HISTORY)
        times.append(time.perf_counter() - start)
    sizes = {name: len(png) for name, png in pack.items()}
    median = statistics.median(times)
    max_bytes = max(sizes.values())
    return {
        "units": UNITS,
        "repeats": repeats,
        "pack_median_seconds": round(median, 3),
        "pack_min_seconds": round(min(times), 3),
        "max_png_bytes": max_bytes,
        "png_bytes": sizes,
        "within_target": median <= TARGET_SECONDS and max_bytes <= TARGET_BYTES,
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    print(
        f"chart pack, {result['units']} units: median {result['pack_median_seconds']:.3f} s "
        f"(min {result['pack_min_seconds']:.3f} s) over {result['repeats']} runs; "
        f"max PNG {result['max_png_bytes'] / 1024:.0f} KB "
        f"({'within' if result['within_target'] else 'OVER'} target: "
        f"≤ {TARGET_SECONDS} s, ≤ {TARGET_BYTES // 1024} KB)"
    )
    for name, size in result["png_bytes"].items():
        print(f"  {name:<11} {size / 1024:6.0f} KB")
