"""End to end: a Kobo-style XLSForm built here is imported and answered through the sandbox."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

import storage.db
from bot.cli import main
from sandbox import SandboxServer
from sandbox.demo import open_sample_wave, sandbox_settings
from storage.answers import answers, responses
from tests.e2e_fixtures import Clock, Harness, action_buttons, reply
from tests.test_e2e_survey import PROGRESS, open_survey, tap_action
from tests.xlsform_fixtures import KOBO_SETTINGS, write_xlsform

pytestmark = pytest.mark.e2e


@pytest.fixture
async def kobo(
    tmp_path: Path,
    database_url_for: Callable[[Path], str],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """A running bot whose wave asks external respondents the imported XLSForm."""
    form = write_xlsform(
        tmp_path / "kecamatan.xlsx", settings={**KOBO_SETTINGS, "form_id": "external"}
    )
    secret = secrets.token_urlsafe(32)
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox, database_url_for(tmp_path), secret, admin_user_ids="999"
        )
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        monkeypatch.setenv("SPIBOT_SECRET", secret)
        monkeypatch.chdir(tmp_path)
        # The admin's way in: `spibot survey import`, then the next wave uses it.
        assert await asyncio.to_thread(main, ["survey", "import", str(form)]) == 0
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            wave = await open_sample_wave(db.engine, "2026-S1", clock())
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()


async def stored_answers(h: Harness) -> dict[str, str]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(
            select(answers.c.question_id, answers.c.value).join(
                responses, responses.c.id == answers.c.response_id
            )
        )
        return {row.question_id: row.value for row in rows}


async def test_imported_xlsform_runs_with_constraints_and_relevance(kobo: Harness) -> None:
    user = kobo.user()
    question = await open_survey(kobo, user, kobo.unit_payload())
    assert "Berapa umur Anda?" in question.plain_text
    assert "In years" not in question.plain_text  # the form's hint is in English only
    # The integer constraint: a fraction, then an age below the bound, are refused.
    await user.send("2,5")
    assert "bukan bilangan bulat" in (await reply(user)).plain_text
    await user.send("15")
    assert "antara 17 dan 99" in (await reply(user)).plain_text
    await user.send("30")
    question = await reply(user)
    assert "Anda datang sebagai?" in question.plain_text
    question = await tap_action(user, "a", 0)  # warga: the group's relevance shows its items
    assert "Biaya resmi diumumkan dengan jelas." in question.plain_text
    assert [b.text for b in question.flat_buttons if b.data and ".a." in b.data][-1] == (
        "Tidak tahu"
    )
    question = await tap_action(user, "a", 2)  # sangat setuju
    assert "diminta membayar" in question.plain_text
    question = await tap_action(user, "a", 0)  # ya, and 30 >= 21: the channels follow
    assert "Ke mana Anda akan melapor?" in question.plain_text
    await tap_action(user, "m", 1)
    question = await tap_action(user, "md")
    assert "Apa saran Anda?" in question.plain_text
    await user.send("x" * 501)
    assert "501" in (await reply(user)).plain_text  # the string-length constraint
    await user.send("Antrean terlalu panjang")
    review = await reply(user)
    await user.tap(review, text="✅ Kirim jawaban")
    await reply(user)
    assert await stored_answers(kobo) == {
        "umur": "30",
        "peran": "warga",
        "tr_biaya": "ss",
        "ti_diminta": "ya",
        "kanal": "loket",
        "saran": "Antrean terlalu panjang",
    }


async def test_relevance_hides_the_group_in_english(kobo: Harness) -> None:
    user = kobo.user("en")
    question = await open_survey(kobo, user, kobo.unit_payload())
    assert "How old are you?" in question.plain_text
    assert "In years" in question.plain_text  # the form's hint, under the question
    match = PROGRESS.search(question.plain_text)
    assert match is not None
    await user.send("40")
    question = await reply(user)
    assert "You came as?" in question.plain_text
    question = await tap_action(user, "a", 1)  # supplier: the service group is skipped
    assert "What do you suggest?" in question.plain_text
    assert not action_buttons(question, "a")
    await user.send("Faster permits")
    review = await reply(user)
    await user.tap(review, text="✅ Send answers")
    await reply(user)
    assert await stored_answers(kobo) == {
        "umur": "40",
        "peran": "penyedia",
        "saran": "Faster permits",
    }
