"""The one release rule (services.release): every output that reads answers goes through it,
and a lone response submitted today shows in none of them while its wave is open.

The bot's own outputs (/saran, /ekspor, /skor, pushes) are played through the sandbox in
tests/test_e2e_release.py; here the services and the CLI, on a real SQLite file.
"""

from __future__ import annotations

import ast
import asyncio
import io
import json
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

import storage.db
import storage.waves
from bot.cli import main
from scoring.exports import ExportOptions
from services.admin import import_units_csv, open_wave
from services.release import released
from services.reports import ExportFormat, export_document, export_wave, load_comments, load_report
from services.settings import Settings
from surveys import Group
from tests.comment_data import add_suggestions
from tests.score_data import add_responses

ROOT: Final = Path(__file__).resolve().parent.parent
# The CLI reads the real clock, so the data is dated around the real today (WIB).
TODAY: Final = datetime.now(ZoneInfo("Asia/Jakarta")).date()
EARLIER: Final = TODAY - timedelta(days=2)
LONE: Final = "LONE-TODAY petugas loket 3 minta Rp50rb pungli"
BACKGROUND: Final = [
    "Antrean panjang",
    "Ada calo di depan",
    "Petugas ramah",
    "Ruang tunggu panas",
    "Parkir sempit",
]


def _references(path: Path) -> set[str]:
    """Return the names a module mentions as attributes or imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Name):
            found.add(node.id)
    return found


# Where the frames are defined, and what measures or tests them; everything else is an output.
NOT_OUTPUTS: Final = ("storage", "tests", "benchmarks")


def test_only_the_release_gate_reads_the_answer_frames() -> None:
    """A new output cannot forget the rule: reading answers anywhere else fails here.

    Every package of the repository counts, including ones added later (a Mini App, a PDF).
    """
    packages = [
        path
        for path in ROOT.iterdir()
        if path.is_dir() and (path / "__init__.py").is_file() and path.name not in NOT_OUTPUTS
    ]
    assert {"bot", "handlers", "services", "scoring"} <= {p.name for p in packages}
    readers = {
        str(path.relative_to(ROOT))
        for package in packages
        for path in package.rglob("*.py")
        if {"answers_frame", "responses_frame"} & _references(path)
    }
    assert readers == {"services/release.py"}


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An open wave: DPMPTSP external (5 suggestions) and DINKES internal (5) two days ago,
    and one lone DPMPTSP response submitted today."""
    tmp_path = tmp_path_factory.mktemp("release")
    url = f"sqlite+aiosqlite:///{tmp_path / 'release.db'}"
    now = datetime.now(UTC)

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            wave = await open_wave(db.engine, "2026-S1", now - timedelta(days=5))
            await add_suggestions(db.engine, wave, "DPMPTSP", BACKGROUND, now, completed_on=EARLIER)
            await add_responses(
                db.engine, wave, "DINKES", Group.INTERNAL, 5, now, completed_on=EARLIER
            )
            await add_suggestions(db.engine, wave, "DPMPTSP", [LONE], now, completed_on=TODAY)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def _url(env: Path) -> str:
    return env.read_text(encoding="utf-8").split("\n")[0].split("=", 1)[1]


async def _wave(db: storage.db.Database) -> storage.waves.Wave:
    wave = await storage.waves.current_wave(db.engine)
    assert wave is not None
    return wave


async def test_the_gate_holds_back_todays_lone_response(env_file: Path) -> None:
    async with storage.db.Database(_url(env_file)) as db:
        wave = await _wave(db)
        release = await released(db.engine, wave, k=5, today=TODAY, with_responses=True)
        assert release.provisional
        assert len(release.response_ids) == 10
        assert len(release.response_rows()) == 10
        assert dict(release.waiting) == {("DPMPTSP", Group.EXTERNAL): 1}
        assert LONE not in set(release.answers["value"])
        # Tomorrow the lone one is still alone in its step: one response is never a step.
        later = await released(db.engine, wave, k=5, today=TODAY + timedelta(days=1))
        assert LONE not in set(later.answers["value"])
        # A step of one (k=1) would let it out the next day, and never the same day.
        same_day = await released(db.engine, wave, k=1, today=TODAY)
        assert LONE not in set(same_day.answers["value"])
        next_day = await released(db.engine, wave, k=1, today=TODAY + timedelta(days=1))
        assert LONE in set(next_day.answers["value"])


async def test_scores_and_suggestions_leave_it_out(env_file: Path) -> None:
    async with storage.db.Database(_url(env_file)) as db:
        bundle = await load_report(db.engine, Settings(), today=TODAY)
        assert bundle is not None
        unit = next(u for u in bundle.report.units if u.code == "DPMPTSP")
        external = next(g for g in unit.groups if g.group is Group.EXTERNAL)
        assert external.n == 5
        found = await load_comments(db.engine, None, k=5, today=TODAY)
    texts = [c.text for c in found.review.comments]
    assert sorted(texts) == sorted(BACKGROUND)
    assert LONE not in texts
    # The keyword chart is drawn from these counts: "pungli" is only in the lone one.
    assert dict(found.review.keyword_counts)["pungli"] == 0


async def test_exports_leave_it_out(env_file: Path, tmp_path: Path) -> None:
    options = ExportOptions(k=5, free_text=True)
    async with storage.db.Database(_url(env_file)) as db:
        result = await export_wave(
            db.engine, "2026-S1", tmp_path, ExportFormat.CSV, options, today=TODAY
        )
        document, _, summary = await export_document(db.engine, None, 5, TODAY)
    data = pd.read_csv(tmp_path / "data.csv")
    assert result.responses == len(data) == 10
    assert result.provisional
    assert LONE not in (tmp_path / "data.csv").read_text(encoding="utf-8")
    assert sorted(data.loc[data["unit"] == "DPMPTSP", "saran"]) == sorted(BACKGROUND)
    assert summary.responses == 10
    sheet = openpyxl.load_workbook(io.BytesIO(document), read_only=True)["data"]
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + 10


def test_cli_outputs_leave_it_out(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x"
    args = ["--env-file", str(env_file), "export", "--wave", "2026-S1", "--out", str(out)]
    assert main([*args, "--free-text", "--format", "xlsx"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 10 responses" in printed
    assert "open wave: responses released as of" in printed
    book = openpyxl.load_workbook(out / "export.xlsx", read_only=True)
    cells = [v for row in book["data"].iter_rows(values_only=True) for v in row]
    assert LONE not in cells
    assert main(["--env-file", str(env_file), "comments"]) == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0] == "suggestions in wave 2026-S1: 5 (k=5)"
    assert "LONE-TODAY" not in listing
    assert "Antrean panjang" in listing
    assert str(EARLIER) not in listing  # no dates beside suggestions
    assert main(["--env-file", str(env_file), "score", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    unit = next(u for u in report["units"] if u["code"] == "DPMPTSP")
    assert next(g["n"] for g in unit["groups"] if g["group"] == "external") == 5


async def test_a_closed_wave_is_released_whole(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'closed.db'}"
    async with storage.db.Database(url) as db:
        csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
        with resources.as_file(csv) as path:
            await import_units_csv(db.engine, path)
        now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        wave = await open_wave(db.engine, "2026-S1", now)
        await add_suggestions(db.engine, wave, "DPMPTSP", [*BACKGROUND, LONE], now)
        assert await storage.waves.close_wave(db.engine, wave.id, now)
        found = await load_comments(db.engine, None, k=5, today=now.date())
        closed = await storage.waves.get_wave(db.engine, "2026-S1")
        assert closed is not None
        release = await released(db.engine, closed, k=5, today=now.date())
    assert LONE in [c.text for c in found.review.comments]
    assert len(release.response_ids) == 6
    assert not release.provisional


def test_today_is_the_institutions_day() -> None:
    """`today` is taken in the bot's zone: 23:30 UTC is already tomorrow in WIB."""
    from services.context import Services
    from services.release import today_for

    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    services = Services(settings=Settings(), db=None, secret=b"x" * 16, clock=lambda: late)  # type: ignore[arg-type]
    assert today_for(services) == date(2026, 3, 2)
