"""services.reports on a real SQLite file: the bundle, history, corrections, texts and the pack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest

import storage.corrections
import storage.db
import storage.units
import storage.waves
from scoring import ScopeResult, find_institution
from services.admin import import_units_csv, open_wave
from services.reports import bundle as reporting
from services.reports import charts, texts
from services.settings import Settings, load_settings
from surveys import Group
from tests.score_data import add_responses

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[storage.db.AsyncEngine]:
    """A migrated database with the Mojokerto units and no wave."""
    async with storage.db.Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}") as db:
        csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
        with resources.as_file(csv) as path:
            await import_units_csv(db.engine, path)
        yield db.engine


@pytest.fixture
def settings() -> Settings:
    return load_settings(None, spibot_secret="s" * 20)


async def _full_wave(engine: storage.db.AsyncEngine, name: str, level: float) -> storage.waves.Wave:
    wave = await open_wave(engine, name, NOW)
    for unit in ("DINKES", "DISPENDUKCAPIL"):
        for group in Group:
            await add_responses(engine, wave, unit, group, 5, NOW, level=level, seed=len(name))
    return wave


async def test_no_wave_gives_none(engine: storage.db.AsyncEngine, settings: Settings) -> None:
    assert await reporting.load_report(engine, settings) is None


async def test_bundle_has_history_and_corrections(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    first = await _full_wave(engine, "2025-S2", 0.4)
    await storage.waves.close_wave(engine, first.id, NOW)
    second = await _full_wave(engine, "2026-S1", 0.8)
    await storage.corrections.add_correction(engine, second.id, 1.5, 0.5, "kasus", NOW)

    bundle = await reporting.load_report(engine, settings, today=date(2026, 3, 3))

    assert bundle is not None
    assert bundle.wave.id == second.id
    assert [h.wave for h in bundle.history] == ["2025-S2"]
    inst = bundle.report.institution
    assert inst.corrections is not None
    assert inst.corrections.total == pytest.approx(2.0)
    assert inst.previous is not None
    assert inst.previous.wave == "2025-S2"
    text = texts.score_text(bundle, "id")
    assert "Koreksi: −1,50 (integritas), −0,50 (prevalensi) — kasus" in text
    assert "Gelombang sebelumnya 2025-S2" in text
    assert "sementara" in text
    trend = texts.trend_text(bundle, "en")
    assert "2025-S2" in trend
    assert "2026-S1" in trend

    older = await reporting.load_report(engine, settings, wave_name="2025-S2")
    assert older is not None
    assert older.history == ()
    assert "final" in texts.score_text(older, "id")
    assert await reporting.load_report(engine, settings, wave_name="nope") is None


async def test_texts_never_show_a_suppressed_number(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await open_wave(engine, "2026-S1", NOW)
    await add_responses(engine, wave, "BAPPEDA", Group.INTERNAL, 3, NOW)
    bundle = await reporting.load_report(engine, settings, today=NOW.date())
    assert bundle is not None

    # Day 0: the responses are counted and their release is explained, never "no responses".
    unit = texts.score_text(bundle, "id", "BAPPEDA")
    assert "Pegawai: 3 jawaban diterima hari ini; ditampilkan setelah terkumpul minimal 5" in unit
    assert "Indeks: 3 jawaban diterima hari ini" in unit
    assert "belum ada jawaban" not in unit.split("Pengguna layanan")[0]
    assert "jawaban diterima hari ini" in texts.score_text(bundle, "id")
    dims = texts.dimensions_text(bundle, "id", "BAPPEDA")
    assert "<b>" not in dims.split("\n", 2)[2]  # no dimension number at all

    # Closed, the three are published as a suppressed cell, and it says why in plain words.
    await storage.waves.close_wave(engine, wave.id, NOW)
    closed = await reporting.load_report(engine, settings)
    assert closed is not None
    unit = texts.score_text(closed, "id", "BAPPEDA")
    assert (
        "Pegawai: disembunyikan: kurang dari 5 responden, agar jawaban tidak bisa ditebak (n=3)"
        in unit
    )
    english = texts.score_text(closed, "en", "BAPPEDA")
    assert "hidden: fewer than 5 respondents, so that no answer can be guessed (n=3)" in english
    assert "Service users: not applicable" in english  # BAPPEDA does not serve the public


async def test_partial_composite_is_labelled(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await open_wave(engine, "2026-S1", NOW)
    for group in (Group.INTERNAL, Group.EXPERT):
        await add_responses(engine, wave, "DINKES", group, 6, NOW)
    bundle = await reporting.load_report(engine, settings)
    assert bundle is not None
    text = texts.score_text(bundle, "id", "DINKES")
    assert "Indeks parsial" in text
    assert "bukan indeks SPI" in text
    assert "Rentan" not in text
    assert "Waspada" not in text
    ranking = texts.ranking_text(bundle, "en")
    assert "Partial (not ranked" in ranking


async def test_pack_digest_and_captions(engine: storage.db.AsyncEngine, settings: Settings) -> None:
    await _full_wave(engine, "2026-S1", 0.7)
    bundle = await reporting.load_report(engine, settings, today=date(2026, 3, 3))
    assert bundle is not None

    pack = charts.report_pack(bundle, "id")
    assert [name for name, _, _ in pack] == [
        "index",
        "groups",
        "dimensions",
        "ranking",
        "trend",
        "progress",
    ]
    for _, png, caption in pack:
        assert png.startswith(b"\x89PNG")
        assert 0 < len(caption) <= texts.CAPTION_LIMIT
    # Our KPK result per year travels with the bundle to the trend chart.
    shipped = find_institution("Pemerintah Kabupaten Mojokerto", level="kabupaten")
    assert dict(bundle.published) == {r.year: r.index for r in shipped}
    assert bundle.published[2022] == 74.00
    digest = texts.progress_digest(bundle, "id")
    assert "2026-03-03" in digest
    assert "Pegawai: 10 dari target 62 (kurang 52)" in digest  # fixed at opening: prior σ
    assert "Terjauh dari target" in digest


def test_numbers_use_a_decimal_comma_in_indonesian() -> None:
    assert texts.format_number(74.0, "id") == "74,00"
    assert texts.format_number(1234.5, "id") == "1.234,50"
    assert texts.format_number(74.0, "en") == "74.00"


def _unit(code: str, name: str, uid: int = 1) -> storage.units.Unit:
    return storage.units.Unit(uid, code, name, "opd", None, False, None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dinkes", ["DINKES"]),
        ("Dinas Kesehatan", ["DINKES"]),
        ("kesehatn", ["DINKES"]),
        ("dinas", ["DINKES", "DINSOS"]),
        ("pendidikan", []),
        ("  ", []),
    ],
)
def test_find_units(query: str, expected: list[str]) -> None:
    units = [
        _unit("DINKES", "Dinas Kesehatan", 1),
        _unit("DINSOS", "Dinas Sosial", 2),
        _unit("BAPPEDA", "Badan Perencanaan", 3),
    ]
    assert [u.code for u in reporting.find_units(units, query)] == expected


async def test_a_closed_wave_is_scored_once_and_a_correction_revises_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed wave is frozen the first time it is needed and never re-scored: /skor reads
    the frozen report; a correction makes a revision without scoring again."""
    from scoring import Corrections
    from services.reports import build, revisions

    settings = load_settings(None, spibot_secret="s" * 20)
    calls: list[str] = []
    real_build = build.build_live

    async def counting_build(engine, settings, ctx, wave, *args, **kwargs):
        calls.append(wave.name)
        return await real_build(engine, settings, ctx, wave, *args, **kwargs)

    monkeypatch.setattr(revisions, "build_live", counting_build)
    monkeypatch.setattr(reporting, "build_live", counting_build)
    async with storage.db.Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}") as db:
        with resources.as_file(
            resources.files("sandbox.data").joinpath("mojokerto-units.csv")
        ) as p:
            await import_units_csv(db.engine, p)
        now = datetime(2026, 1, 5, tzinfo=UTC)
        first = await open_wave(db.engine, "2025-S2", now)
        await storage.waves.close_wave(db.engine, first.id, now)  # closed without freezing
        await open_wave(db.engine, "2026-S1", now)

        await reporting.load_report(db.engine, settings)
        await reporting.load_report(db.engine, settings)
        assert calls.count("2025-S2") == 1  # frozen at the first read, then read back
        assert calls.count("2026-S1") == 2  # the open wave is always scored afresh

        closed = await storage.waves.get_wave(db.engine, "2025-S2")
        assert closed is not None
        _, revision = await revisions.set_correction(
            db.engine, settings, closed, Corrections(3.0, 0.5, "kasus"), now
        )
        assert revision is not None
        assert revision.number == 2
        bundle = await reporting.load_report(db.engine, settings, wave_name="2025-S2")
        assert calls.count("2025-S2") == 1  # the revision is the frozen report, corrected
        assert bundle is not None
        assert bundle.report.institution.corrections == Corrections(3.0, 0.5, "kasus")
        assert [r.number for r in bundle.revisions] == [1, 2]


async def test_a_stored_bad_correction_is_skipped_with_a_warning(
    engine: storage.db.AsyncEngine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A value stored before corrections were checked must not take scoring down."""
    from sqlalchemy import insert

    from storage.corrections import corrections

    first = await _full_wave(engine, "2025-S2", 0.4)
    await storage.waves.close_wave(engine, first.id, NOW)
    await _full_wave(engine, "2026-S1", 0.8)
    async with engine.begin() as conn:  # the old CLI let this through
        await conn.execute(
            insert(corrections).values(
                wave_id=first.id, integrity=float("inf"), prevalence=0.0, note="", created_at=NOW
            )
        )

    with caplog.at_level("WARNING", logger="services.reports.build"):
        older = await reporting.load_report(engine, settings, wave_name="2025-S2")
        later = await reporting.load_report(engine, settings)  # scores 2025-S2 for its history

    assert older is not None
    corrections = older.report.institution.corrections
    assert corrections is None or corrections.total == 0
    assert older.report.institution.index is not None
    assert later is not None
    assert later.history[0].index == pytest.approx(older.report.institution.index)
    assert "ignoring stored correction" in caplog.text


async def test_unit_targets_use_the_imported_populations(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    """The sample units list 8 experts per OPD: the target is 8 there, not the prior's 62."""
    await _full_wave(engine, "2026-S1", 0.7)
    bundle = await reporting.load_report(engine, settings)
    assert bundle is not None
    expert = bundle.report.unit("BAPPEDA").group(Group.EXPERT)
    assert (expert.population, expert.needed) == (8, 8)
    kecamatan = bundle.report.unit("KEC-PURI").group(Group.EXPERT)
    assert (kecamatan.population, kecamatan.needed) == (5, 5)
    assert max(u.group(Group.EXPERT).needed for u in bundle.report.units) <= 8
    # KPK's minimum of 30 holds for the institution, not for each unit.
    inst = bundle.report.institution.group(Group.EXPERT)
    assert inst.population == sum(
        u.group(Group.EXPERT).population or 0 for u in bundle.report.units
    )
    assert inst.needed >= 30


async def test_two_step_attack_on_a_unit_result(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    """A unit head reads /unit, a known colleague submits, the head reads again: same text.

    The colleague's response is counted (progress keeps up) but not scored until k newer
    responses of that unit and group have come in, on a later day.
    """
    wave = await open_wave(engine, "2026-S1", NOW)
    for group in Group:
        await add_responses(engine, wave, "DINKES", group, 5, NOW)
    tomorrow = date(2026, 3, 3)
    first = await reporting.load_report(engine, settings, today=tomorrow)
    assert first is not None
    before = texts.score_text(first, "id", "DINKES")
    assert "Indeks" in before
    assert first.report.unit("DINKES").index is not None

    colleague = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    await add_responses(engine, wave, "DINKES", Group.INTERNAL, 1, colleague, level=0.0, seed=9)
    shown_before = _shown(first.report.unit("DINKES"))
    for today in (tomorrow, date(2026, 3, 4)):  # the same day, and the day after
        again = await reporting.load_report(engine, settings, today=today)
        assert again is not None
        assert _shown(again.report.unit("DINKES")) == shown_before
        text = texts.score_text(again, "id", "DINKES")
        note = "1 jawaban terbaru belum masuk hasil sementara"
        assert note in text
        assert _lines(text, without=note) == _lines(before)
        assert "Pegawai: 6 dari target" in texts.unit_progress_text(again, "id", "DINKES")


def _shown(scope: object) -> tuple[object, ...]:
    """Every number of a scope derived from answers (not the counts of waiting responses)."""
    assert isinstance(scope, ScopeResult)
    cells = tuple((c.n, c.score, c.moe, c.dimensions) for c in scope.groups)
    return (cells, scope.index, scope.partial_index, scope.dimensions)


def _lines(text: str, without: str = "") -> list[str]:
    return [
        line for line in text.splitlines() if line.strip() and not (without and without in line)
    ]


async def test_trend_lists_partial_composites_labelled(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    """/tren: a wave with only some groups shows its partial composite, marked as not SPI."""
    first = await open_wave(engine, "2025-S2", NOW)
    for group in (Group.INTERNAL, Group.EXPERT):
        await add_responses(engine, first, "DINKES", group, 6, NOW)
    await storage.waves.close_wave(engine, first.id, NOW)
    await _full_wave(engine, "2026-S1", 0.7)
    bundle = await reporting.load_report(engine, settings, today=date(2026, 3, 3))
    assert bundle is not None
    earlier = bundle.history[0]
    assert earlier.index is None
    assert earlier.partial_index is not None
    assert earlier.groups_included == (Group.INTERNAL, Group.EXPERT)

    text = texts.trend_text(bundle, "id")
    value = texts.format_number(earlier.partial_index, "id")
    assert f"2025-S2: <b>{value}</b> parsial (hanya Pegawai, Eksper; bukan indeks SPI)" in text
    assert "2026-S1: " in text
    english = texts.trend_text(bundle, "en")
    assert "partial (Employees, Experts only; not an SPI index)" in english
