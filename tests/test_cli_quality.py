"""`spibot quality`: the findings as text and JSON, per-item paradata, exclude and restore,
against a real SQLite file holding a simulated, closed wave (issue 24)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import storage.db
from bot.cli import main
from services.reports import revisions
from services.settings import load_settings
from tests.integrity_data import after_wave, simulated_wave


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A settings file pointing at a database with the simulated wave, closed (a closed wave
    is released whole, whatever today's date)."""
    tmp_path = tmp_path_factory.mktemp("quality")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            wave = await simulated_wave(db.engine)
            settings = load_settings(None, spibot_secret="s" * 24, database_url=url)
            assert await revisions.close_wave(db.engine, settings, wave, after_wave())

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def _spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


def test_quality_json_has_exactly_the_issues_shape(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _spibot(env_file, "quality", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"wave", "units"}
    assert data["wave"] == "2026-S1"
    for cell in data["units"]:
        assert set(cell) == {"unit", "group", "n", "signals"}
        assert cell["n"] >= 5  # a cell under k is never listed
        for signal in cell["signals"]:
            assert set(signal) == {"kind", "responses", "evidence"}
            assert signal["kind"] in {"burst", "uniform", "rushing", "contradiction"}
            assert signal["responses"] >= 5
    flagged = {(c["unit"], c["group"]): c["signals"] for c in data["units"] if c["signals"]}
    assert set(flagged) == {("DINKES", "internal"), ("DISPENDUKCAPIL", "internal")}
    kinds = {s["kind"]: s for s in flagged[("DINKES", "internal")]}
    assert {"burst", "uniform"} <= set(kinds)
    assert "arrived within one hour on 5 March 2026 (08:00–09:00)" in kinds["burst"]["evidence"]
    assert _spibot(env_file, "quality", "--json", "--language", "id") == 0
    indonesian = json.loads(capsys.readouterr().out)
    assert any(
        "menjawab lebih cepat dari 2 detik" in s["evidence"]
        for c in indonesian["units"]
        for s in c["signals"]
    )


def test_exclude_needs_yes_makes_a_revision_and_restore_undoes_it(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _spibot(env_file, "quality") == 0
    text = capsys.readouterr().out
    assert "Survey quality — wave 2026-S1" in text
    assert "The wave is closed; every response was checked." in text
    assert "Without these" in text

    args = ["quality", "exclude", "--unit", "DINKES", "--group", "internal", "--kind", "burst"]
    assert _spibot(env_file, *args, "--reason", "pengarahan setelah apel") == 0
    shown = capsys.readouterr().out
    assert "nothing excluded yet: run the same command with --yes" in shown
    assert "--yes writes a dated revision of its final report" in shown
    assert _spibot(env_file, *args, "--reason", "  ") == 2
    assert "give a reason" in capsys.readouterr().err
    assert _spibot(env_file, *args[:-1], "rushing", "--reason", "x") == 2
    assert "DINKES (internal) has no rushing signal" in capsys.readouterr().err

    assert (
        _spibot(env_file, *args, "--reason", "pengarahan setelah apel", "--by", "ani", "--yes") == 0
    )
    done = capsys.readouterr().out
    assert "excluded as #1: 10 responses (pengarahan setelah apel)" in done
    assert "revision 2 of the final report" in done
    assert _spibot(env_file, "score") == 0
    score = capsys.readouterr().out
    assert "excluded #1: DINKES internal, 10 responses (burst," in score
    assert "excluded by the inspectorate 10" in score
    assert _spibot(env_file, "quality") == 0
    assert (
        "#1 Dinas Kesehatan — Employees: 10 responses excluded (Burst)" in capsys.readouterr().out
    )
    assert _spibot(env_file, "correction", "list", "--wave", "2026-S1") == 0
    listed = capsys.readouterr().out
    assert "exclusion  pengarahan setelah apel" in listed

    assert _spibot(env_file, "quality", "restore", "--exclusion", "1") == 0
    assert "run the same command with --yes" in capsys.readouterr().out
    assert _spibot(env_file, "quality", "restore", "--exclusion", "1", "--yes") == 0
    restored = capsys.readouterr().out
    assert "restored #1" in restored
    assert "revision 3 of the final report" in restored
    assert _spibot(env_file, "quality", "restore", "--exclusion", "1", "--yes") == 2
    assert "no exclusion #1 in force" in capsys.readouterr().err


def test_items_show_each_question_of_a_closed_wave(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _spibot(env_file, "quality", "--items") == 0
    out = capsys.readouterr().out
    assert "Data per question — wave 2026-S1" in out
    assert "Employees (internal v3)" in out
    assert "ti_pungli: shown " in out
    assert out.index("Employees (internal v3)") < out.index("Service users (external v3)")
    # A question behind skip logic that fewer than k people saw says so, with no numbers.
    assert "ti_membayar: fewer than 5 people saw it — hidden" in out
    assert "sos_wbs_aman: shown " in out
    # The rushing unit's people spent under 3 seconds on an item; nobody stopped midway.
    assert "time 0-3 s " in out
    assert "stopped here 0;" in out
