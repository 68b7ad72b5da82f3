"""Published numbers never move silently: frozen final reports, dated revisions, targets fixed
at opening (services.reports.revisions, services.reports.build) on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

import storage.corrections
import storage.db
import storage.units
import storage.waves
from scoring import Corrections
from services.admin import import_units_csv, open_wave, resolve_wave
from services.errors import AdminError
from services.reports import build, revision_notice, revisions, texts
from services.reports import bundle as reporting
from services.settings import Settings, load_settings
from storage import report_revisions
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


async def _closed_wave(engine: storage.db.AsyncEngine, settings: Settings) -> storage.waves.Wave:
    wave = await open_wave(engine, "2026-S1", NOW)
    for unit in ("DINKES", "DISPENDUKCAPIL", "DPUPR"):
        for group in Group:
            await add_responses(engine, wave, unit, group, 6, NOW, level=0.8)
    await storage.corrections.add_correction(engine, wave.id, 1.0, 0.2, "kasus 2025", NOW)
    assert await revisions.close_wave(engine, settings, wave, NOW + timedelta(days=3))
    closed = await storage.waves.get_wave(engine, "2026-S1")
    assert closed is not None
    return closed


async def test_closing_freezes_the_final_report_against_later_changes(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await _closed_wave(engine, settings)
    (final,) = await revisions.revisions_of(engine, settings, wave)
    assert (final.number, final.kind, final.changes) == (1, revisions.RevisionKind.FINAL, ())
    before = await reporting.load_report(engine, settings, wave_name="2026-S1")
    assert before is not None
    index = before.report.institution.index
    assert index is not None

    # What could move a re-scored report: the units are renamed and re-counted, k changes,
    # and responses appear for the wave (a restored backup, a bug).
    await storage.units.import_units(
        engine,
        [{"code": "DINKES", "name": "Dinas Kesehatan Baru", "kind": "opd", "staff_count": "9"}],
    )
    await add_responses(engine, wave, "DINKES", Group.INTERNAL, 8, NOW, level=0.0, seed=7)
    moved = load_settings(None, spibot_secret="s" * 20, small_cell_k=3)
    after = await reporting.load_report(engine, moved, wave_name="2026-S1")
    assert after is not None
    assert after.report == before.report
    assert after.report.unit("DINKES").name == "Dinas Kesehatan"
    assert after.revision is None  # still the first final report


async def test_a_correction_after_closing_makes_a_dated_revision(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await _closed_wave(engine, settings)
    first = await reporting.load_report(engine, settings, wave_name="2026-S1")
    assert first is not None
    index = first.report.institution.index
    assert index is not None
    later = NOW + timedelta(days=10)

    _, revision = await revisions.set_correction(
        engine, settings, wave, Corrections(3.28, 0.32, "putusan pengadilan"), later
    )
    assert revision is not None
    assert (revision.number, revision.created_on) == (2, date(2026, 3, 12))
    changes = {c.what: (c.before, c.after) for c in revision.changes}
    assert changes["correction_integrity"] == (1.0, 3.28)
    assert changes["index"][0] == pytest.approx(index)
    assert changes["index"][1] == pytest.approx(index + 1.2 - 3.6)

    bundle = await reporting.load_report(engine, settings, wave_name="2026-S1")
    assert bundle is not None
    assert bundle.revision is not None
    assert bundle.report.institution.index == pytest.approx(index - 2.4)
    assert bundle.report.units == first.report.units  # units carry no correction
    text = texts.score_text(bundle, "id")
    assert "Direvisi 12 Maret 2026 (revisi 2): koreksi baru — putusan pengadilan." in text
    assert f"Semula indeks {texts.format_number(index, 'id')}." in text
    notice = revision_notice(bundle.revision, "en")
    assert "Revised final report — wave 2026-S1" in notice
    assert "Why: a new correction — putusan pengadilan" in notice
    assert "Integrity correction: 1.00 → 3.28" in notice

    # The next wave compares with the revised result, and says it was revised.
    await open_wave(engine, "2026-S2", later)
    current = await reporting.load_report(engine, settings, now=later)
    assert current is not None
    assert current.history[-1].revised_on == date(2026, 3, 12)
    assert "direvisi 12 Maret 2026" in texts.trend_text(current, "id")


async def test_a_correction_of_an_open_wave_is_no_revision(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await open_wave(engine, "2026-S1", NOW)
    correction, revision = await revisions.set_correction(
        engine, settings, wave, Corrections(1.0, 0.0, "x"), NOW
    )
    assert revision is None
    assert correction.integrity == 1.0
    assert await revisions.revisions_of(engine, settings, wave) == ()


async def test_bad_corrections_are_refused_and_store_nothing(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await _closed_wave(engine, settings)
    with pytest.raises(AdminError, match="no wave named 'nope'"):
        await resolve_wave(engine, "nope")
    with pytest.raises(ValueError, match="0 to 20"):
        Corrections(25.0, 0.0, "typo")
    # Two officers at once: the second revision number is taken; nothing of it is stored.
    latest = await report_revisions.latest_revision(engine, wave.id)
    assert latest is not None
    draft = report_revisions.RevisionDraft(
        report_revisions.RevisionKind.CORRECTION, "first", latest.report_json
    )
    await report_revisions.add_revision(engine, wave.id, draft, 2, NOW)
    with pytest.raises(report_revisions.RevisionConflict):
        await report_revisions.correct_wave(engine, wave.id, 2.0, 0.0, "second", NOW, (draft, 2))
    history = await storage.corrections.correction_history(engine, wave.id)
    assert [c.note for c in history] == ["kasus 2025"]


async def test_reopening_and_closing_again_is_a_revision(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await _closed_wave(engine, settings)
    assert await storage.waves.reopen_wave(engine, wave.id)
    reopened = await storage.waves.get_wave(engine, "2026-S1")
    assert reopened is not None
    await add_responses(engine, reopened, "BAPPEDA", Group.INTERNAL, 6, NOW, seed=3)
    assert await revisions.close_wave(engine, settings, reopened, NOW + timedelta(days=20))
    found = await revisions.revisions_of(engine, settings, reopened)
    assert [(r.number, r.kind.value) for r in found] == [(1, "final"), (2, "reclosed")]
    assert any(c.unit_code == "BAPPEDA" for c in found[-1].changes)


async def test_targets_are_fixed_when_the_wave_opens(
    engine: storage.db.AsyncEngine, settings: Settings
) -> None:
    wave = await open_wave(engine, "2026-S1", NOW)
    await build.fix_opening_targets(engine, settings, wave)
    opening = await reporting.load_report(engine, settings, today=NOW.date())
    assert opening is not None
    targets = {(u.code, c.group): c.needed for u in opening.report.units for c in u.groups}

    # Alike answers (a small spread) would shrink a computed target; a roster changes too.
    for group in Group:
        await add_responses(engine, wave, "DINKES", group, 12, NOW, level=0.9)
    await storage.units.import_units(
        engine, [{"code": "BAPPEDA", "name": "Bappeda", "kind": "opd", "expert_count": "40"}]
    )
    later = await reporting.load_report(engine, settings, today=date(2026, 3, 5))
    assert later is not None
    assert {(u.code, c.group): c.needed for u in later.report.units for c in u.groups} == targets
    dinkes = later.report.unit("DINKES").group(Group.INTERNAL)
    assert (dinkes.needed, dinkes.remaining) == (targets[("DINKES", Group.INTERNAL)], 62 - 12)

    # A unit added during the wave gets its target the first time a report sees it.
    await storage.units.import_units(
        engine, [{"code": "BARU", "name": "Unit Baru", "kind": "opd", "expert_count": "4"}]
    )
    newest = await reporting.load_report(engine, settings, today=date(2026, 3, 5))
    assert newest is not None
    assert newest.report.unit("BARU").group(Group.EXPERT).needed == 4
