"""Every role gets what it needs (issue 22.5), through the sandbox: a unit head's own /tren and
/laporan, help by role, the cheapest path in a bare /simulasi, /skor for a named wave, the
true reason behind an empty /saran; and `spibot whatif` with the names the bot accepts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import storage.db
import storage.waves
from bot.cli import main
from sandbox import SandboxServer, SandboxUser
from sandbox.demo import sandbox_settings
from services.access import create_grant
from services.admin import import_units_csv, open_wave, store_questionnaire
from services.settings import Settings
from storage.roles import Role
from surveys import Group, bundled_questionnaires, load_questionnaire_text
from surveys.writer import questionnaire_data, questionnaire_yaml
from tests.comment_data import add_suggestions
from tests.e2e_fixtures import Clock, Harness, reply
from tests.score_data import add_profile, add_responses

pytestmark = pytest.mark.e2e

UNITS = Path(__file__).parents[1] / "sandbox" / "data" / "mojokerto-units.csv"
ADMIN_ID = 999  # the harness's admin_user_ids


async def _with_role(h: Harness, role: Role, unit: str | None = None) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user()
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def _two_waves(h: Harness) -> storage.waves.Wave:
    """2026-S1 closed with DINKES and BAPPEDA scored; 2026-S2 open with a day of answers."""
    for unit, level in (("DINKES", 0.55), ("BAPPEDA", 0.8)):
        for group in Group:
            await add_responses(h.engine, h.wave, unit, group, 6, h.clock(), level=level)
    await storage.waves.close_wave(h.engine, h.wave.id, h.clock())
    h.clock.advance(days=30)
    second = await open_wave(h.engine, "2026-S2", h.clock())
    for unit, level in (("DINKES", 0.6), ("BAPPEDA", 0.85)):
        for group in Group:
            await add_responses(h.engine, second, unit, group, 6, h.clock(), level=level, seed=2)
    h.clock.advance(days=1)  # provisional results show whole days before today
    return second


async def _new_messages(h: Harness, user: SandboxUser, command: str, args: str | None = None):
    before = len(user.chat.messages)
    await user.command(command, args)
    await reply(user)
    return user.chat.messages[before:]


# One weak dimension in an otherwise good unit: Rentan, and one dimension can reach Terjaga.
WEAK_INTEGRITY = {"task_integrity": 20.0}


async def test_a_unit_head_gets_their_own_trend_and_report(harness: Harness) -> None:
    await _two_waves(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")

    sent = await _new_messages(harness, head, "tren")
    assert len(sent) == 1
    chart = sent[0]
    assert chart.photo is not None or chart.document is not None
    caption = chart.plain_text
    assert "Tren indeks — Dinas Kesehatan" in caption
    assert "2026-S1" in caption
    assert "2026-S2" in caption
    assert "Badan Perencanaan" not in caption
    assert "Hasil SPI KPK" not in caption  # KPK scores the institution, not a unit

    before = len(head.chat.messages)
    await head.command("laporan")  # an intro, four charts, then the progress text
    await harness.sandbox.wait_for(lambda: len(head.chat.messages) >= before + 6, 15)
    pack = head.chat.messages[before:]
    assert len(pack) == 6
    assert "Laporan unit Dinas Kesehatan, gelombang 2026-S2: 4 grafik" in pack[0].plain_text
    charts = pack[1:5]
    assert all(m.photo is not None or m.document is not None for m in charts)
    captions = "\n".join(m.plain_text for m in charts)
    assert "Badan Perencanaan" not in captions  # no ranking: it shows every unit
    assert "Tren indeks — Dinas Kesehatan" in captions
    assert "Dinas Kesehatan" in pack[5].plain_text  # the unit's progress, as text

    # Another unit head asks the same and sees only theirs; a respondent is refused.
    other = await _with_role(harness, Role.UNIT_HEAD, "BAPPEDA")
    sent = await _new_messages(harness, other, "tren")
    assert "Badan Perencanaan" in sent[0].plain_text
    assert "Dinas Kesehatan" not in sent[0].plain_text
    citizen = harness.user()
    await citizen.command("laporan")
    assert "hanya dapat dilihat oleh pimpinan" in (await reply(citizen)).plain_text


async def test_score_honours_the_named_wave(harness: Harness) -> None:
    await _two_waves(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    now = (await _new_messages(harness, boss, "skor"))[0].plain_text
    assert "2026-S2" in now
    earlier = (await _new_messages(harness, boss, "skor", "2026-S1"))[0].plain_text
    assert "2026-S1" in earlier
    assert "2026-S2" not in earlier
    assert now != earlier
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    unit_then = (await _new_messages(harness, head, "skor", "2026-S1"))[0].plain_text
    assert "2026-S1" in unit_then
    assert "Dinas Kesehatan" in unit_then
    for asker in (boss, head):
        await asker.command("skor", "2030-S9")
        text = (await reply(asker)).plain_text
        assert "Gelombang “2030-S9” tidak ada. Gelombang yang ada: 2026-S2, 2026-S1." in text


async def test_bare_simulate_proposes_the_cheapest_path_to_waspada_and_terjaga(
    harness: Harness,
) -> None:
    for group in Group:
        await add_profile(
            harness.engine, harness.wave, "DINKES", group, 6, harness.clock(), WEAK_INTEGRITY
        )
    harness.clock.advance(days=1)
    boss = await _with_role(harness, Role.LEADERSHIP)
    await boss.command("simulasi")
    text = (await reply(boss)).plain_text
    assert "Jalur termurah" in text
    assert "Rentan" in text.split("\n")[1]
    waspada = re.search(r"Ke 🟡 Waspada: naikkan (.+?) \+([\d.,]+) poin", text)
    terjaga = re.search(r"Ke 🟢 Terjaga: naikkan (.+?) \+([\d.,]+) poin", text)
    assert waspada is not None, text
    assert terjaga is not None, text
    assert waspada.group(1) == terjaga.group(1) == "Integritas dalam pelaksanaan tugas"

    def points(match: re.Match[str]) -> float:
        return float(match.group(2).replace(".", "").replace(",", "."))

    assert 0 < points(waspada) < points(terjaga)
    assert "Menuju Terjaga" in text  # the per-dimension list follows


async def test_help_lists_what_each_role_has(harness: Harness) -> None:
    async def help_of(user: SandboxUser) -> str:
        await user.command("bantuan")
        return (await reply(user)).plain_text

    citizen = await help_of(harness.user())
    assert "/start" in citizen
    assert "/skor" not in citizen
    assert "tautan peran" in citizen
    boss = await help_of(await _with_role(harness, Role.LEADERSHIP))
    assert "/skor [gelombang]" in boss
    assert "/gelombang" not in boss
    head = await help_of(await _with_role(harness, Role.UNIT_HEAD, "DINKES"))
    assert "Sebagai kepala unit Dinas Kesehatan" in head
    admin = await help_of(harness.user(user_id=ADMIN_ID))
    for command in ("/gelombang", "/akses", "/undangan", "/siaran", "/ekspor", "/skor"):
        assert command in admin
    english = harness.user("en", user_id=ADMIN_ID + 1)
    await english.command("help")
    assert "/language" in (await reply(english)).plain_text


async def _saran(h: Harness, user: SandboxUser) -> str:
    await user.command("saran")
    return (await reply(user)).plain_text


async def test_empty_suggestions_say_the_true_reason(harness: Harness) -> None:
    boss = await _with_role(harness, Role.LEADERSHIP)
    assert "Belum ada responden yang menulis saran." in await _saran(harness, boss)

    texts = ["Antrean panjang", "Ada calo", None, "Petugas ramah", "Parkir sempit"]
    await add_suggestions(harness.engine, harness.wave, "DPMPTSP", texts, harness.clock())
    waiting = await _saran(harness, boss)
    assert "5 jawaban yang sudah masuk belum dirilis" in waiting
    assert "Antrean" not in waiting
    harness.clock.advance(days=1)
    assert "Antrean panjang" in await _saran(harness, boss)

    # A closed wave shows small units only pooled: their head is told so.
    await add_suggestions(harness.engine, harness.wave, "DINKES", ["Kasir kasar"], harness.clock())
    await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    pooled = await _saran(harness, head)
    assert "hanya ditampilkan bergabung" in pooled
    assert "Kasir" not in pooled

    # A wave whose questionnaires ask no free text says so, not "none yet".
    now = harness.clock()
    choices = {}
    for group, bundled in bundled_questionnaires().items():
        data = questionnaire_data(bundled)
        data["id"] = f"{bundled.id}_ringkas"
        data["questions"] = [q for q in data["questions"] if q["type"] != "text"]
        short = load_questionnaire_text(questionnaire_yaml(data))
        await store_questionnaire(harness.engine, short, now)
        choices[group] = short.id
    await open_wave(harness.engine, "2026-S2", now, choices)
    assert "tidak memuat pertanyaan isian bebas" in await _saran(harness, boss)


@pytest.fixture
async def no_wave(
    tmp_path: Path, database_url_for: Callable[[Path], str]
) -> AsyncIterator[Harness]:
    """A running bot with the units and no wave at all yet."""
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(sandbox, database_url_for(tmp_path), "s" * 32)
        async with storage.db.Database(settings.database_url) as db:
            await import_units_csv(db.engine, UNITS)
        h = Harness(sandbox=sandbox, settings=settings, clock=Clock(), wave=None)  # type: ignore[arg-type]
        await h.start()
        try:
            yield h
        finally:
            await h.stop()


async def test_suggestions_before_any_wave(no_wave: Harness) -> None:
    boss = await _with_role(no_wave, Role.LEADERSHIP)
    assert "Belum ada gelombang survei" in await _saran(no_wave, boss)


def test_whatif_takes_the_names_the_bot_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SPIBOT_SECRET", "s" * 32)
    clock = Clock()

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            await import_units_csv(db.engine, UNITS)
            wave = await open_wave(db.engine, "2026-S1", clock())
            for group in Group:
                await add_profile(db.engine, wave, "DINKES", group, 6, clock(), WEAK_INTEGRITY)
            await storage.waves.close_wave(db.engine, wave.id, clock())

    asyncio.run(prepare())
    outputs = []
    for name in ("procurement", "pengadaan", "Pengelolaan PBJ", "PBJ", "pengelolaan_pbj"):
        assert main(["whatif", "--dimension", name, "--delta", "5", "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert len(set(outputs)) == 1
    assert '"dimension": "procurement"' in outputs[0]
    assert main(["whatif", "--dimension", "Transparansi", "--delta", "5", "--unit", "DINKES"]) == 0
    assert "transparency +5.00" in capsys.readouterr().out
    assert main(["whatif", "--dimension", "korupsi", "--delta", "5"]) == 2
    assert "unknown dimension 'korupsi'" in capsys.readouterr().err
    assert main(["whatif"]) == 0
    plan = capsys.readouterr().out
    assert "cheapest to Alert:" in plan
    assert "cheapest to Maintained:" in plan
