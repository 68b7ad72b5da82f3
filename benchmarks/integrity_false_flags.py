"""The survey-integrity signals on simulated waves: how often an honest unit is flagged.

`python -m benchmarks.integrity_false_flags [--waves 20] [--units 30]` simulates one
all-honest wave per seed (`sandbox.integrity_sim`: a kabupaten-like mix of units, people
answering over ten days in waking hours) and counts the unit × group cells any signal flags:
the false-flag rate docs/scoring.md §11 reports. Then, on the same seeds, one coached and one
rushing unit are added to each wave and it counts how often each is caught. Not part of
`make test` (about a minute and a half); the suite runs a small seeded version
(tests/test_scoring_integrity.py).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

from sandbox.integrity_sim import (
    WIB,
    Behaviour,
    UnitPlan,
    false_flags,
    honest_units,
    simulate_wave,
    wave_frames,
)
from scoring.config import IntegrityConfig
from scoring.integrity import SignalKind, find_signals
from surveys import Group, bundled_questionnaires

OPENS = datetime(2026, 3, 2, 0, 0, tzinfo=WIB)


def detection(seeds: range, units: int) -> dict[str, int]:
    """Per seed, a wave with a coached and a rushing unit: how often each is caught (and
    how many other cells are flagged)."""
    caught = {"coached": 0, "rushing": 0, "other_cells_flagged": 0}
    for seed in seeds:
        plans = honest_units(units, seed)
        plans[0] = UnitPlan(plans[0].code, Behaviour.COACHED, plans[0].respondents)
        plans[1] = UnitPlan(plans[1].code, Behaviour.RUSHING, plans[1].respondents)
        answers, arrivals = wave_frames(simulate_wave(plans, seed=seed, opens=OPENS))
        found = find_signals(answers, arrivals, bundled_questionnaires(), IntegrityConfig(), 5)
        for cell in found.flagged:
            kinds = {s.kind for s in cell.signals}
            internal = cell.group is Group.INTERNAL
            if internal and cell.unit_code == plans[0].code and SignalKind.BURST in kinds:
                caught["coached"] += 1
            elif internal and cell.unit_code == plans[1].code and SignalKind.RUSHING in kinds:
                caught["rushing"] += 1
            else:
                caught["other_cells_flagged"] += 1
    return caught


def main() -> None:
    """Print the false-flag rate and the detection counts as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=20)
    parser.add_argument("--units", type=int, default=30)
    args = parser.parse_args()
    seeds = range(1, args.waves + 1)
    started = time.perf_counter()
    honest = false_flags(seeds, units=args.units)
    caught = detection(range(1001, 1001 + args.waves), args.units)
    print(
        json.dumps(
            {
                "waves": honest.waves,
                "honest_cells": honest.cells,
                "honest_cells_flagged": honest.flagged,
                "false_flag_rate": round(honest.rate, 4),
                "waves_with_a_false_flag": honest.waves_flagged,
                "false_flags_by_signal": honest.by_kind,
                "coached_units_caught": caught["coached"],
                "rushing_units_caught": caught["rushing"],
                "other_cells_flagged_in_those_waves": caught["other_cells_flagged"],
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
