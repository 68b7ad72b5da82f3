"""Survey integrity end to end below the bot (services.integrity), on SQLite and PostgreSQL:
a simulated wave written through storage at the people's own times; the signals; excluding
a flagged set changes the index by exactly what the report said; a closed wave gets a dated
revision; a restore puts everything back; what an exclusion stores."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from sqlalchemy import text

import storage.db
import storage.waves
from scoring.exports import ExportOptions
from scoring.integrity import BurstEvidence, SignalKind
from services.integrity import quality
from services.integrity.quality import DecisionTaken, SetChanged, numbers_of
from services.rakor.pdf import load_pdf
from services.reports import ExportFormat, export_wave, load_report, revisions
from services.settings import Settings, load_settings
from storage.report_revisions import RevisionKind
from surveys import Group
from tests.integrity_data import BRIEFING, COACHED, HONEST, RUSHING, after_wave, simulated_wave


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(None, spibot_secret="s" * 20, database_url=database_url)


async def _report(db: storage.db.Database, settings: Settings, wave: storage.waves.Wave):  # type: ignore[no-untyped-def]
    now = after_wave()
    return await quality.quality_report(
        db.engine, settings, wave, today=now.astimezone(settings.zone).date(), now=now
    )


async def test_signals_exclusion_and_restore_on_an_open_wave(
    db: storage.db.Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wave = await simulated_wave(db.engine)
    now = after_wave()
    today = now.astimezone(settings.zone).date()
    report = await _report(db, settings, wave)
    flagged = {(c.unit_code, c.group): {s.kind for s in c.signals} for c in report.findings.flagged}
    assert flagged == {
        (COACHED, Group.INTERNAL): {SignalKind.BURST, SignalKind.UNIFORM},
        (RUSHING, Group.INTERNAL): {SignalKind.RUSHING},
    }
    assert {c.unit_code for c in report.findings.cells} >= set(HONEST)
    burst = report.find(COACHED, Group.INTERNAL, "burst")
    assert burst is not None
    assert isinstance(burst.signal.evidence, BurstEvidence)
    assert burst.signal.evidence.day == BRIEFING
    assert burst.signal.evidence.start.hour == 8  # 08:00-09:00 WIB, after apel pagi
    effect = burst.effect
    assert effect is not None
    before = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=now)
    assert before is not None
    assert numbers_of(before.report, COACHED, Group.INTERNAL) == effect.before
    assert effect.after != effect.before

    done, revision = await quality.exclude(
        db.engine,
        settings,
        wave,
        burst,
        "pengarahan setelah apel pagi",
        by="cli:ani",
        today=today,
        now=now,
    )
    assert revision is None  # an open wave: its provisional numbers simply follow
    assert (done.count, done.kind, done.created_by) == (burst.signal.responses, "burst", "cli:ani")
    after = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=now)
    assert after is not None
    # Exactly what the quality report said it would be.
    assert numbers_of(after.report, COACHED, Group.INTERNAL) == effect.after
    (exclusion,) = after.report.exclusions
    assert (exclusion.unit_code, exclusion.group, exclusion.count) == (
        COACHED,
        Group.INTERNAL,
        burst.signal.responses,
    )
    assert exclusion.reason == "pengarahan setelah apel pagi"
    assert exclusion.created_on == today
    assert after.report.quality.by_inspectorate == burst.signal.responses

    # The set is out of the findings now; the decision is listed with who, when and why.
    again = await _report(db, settings, wave)
    assert again.find(COACHED, Group.INTERNAL, "burst") is None
    assert [(d.id, d.status.value) for d in again.decisions] == [(done.id, "active")]

    # Exclusions store random response ids only: the day's responses, nothing finer.
    async with db.engine.connect() as conn:
        stored = (
            await conn.execute(text("SELECT exclusion_id, response_id FROM excluded_responses"))
        ).all()
        days = (
            await conn.execute(
                text(
                    "SELECT DISTINCT r.completed_on FROM responses r "
                    "JOIN excluded_responses e ON e.response_id = r.id"
                )
            )
        ).all()
    assert len(stored) == burst.signal.responses
    assert {pd.Timestamp(d).date() for (d,) in days} == {BRIEFING}
    assert {str(i) for _, i in stored} == set(burst.signal.response_ids)

    # A double confirmation is refused, and so is a restore of something not in force.
    with pytest.raises(DecisionTaken):
        await quality.confirm(db.engine, settings, done.id, today=today, now=now)
    restored, revision = await quality.restore(
        db.engine, settings, done.id, by="cli:ani", reason="salah tanda", now=now
    )
    assert revision is None
    assert restored.status.value == "restored"
    with pytest.raises(DecisionTaken):
        await quality.restore(db.engine, settings, done.id, by="cli:ani", reason="", now=now)
    back = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=now)
    assert back is not None
    assert numbers_of(back.report, COACHED, Group.INTERNAL) == effect.before
    assert back.report.exclusions == ()
    # Nothing of the respondents reached our logs: no response id, no answer. (Libraries
    # that echo SQL at DEBUG are held at warnings in the bot: bot.cli.common.)
    ours = ("services", "storage", "scoring", "sandbox", "handlers", "bot")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert "exclusion #" in logged
    assert not any(i in logged for i in burst.signal.response_ids)
    assert "strongly_agree" not in logged


async def test_a_closed_wave_gets_a_dated_revision_and_the_stale_set_is_refused(
    db: storage.db.Database, settings: Settings
) -> None:
    wave = await simulated_wave(db.engine)
    closing = after_wave()
    assert await revisions.close_wave(db.engine, settings, wave, closing)
    closed = await storage.waves.get_wave(db.engine, wave.name)
    assert closed is not None
    later = closing + timedelta(days=4)
    today = later.astimezone(settings.zone).date()
    report = await quality.quality_report(db.engine, settings, closed, today=today, now=later)
    uniform = report.find(COACHED, Group.INTERNAL, "uniform")
    assert uniform is not None
    assert uniform.effect is not None
    frozen = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=later)
    assert frozen is not None
    assert numbers_of(frozen.report, COACHED, Group.INTERNAL) == uniform.effect.before

    # A set the officer was shown that no longer is (a forged or stale fingerprint): refused.
    pending = await quality.draft(
        db.engine,
        closed,
        uniform.__class__(uniform.cell, uniform.signal, "0" * 12),
        by="admin:abc",
        now=later,
        reason="x",
    )
    with pytest.raises(SetChanged):
        await quality.confirm(db.engine, settings, pending.id, today=today, now=later)

    done, revision = await quality.exclude(
        db.engine,
        settings,
        closed,
        uniform,
        "jawaban seragam",
        by="cli:ani",
        today=today,
        now=later,
    )
    assert revision is not None
    assert (revision.number, revision.kind) == (2, RevisionKind.EXCLUSION)
    assert revision.note == "jawaban seragam"
    assert revision.created_on == today
    assert any(c.unit_code == COACHED for c in revision.changes)
    revised = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=later)
    assert revised is not None
    assert numbers_of(revised.report, COACHED, Group.INTERNAL) == uniform.effect.after
    assert revised.revision is not None
    assert revised.revision.number == 2
    # The rakor PDF: the unit's page and the method page list it, with the revision.
    made = await load_pdf(db.engine, settings, "id", now=later, wave_name=wave.name)
    assert made is not None
    assert made[1] is not None
    pdf = pypdf.PdfReader(io.BytesIO(made[1].data))
    pages = [" ".join(page.extract_text().split()) for page in pdf.pages]
    listed = "Pegawai: 9 jawaban (Seragam," if uniform.signal.responses == 9 else "Pegawai:"
    unit_page = next(
        p for p in pages if "Dinas Kesehatan" in p and "Jawaban yang dikecualikan" in p
    )
    assert listed in unit_page
    assert "jawaban seragam" in unit_page
    method = " ".join(pages[-3:])  # the method page runs over
    assert "Pengecualian oleh inspektorat" in method
    assert "Dinas Kesehatan — Pegawai" in method
    assert "pengecualian oleh inspektorat — jawaban seragam" in method
    # Pushed to subscribed chats like a correction's revision.
    pushed = await revisions.revisions_after(db.engine, settings, later - timedelta(minutes=1))
    assert [(r.number, r.kind) for _, r, _ in pushed] == [(2, RevisionKind.EXCLUSION)]

    _, restore = await quality.restore(
        db.engine, settings, done.id, by="cli:ani", reason="keliru", now=later + timedelta(hours=1)
    )
    assert restore is not None
    assert (restore.number, restore.kind) == (3, RevisionKind.RESTORED)
    back = await load_report(db.engine, settings, wave_name=wave.name, today=today, now=later)
    assert back is not None
    assert numbers_of(back.report, COACHED, Group.INTERNAL) == uniform.effect.before


async def test_exports_leave_excluded_responses_out_and_list_the_exclusion(
    tmp_path: Path,
) -> None:
    """Exports are not storage code: SQLite only."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'export.db'}"
    settings = load_settings(None, spibot_secret="s" * 20, database_url=url)
    async with storage.db.Database(url) as db:
        await _exports(db, settings, tmp_path, ExportOptions(k=5))


async def _exports(
    db: storage.db.Database, settings: Settings, tmp_path: Path, options: ExportOptions
) -> None:
    wave = await simulated_wave(db.engine)
    now = after_wave()
    today = now.astimezone(settings.zone).date()
    report = await _report(db, settings, wave)
    rushing = report.find(RUSHING, Group.INTERNAL, "rushing")
    assert rushing is not None
    before = await export_wave(
        db.engine, wave.name, tmp_path / "a", ExportFormat.CSV, options, today=today
    )
    await quality.exclude(
        db.engine,
        settings,
        wave,
        rushing,
        "dijawab tanpa dibaca",
        by="cli:ani",
        today=today,
        now=now,
    )
    after = await export_wave(
        db.engine,
        wave.name,
        tmp_path / "b",
        ExportFormat.CSV,
        options,
        today=today,
        zone=settings.zone,
    )
    assert after.excluded_by_inspectorate == rushing.signal.responses
    assert after.responses + rushing.signal.responses <= before.responses
    listed = pd.read_csv(tmp_path / "b" / "exclusions.csv")
    assert listed[["unit", "group", "kind", "responses", "reason"]].values.tolist() == [
        [RUSHING, "internal", "rushing", rushing.signal.responses, "dijawab tanpa dibaca"]
    ]
    data = pd.read_csv(tmp_path / "b" / "data.csv")
    # The rest of that cell is under k: merged into "lainnya" (or withheld), never shown alone.
    assert RUSHING not in set(data["unit"])
    assert not (tmp_path / "a" / "exclusions.csv").exists()
