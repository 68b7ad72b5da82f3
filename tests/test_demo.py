"""`spibot demo` end to end: the real bot, simulated respondents, a repeatable summary."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main

pytestmark = pytest.mark.e2e


def test_demo_runs_offline_and_is_repeatable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--respondents", "12", "--seed", "7", "--json"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*args, "--out", str(tmp_path / "two")]) == 0
    second = json.loads(capsys.readouterr().out)

    results = []
    for summary in (first, second):
        summary.pop("out")
        summary.pop("report", None)
        # The leadership result is scored from the stored answers, and the speeder rule reads
        # how fast people answered, which is real time (a busy machine answers slower): the
        # same answers can score a little differently. The answers themselves are compared
        # below; the result's shape here.
        results.append(summary["leadership_report"].pop("result"))
    assert first == second  # the seed makes runs repeatable
    assert results[0].keys() == results[1].keys()
    assert first["respondents"] == 12
    started = sum(g.get("started", 0) for g in first["by_group"].values())
    completed = sum(g.get("completed", 0) for g in first["by_group"].values())
    assert started == 12
    assert completed >= 8
    stored = sum(sum(row.values()) for row in first["stored_submitted"].values())
    assert stored == completed  # what the simulated people finished is what the database holds
    assert (tmp_path / "one" / "demo.db").exists()
    # ...down to every stored answer (only answering times are real, so they may differ).
    assert _answers(tmp_path / "one" / "demo.db") == _answers(tmp_path / "two" / "demo.db")
    # The result the leadership group received is part of the summary (tests/test_demo_result.py
    # checks its content on a wave large enough for an index).
    result = results[0]
    assert result["final"] is True
    assert set(result["groups"]) == {"internal", "external", "expert"}
    assert result["charts"] == first["leadership_report"]["charts"]


def _answers(path: Path) -> list[tuple[str, str, str]]:
    """Every stored answer with its group, in a stable order (response ids aside)."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT r.grp, a.question_id, a.value FROM answers a "
            "JOIN responses r ON r.id = a.response_id"
        ).fetchall()
    return sorted(rows)
