"""`spibot export`: files open with pandas/openpyxl, match the database, and protect people.

The wave is closed here (released whole); tests/test_release_gate.py exports an open wave."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

import storage.db
import storage.waves
from bot.cli import main
from services.admin import import_units_csv, open_wave
from storage.answers import answers, responses
from surveys import Group
from tests.comment_data import add_suggestions
from tests.score_data import add_responses

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SUGGESTION = "Antrean di loket terlalu panjang, mohon tambah petugas"


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database (built once: the tests only read it) with small and large cells."""
    tmp_path = tmp_path_factory.mktemp("exports")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            wave = await open_wave(db.engine, "2026-S1", NOW)
            for group in Group:
                await add_responses(db.engine, wave, "DINKES", group, 5, NOW)
            await add_responses(db.engine, wave, "DISDIK", Group.INTERNAL, 2, NOW, seed=2)
            await add_responses(db.engine, wave, "BAPPEDA", Group.INTERNAL, 3, NOW, seed=3)
            await add_suggestions(db.engine, wave, "DPMPTSP", [SUGGESTION] * 6, NOW)
            await add_responses(db.engine, wave, "DISHUB", Group.EXPERT, 1, NOW, seed=4)
            await storage.waves.close_wave(db.engine, wave.id, NOW)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


async def database_answers(env: Path) -> tuple[int, int]:
    url = env.read_text(encoding="utf-8").split("\n")[0].split("=", 1)[1]
    async with storage.db.Database(url) as db, db.engine.connect() as conn:
        n_responses = (await conn.execute(select(func.count()).select_from(responses))).scalar_one()
        n_answers = (await conn.execute(select(func.count()).select_from(answers))).scalar_one()
    return int(n_responses), int(n_answers)


def test_csv_export_matches_the_database_and_merges_small_cells(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert spibot(env_file, "export", "--wave", "2026-S1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    data = pd.read_csv(out / "data.csv")
    codebook = pd.read_csv(out / "codebook.csv")
    options = pd.read_csv(out / "options.csv")
    n_responses, _ = asyncio.run(database_answers(env_file))
    # DISDIK (2) and BAPPEDA (3) internal merge into one "lainnya" cell of 5; DISHUB's one
    # expert is still alone after merging, so that response is withheld.
    assert len(data) == n_responses - 1
    assert "3 unit × group cells under k=5 merged into 'lainnya'; 1 responses withheld" in printed
    cells = data.groupby(["unit", "group"]).size().to_dict()
    assert cells == {
        ("DINKES", "expert"): 5,
        ("DINKES", "external"): 5,
        ("DINKES", "internal"): 5,
        ("DPMPTSP", "external"): 6,
        ("lainnya", "internal"): 5,
    }
    assert (data.groupby(["unit", "group"]).size() >= 5).all()
    # Free text is left out by default, and said so.
    assert "saran" not in data.columns
    assert "free-text answers left out (saran); add --free-text" in printed
    assert SUGGESTION not in (out / "data.csv").read_text(encoding="utf-8")
    # Columns and values match what was stored.
    # No date, duration or language: what a colleague could have seen of a respondent
    # (docs/exports.md).
    assert list(data.columns[:5]) == [
        "wave",
        "group",
        "unit",
        "excluded_by_quality",
        "quality_flags",
    ]
    hidden = {"completed_on", "duration_seconds", "duration_band", "pace_band", "language"}
    assert not hidden & set(data.columns)
    dpmptsp = data[data["unit"] == "DPMPTSP"]
    # Rows in the order of their content within a unit, never of their arrival.
    assert list(dpmptsp["kunjungan"]) == [1, 2, 3, 4, 5, 6]
    assert set(dpmptsp["ti_diminta"]) == {"yes"}
    assert set(dpmptsp["ti_diminta_score"]) == {0.0}  # reverse: asked to pay scores 0
    # The codebook describes every column, in both languages, with codes and scores.
    assert set(data.columns) <= set(codebook["column"])
    row = codebook.set_index("column").loc["ti_diminta"]
    assert row["dimension"] == "task_integrity"
    assert bool(row["reverse"]) is True
    assert "yes=Ya (100)" in row["codes"]
    assert "petugas" in row["text_id"]
    quality = codebook.set_index("column").loc["excluded_by_quality"]
    assert "quality" in quality["text_en"]
    yes = options[(options["column"] == "ti_diminta") & (options["value"] == "yes")]
    assert yes[["label_id", "label_en", "score"]].values.tolist() == [["Ya", "Yes", 100.0]]


def test_free_text_and_no_merge_are_explicit(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "full"
    args = ["export", "--wave", "2026-S1", "--out", str(out), "--free-text", "--no-merge-small"]
    assert spibot(env_file, *args) == 0
    captured = capsys.readouterr()
    assert "warning: --no-merge-small keeps unit × group cells" in captured.err
    data = pd.read_csv(out / "data.csv")
    assert len(data) == asyncio.run(database_answers(env_file))[0]
    assert "lainnya" not in set(data["unit"])
    assert set(data["saran"].dropna()) == {SUGGESTION}


def test_xlsx_has_data_codebook_and_options_sheets(env_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    assert (
        spibot(env_file, "export", "--wave", "2026-S1", "--out", str(out), "--format", "xlsx") == 0
    )
    book = openpyxl.load_workbook(out / "export.xlsx", read_only=True)
    assert book.sheetnames == ["data", "codebook", "options"]
    data = pd.read_excel(out / "export.xlsx", sheet_name="data")
    csv_out = tmp_path / "c"
    assert spibot(env_file, "export", "--wave", "2026-S1", "--out", str(csv_out)) == 0
    assert len(data) == len(pd.read_csv(csv_out / "data.csv"))
    assert list(data.columns) == list(pd.read_csv(csv_out / "data.csv").columns)


def test_stata_file_opens_with_labels(env_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert (
        spibot(env_file, "export", "--wave", "2026-S1", "--out", str(out), "--format", "stata") == 0
    )
    data = pd.read_stata(out / "data.dta")
    with pd.io.stata.StataReader(out / "data.dta") as reader:
        labels = reader.variable_labels()
    csv_out = tmp_path / "c"
    assert spibot(env_file, "export", "--wave", "2026-S1", "--out", str(csv_out)) == 0
    assert len(data) == len(pd.read_csv(csv_out / "data.csv"))
    assert labels["ti_diminta"].startswith("Dalam 12 bulan terakhir")
    assert labels["excluded_by_quality"].startswith("Benar bila")
    assert all(len(name) <= 32 for name in data.columns)
    codebook = pd.read_csv(out / "codebook.csv")
    assert "stata_name" in codebook.columns
    assert "completed_on" not in data.columns


def test_parquet_without_pyarrow_is_refused_clearly(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        args = ["export", "--wave", "2026-S1", "--out", str(tmp_path / "p"), "--format", "parquet"]
        assert spibot(env_file, *args) == 2
        assert "parquet needs the optional pyarrow package" in capsys.readouterr().err
    else:
        args = ["export", "--wave", "2026-S1", "--out", str(tmp_path / "p"), "--format", "parquet"]
        assert spibot(env_file, *args) == 0
        assert len(pd.read_parquet(tmp_path / "p" / "data.parquet")) > 0


def test_bad_input(env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert spibot(env_file, "export", "--wave", "2025-X", "--out", str(tmp_path)) == 2
    assert capsys.readouterr().err.strip() == "error: no wave named '2025-X' (waves: 2026-S1)"
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert spibot(env_file, "export", "--wave", "2026-S1", "--out", str(blocker)) == 2
    assert capsys.readouterr().err.startswith("cannot write: ")
    with pytest.raises(SystemExit):
        spibot(env_file, "export", "--wave", "2026-S1", "--out", str(tmp_path), "--format", "sav")
