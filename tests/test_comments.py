"""Free-text review: suggestions by unit and question, alphabetical and undated, k-suppressed,
with keywords. The wave is closed here (released whole); tests/test_release_gate.py has the open
wave's release rule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image

import storage.db
import storage.waves
from bot.cli import main
from services.admin import import_units_csv, open_wave
from services.reports import load_comments
from tests.comment_data import add_suggestions

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
YESTERDAY = (NOW - timedelta(days=1)).date()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DPMPTSP: 6 responses over two days; three small units that pool to 6; wave closed."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('comments') / 'bot.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            wave = await open_wave(db.engine, "2026-S1", NOW)
            old = ["Antrean panjang sekali", "Ada calo di depan kantor", None]
            new = ["Antri dari pagi, mohon tambah loket", "Petugas ramah", "Ada pungli dan calo"]
            await add_suggestions(db.engine, wave, "DPMPTSP", old, NOW, completed_on=YESTERDAY)
            await add_suggestions(db.engine, wave, "DPMPTSP", new, NOW)
            await add_suggestions(db.engine, wave, "DISPENDUKCAPIL", ["Antrean KTP lama"] * 2, NOW)
            await add_suggestions(db.engine, wave, "KEC-SOOKO", ["Biaya tidak jelas"] * 3, NOW)
            await add_suggestions(db.engine, wave, "DINKES", ["Nama saya Budi, kasir"], NOW)
            await storage.waves.close_wave(db.engine, wave.id, NOW + timedelta(days=1))

    asyncio.run(prepare())
    return url


async def review(url: str, unit: str | None = None, k: int = 5):
    async with storage.db.Database(url) as db:
        return await load_comments(db.engine, None, k=k, today=NOW.date(), unit=unit)


async def test_grouped_alphabetically_undated_and_k_suppressed(database: str) -> None:
    found = await review(database)
    comments = found.review.comments
    assert [c.unit for c in comments] == ["DPMPTSP"] * 5 + ["lainnya"] * 6
    # Alphabetical, whatever the day each was sent: the order tells nothing about time, and a
    # comment carries no date at all.
    dpmptsp = [c.text for c in comments if c.unit == "DPMPTSP"]
    assert dpmptsp == sorted(dpmptsp, key=str.casefold)
    assert dpmptsp[0] == "Ada calo di depan kantor"
    assert not hasattr(comments[0], "completed_on")
    assert all(c.question_id == "saran" for c in comments)
    assert comments[0].question.en.startswith("What")
    # Units under k are only ever shown pooled: no comment carries their name.
    assert found.review.withheld == 0
    assert found.review.merged_cells == 3
    assert {c.unit for c in comments if "Budi" in c.text} == {"lainnya"}
    counts = dict(found.review.keyword_counts)
    # Counted per comment: "Antrean", "Antri" and the two pooled "Antrean KTP" comments.
    assert counts["antrean"] == 4
    assert counts["calo"] == 2
    assert counts["pungli"] == 1
    assert counts["biaya"] == 3
    assert found.review.keyword_counts[0] == ("antrean", 4)


async def test_one_unit_and_a_small_unit(database: str) -> None:
    only = await review(database, "DPMPTSP")
    assert {c.unit for c in only.review.comments} == {"DPMPTSP"}
    small = await review(database, "DISPENDUKCAPIL")  # 2 responses: only inside "lainnya"
    assert small.review.comments == ()
    # With k above every pool, nothing is shown and everything is counted as withheld.
    strict = await review(database, k=13)
    assert strict.review.comments == ()
    assert strict.review.withheld == 12


def test_cli_prints_the_review_and_writes_the_chart(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={database}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    chart = tmp_path / "keywords.png"
    assert main(["--env-file", str(env), "comments", "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "suggestions in wave 2026-S1: 11 (k=5)"
    assert any(line.startswith("  saran (external): Apa saran Anda") for line in lines)
    assert out.index("Ada calo di depan kantor") < out.index("Ada pungli dan calo")
    assert "2026-03" not in out  # no dates beside suggestions
    assert out.index("DPMPTSP") < out.index("lainnya")
    assert "  antrean          4" in lines
    with Image.open(chart) as image:
        assert image.width == 1080
    assert main(["--env-file", str(env), "comments", "--wave", "2030"]) == 2
    assert capsys.readouterr().err.strip() == "error: no wave named '2030' (waves: 2026-S1)"


def test_no_suggestions_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(csv) as path:
                await import_units_csv(db.engine, path)
            await open_wave(db.engine, "2026-S1", NOW)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    assert main(["--env-file", str(env), "comments", "--chart", str(tmp_path / "c.png")]) == 0
    assert capsys.readouterr().out.startswith("suggestions in wave 2026-S1: 0 (k=5)")
    assert (tmp_path / "c.png").stat().st_size > 0


def _found(comments, counts=(("antrean", 2), ("calo", 0)), unit=None, empty=None, waiting=0):
    from datetime import date

    from scoring.comments import CommentReview
    from services.reports import WaveComments
    from storage.waves import Wave, WaveStatus

    wave = Wave(1, "2026-S1", WaveStatus.OPEN, NOW, None, {})
    del date
    review = CommentReview(tuple(comments), tuple(counts), 0, 0)
    return WaveComments(wave, review, unit, empty, waiting)


def _comment(text: str, unit: str = "DINKES"):
    from scoring.comments import Comment
    from surveys import Group, Text

    return Comment(unit, Group.EXTERNAL, "saran", Text("Saran?", "Ideas?"), text)


def test_chat_rendering_escapes_and_pages() -> None:
    from services.i18n import catalog
    from services.reports import comments_messages
    from services.reports.comments import MAX_MESSAGES, MESSAGE_LIMIT

    pages = comments_messages(
        _found([_comment("<b>Antrean</b> & calo")]), catalog(), "id", k=5, unit_name=None
    )
    assert len(pages) == 1
    assert "&lt;b&gt;Antrean&lt;/b&gt; &amp; calo" in pages[0]
    assert pages[0].startswith("<b>Saran responden</b> — gelombang 2026-S1")
    assert "• antrean: 2" in pages[0]
    assert "calo: 0" not in pages[0]  # keywords nobody mentioned are left out in chat
    many = [_comment(f"komentar nomor {i} " + "x" * 150) for i in range(200)]
    pages = comments_messages(_found(many), catalog(), "en", k=5, unit_name=None)
    assert len(pages) <= MAX_MESSAGES + 1
    assert all(len(p) <= 4096 for p in pages)
    assert max(len(p) for p in pages) <= MESSAGE_LIMIT + 200
    shown = sum(p.count("komentar nomor") for p in pages)
    assert f"…and {200 - shown} more." in pages[-1]
    from services.reports.comments import Empty

    for why, expected in [
        (Empty.SUPPRESSED, "hanya ditampilkan bergabung"),
        (Empty.NOT_RELEASED, "3 jawaban yang sudah masuk belum dirilis"),
        (Empty.NO_TEXT_QUESTION, "tidak memuat pertanyaan isian bebas"),
        (Empty.NONE_YET, "Belum ada responden yang menulis saran."),
        (Empty.WITHHELD, "bahkan digabung, masih kurang dari 5"),
    ]:
        found = _found([], unit="KEC-SOOKO", empty=why, waiting=3)
        empty = comments_messages(found, catalog(), "id", k=5, unit_name="X")
        assert expected in empty[0], why
