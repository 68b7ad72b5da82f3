"""`spibot peers` and `spibot whatif` against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import storage.db
import storage.units
from bot.cli import main
from services.admin import import_units_csv, open_wave
from surveys import Group
from tests.score_data import add_responses

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _env(tmp_path: Path, name: str, institution: tuple[str, str] | None = None) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            if institution is not None:
                await storage.units.set_institution(db.engine, *institution)
            wave = await open_wave(db.engine, "2026-S1", NOW)
            for group in Group:
                await add_responses(db.engine, wave, "DINKES", group, 5, NOW)
            # Two responses: every number of this unit is suppressed (k = 5).
            await add_responses(db.engine, wave, "SETDA", Group.INTERNAL, 2, NOW)

    asyncio.run(prepare())
    env = tmp_path / f"{name}.env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The commands only read: one database serves every test of this module.
    return _env(tmp_path_factory.mktemp("insight"), "cli")


def _spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


def test_peers_json_percentile_matches_pandas(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _spibot(env_file, "peers", "--year", "2022", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    (year,) = data["years"]
    path = resources.files("scoring.data") / "spi-published.csv"
    with resources.as_file(path) as p:
        frame = pd.read_csv(p)
    kab = frame[(frame["year"] == 2022) & (frame["level"] == "kabupaten")]
    assert year["index"] == 74.0
    assert year["percentile"] == round((kab["index"] < 74.0).mean() * 100, 2)
    assert year["of"] == len(kab)
    assert all(p["province_code"] == "35" for p in year["peers"])

    assert _spibot(env_file, "peers") == 0
    text = capsys.readouterr().out
    assert "2022: 74.00 Alert, percentile 72.44" in text
    assert "nearest peers 2025" in text


def test_peers_of_an_unknown_institution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _env(tmp_path, "atlantis", ("Pemerintah Kabupaten Atlantis", "kabupaten"))
    assert _spibot(env, "peers") == 1
    assert "no published SPI result" in capsys.readouterr().out
    assert _spibot(env, "peers", "--json") == 1
    assert json.loads(capsys.readouterr().out)["found"] is False


def test_whatif_text_and_json(env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _spibot(env_file, "score", "--json") == 0
    before = json.loads(capsys.readouterr().out)["institution"]["index"]
    args = ["whatif", "--dimension", "procurement", "--delta", "5", "--json"]
    assert _spibot(env_file, *args, "--group", "internal", "--group", "expert") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groups"] == ["internal", "expert"]
    assert data["before"]["index"] == before
    assert data["after"]["index"] >= before
    assert _spibot(env_file, "whatif", "--dimension", "procurement", "--delta", "5") == 0
    assert "procurement +5.00 in internal, external, expert" in capsys.readouterr().out
    assert _spibot(env_file, "whatif", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["target"] == "terjaga"
    assert plan["reached"] is False
    assert _spibot(env_file, "whatif") == 0
    out = capsys.readouterr().out
    assert "smallest lift per dimension to reach Maintained" in out
    # Seven dimensions: one of them alone cannot lift 51 to 78.
    assert "not enough even at +100" in out


def test_whatif_on_a_suppressed_unit_shows_no_number(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["whatif", "--dimension", "transparency", "--delta", "5", "--unit", "SETDA"]
    assert _spibot(env_file, *args, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["after"]["groups"]["internal"] is None
    assert data["after"]["index"] is None
    assert data["after"]["partial_index"] is None
    assert data["lifted_groups"] == []
    assert _spibot(env_file, *args) == 0
    out = capsys.readouterr().out
    assert "internal  insufficient" in out
    assert _spibot(env_file, "whatif", "--unit", "SETDA") == 0
    assert "no complete index" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dimension", "procurement"], "together"),
        (["--delta", "5"], "together"),
        (["--group", "internal"], "--group needs"),
        (["--dimension", "bribes", "--delta", "5"], "unknown dimension"),
        (["--dimension", "procurement", "--delta", "500"], "between -100 and 100"),
        (["--dimension", "procurement", "--delta", "nan"], "between -100 and 100"),
        (["--unit", "NOPE"], "unknown unit code"),
        (["--wave", "1999"], "no wave named"),
    ],
)
def test_whatif_bad_input(
    env_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert _spibot(env_file, "whatif", *args) == 2
    assert message in capsys.readouterr().err
