"""`spibot score`, `correction`, `grant` and `report` against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

import storage.db
from bot.cli import main
from services.admin import import_units_csv, open_wave
from surveys import Group
from tests.score_data import add_responses

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """A settings file pointing at a database with units, an open wave and some answers."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            wave = await open_wave(db.engine, "2026-S1", NOW)
            for group in Group:
                await add_responses(db.engine, wave, "DINKES", group, 5, NOW)

    # The CLI runs its own event loop, so the fixture is synchronous too.
    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\nBOT_USERNAME=spi_test_bot\n",
        encoding="utf-8",
    )
    return env


def _spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


def test_score_text_and_json(env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _spibot(env_file, "score") == 0
    out = capsys.readouterr().out
    assert "wave 2026-S1 (open, provisional)" in out
    assert "DINKES" in out

    assert _spibot(env_file, "score", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["wave"] == "2026-S1"
    assert data["provisional"] is True
    assert data["institution"]["index"] is not None

    assert _spibot(env_file, "score", "--unit", "DINKES", "--json") == 0
    unit = json.loads(capsys.readouterr().out)["unit"]
    assert unit["code"] == "DINKES"

    assert _spibot(env_file, "score", "--unit", "NOPE") == 2
    assert "unknown unit code" in capsys.readouterr().err
    assert _spibot(env_file, "score", "--wave", "1999") == 2
    assert "no wave named" in capsys.readouterr().err


def test_corrections_set_list_and_apply(env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _spibot(env_file, "correction", "list") == 0
    assert "no corrections" in capsys.readouterr().out
    args = ["correction", "set", "--integrity", "3.28", "--prevalence", "0.32"]
    assert _spibot(env_file, *args, "--note", "kasus 2025") == 0
    assert _spibot(env_file, *args[:3], "1.0", "--prevalence", "0", "--note", "revisi") == 0
    capsys.readouterr()
    assert _spibot(env_file, "correction", "list") == 0
    listing = capsys.readouterr().out
    assert listing.index("revisi") < listing.index("kasus 2025")
    assert "(in force)" in listing
    assert "(replaced)" in listing

    assert _spibot(env_file, "score", "--json") == 0
    corrections = json.loads(capsys.readouterr().out)["institution"]["corrections"]
    assert corrections == {"integrity": 1.0, "prevalence": 0.0, "note": "revisi"}

    for value in ("-1", "inf", "nan", "21"):
        bad = ["correction", "set", "--integrity", value, "--prevalence", "0", "--note", "x"]
        assert _spibot(env_file, *bad) == 2
        err = capsys.readouterr().err
        assert "from 0 to 20" in err
        assert "Traceback" not in err
    # Nothing bad was stored: scoring still works and the last good correction is in force.
    assert _spibot(env_file, "score", "--json") == 0
    corrections = json.loads(capsys.readouterr().out)["institution"]["corrections"]
    assert corrections["integrity"] == 1.0


def test_grant_prints_one_time_link(env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _spibot(env_file, "grant", "--role", "leadership") == 0
    link = capsys.readouterr().out.splitlines()[0]
    assert link.startswith("https://t.me/spi_test_bot?start=g")
    assert _spibot(env_file, "grant", "--role", "unit_head", "--unit", "DINKES") == 0
    assert "unit head of DINKES" in capsys.readouterr().out
    assert _spibot(env_file, "grant", "--role", "unit_head") == 2
    assert "--unit is required" in capsys.readouterr().err
    assert _spibot(env_file, "grant", "--role", "unit_head", "--unit", "NOPE") == 2
    assert "unknown unit" in capsys.readouterr().err


def test_report_writes_pngs_and_markdown(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pack"
    assert _spibot(env_file, "report", "--out", str(out), "--language", "en") == 0
    assert "wrote 6 charts" in capsys.readouterr().out
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs[0] == "01-index.png"
    assert len(pngs) == 6
    summary = (out / "report.md").read_text(encoding="utf-8")
    assert "![index](01-index.png)" in summary
    assert "**Integrity Index" in summary
    assert "<b>" not in summary


def test_a_correction_of_a_closed_wave_is_a_dated_revision(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The officer's path: close the wave (its report is frozen), enter a correction later."""
    assert _spibot(env_file, "wave", "close") == 0
    assert "final report is frozen" in capsys.readouterr().out
    assert _spibot(env_file, "score", "--json") == 0
    frozen = json.loads(capsys.readouterr().out)["institution"]["index"]

    args = ["correction", "set", "--wave", "2026-S1", "--integrity", "3.28", "--prevalence"]
    assert _spibot(env_file, *args, "0.32", "--note", "putusan pengadilan") == 0
    out = capsys.readouterr().out
    assert "revision 2 of the final report, dated" in out
    assert "Integrity correction: 0.00 → 3.28" in out
    assert f"Index: {frozen:.2f} → {frozen - 3.6:.2f}" in out

    assert _spibot(env_file, "score") == 0
    text = capsys.readouterr().out
    assert "Revised" in text
    assert "(revision 2): a new correction — putusan pengadilan." in text
    assert _spibot(env_file, "correction", "list", "--wave", "2026-S1") == 0
    listing = capsys.readouterr().out
    assert "1. " in listing
    assert "final" in listing
    assert "2. " in listing
    assert "correction  putusan pengadilan" in listing

    # A wave that does not exist: one clear line, nothing stored.
    assert _spibot(env_file, *args, "0", "--wave", "2099-S9", "--note", "x") == 2
    err = capsys.readouterr().err
    assert "no wave named '2099-S9'" in err
    assert "Traceback" not in err


def test_report_writes_the_rakor_pdf(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`spibot report --pdf`: a PDF whose cover carries the index `spibot score` prints."""
    import io

    import pypdf

    assert _spibot(env_file, "wave", "close") == 0  # everything published: a final report
    assert _spibot(env_file, "score", "--json") == 0
    capsys.readouterr()
    assert _spibot(env_file, "score") == 0
    index = re.search(r"index (\d+\.\d\d)", capsys.readouterr().out)
    assert index is not None

    target = tmp_path / "laporan.pdf"
    assert _spibot(env_file, "report", "--pdf", str(target), "--language", "en") == 0
    out = capsys.readouterr().out
    pages = int(re.search(r"(\d+) pages", out).group(1))  # type: ignore[union-attr]
    assert "(final)" in out
    pdf = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    assert len(pdf.pages) == pages >= 49 + 4
    cover = " ".join(pdf.pages[0].extract_text().split())
    assert "Integrity Assessment Survey Report" in cover
    assert index.group(1) in cover
    assert "FINAL" in cover
    assert pdf.metadata is not None
    assert "2026-S1" in (pdf.metadata.title or "")

    unit = tmp_path / "dinkes.pdf"
    assert _spibot(env_file, "report", "--pdf", str(unit), "--unit", "DINKES") == 0
    capsys.readouterr()
    assert 2 <= len(pypdf.PdfReader(unit).pages) <= 4

    # Bad input: one clear line each, exit 2, nothing written.
    for args, message in [
        (["report"], "give --out FOLDER"),
        (["report", "--pdf", str(tmp_path / "x.pdf"), "--wave", "2099-S9"], "no wave named"),
        (["report", "--pdf", str(tmp_path / "x.pdf"), "--unit", "NOPE"], "unknown unit code"),
        (["report", "--out", str(tmp_path / "o"), "--unit", "DINKES"], "give --pdf FILE too"),
        (["report", "--pdf", str(tmp_path)], "is a folder"),
    ]:
        assert _spibot(env_file, *args) == 2, args
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


def test_no_pdf_for_a_wave_without_responses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            await open_wave(db.engine, "2026-S2", NOW)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    assert _spibot(env, "report", "--pdf", str(tmp_path / "x.pdf")) == 2
    assert "wave '2026-S2' has no responses yet" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
