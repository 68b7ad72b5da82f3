"""End to end through the sandbox: the respondent journey, bad input on it, and restarts.

Every test runs on a SQLite file and on PostgreSQL: the same suite on both databases.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

import storage.broadcasts
import storage.frames
import storage.waves
from sandbox import SandboxUser
from sandbox.demo import open_sample_wave
from sandbox.models import SentMessage
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.reach import outreach
from services.security import sign_payload
from storage.answers import answers, draft_answers, responses
from storage.invitations import invitations
from storage.respondents import completions, survey_sessions
from surveys import Group
from tests.e2e_fixtures import Harness, action_buttons, live
from tests.e2e_fixtures import reply as settle
from tests.storage_fixtures import BACKENDS, empty_database

pytestmark = pytest.mark.e2e


@pytest.fixture(params=BACKENDS)
async def database_url_for(request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """Run every test here on a SQLite file and on PostgreSQL (the module's database, emptied)."""
    if request.param == "sqlite":
        return lambda tmp: f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
    url: str = request.getfixturevalue("postgres_module_url")
    await empty_database(url)
    return lambda _tmp: url


async def reply(user: SandboxUser, *, one_keyboard: bool = True) -> SentMessage:
    """Wait for a survey screen: settled also means one live keyboard (the old one retired)."""
    return await settle(user, one_keyboard=one_keyboard)


PROGRESS = re.compile(r"Pertanyaan (\d+) dari (\d+)|Question (\d+) of (\d+)")


def position(message: SentMessage) -> int:
    """Return the question number shown in a message's progress line."""
    match = PROGRESS.search(message.plain_text)
    assert match, message.plain_text
    return int(match.group(1) or match.group(3))


async def tap_action(user: SandboxUser, action: str, index: int = 0) -> SentMessage:
    """Tap the index-th button with this action code on the live message; wait for the bot."""
    message = live(user)
    data = action_buttons(message, action)
    assert data, f"no {action!r} button on: {message.plain_text[:80]}"
    await user.tap(message, data=data[index])
    return await reply(user)


async def open_survey(h: Harness, user: SandboxUser, payload: str) -> SentMessage:
    """Open a link, pass eligibility (external), consent and language; return question 1."""
    await user.open_deep_link(payload)
    message = await reply(user)
    while action_buttons(message, "el"):
        message = await tap_action(user, "el", 0)  # "Ya"
    assert action_buttons(message, "ok"), message.plain_text
    message = await tap_action(user, "ok", 0)
    assert action_buttons(message, "lg")
    language = 1 if user.language_code == "en" else 0
    message = await tap_action(user, "lg", language)
    assert position(message) == 1
    return message


async def answer(user: SandboxUser, message: SentMessage, choice: int = 0) -> SentMessage:
    """Answer the current question: a button, a toggle + done, or a typed value."""
    if action_buttons(message, "a"):
        return await tap_action(user, "a", choice)
    if action_buttons(message, "m"):
        await tap_action(user, "m", choice)
        return await tap_action(user, "md")
    await user.send(
        "3" if ("angka" in message.plain_text or "number" in message.plain_text) else "Baik"
    )
    return await reply(user)


async def answer_until(user: SandboxUser, message: SentMessage, stop: str) -> SentMessage:
    """Answer with the first option until a message containing `stop` appears."""
    for _ in range(60):
        if stop in message.plain_text:
            return message
        message = await answer(user, message)
    raise AssertionError(f"never reached {stop!r}")


async def next_toast(h: Harness, before: int) -> str | None:
    """Wait for the bot to answer one more callback query; return its toast text."""
    answers_given = h.sandbox.callback_answers
    await h.sandbox.wait_for(lambda: len(answers_given) > before)
    return answers_given[before].text


async def count(h: Harness, table: object, *where: object) -> int:
    async with h.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def answered_so_far(h: Harness) -> int:
    """Count the answers of surveys in progress (draft rows with a value)."""
    return await count(h, draft_answers, draft_answers.c["value"].is_not(None))


# -- ways in and whole conversations -------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "unit"), [(Group.INTERNAL, "DINKES"), (Group.EXPERT, "INSPEKTORAT")]
)
async def test_personal_invitation_full_conversation(
    harness: Harness, group: Group, unit: str
) -> None:
    payload = await harness.invitation(group, unit)
    user = harness.user()
    persona = Persona(leaning=0.7, rng=random.Random(1), goes_back=True)
    outcome, answered = await simulate_respondent(user, payload, persona)
    assert outcome is Outcome.COMPLETED
    assert answered >= 15
    counts = {
        (c.unit_code, c.grp): c.submitted
        for c in await storage.frames.response_counts(harness.engine, harness.wave.id)
    }
    assert counts[(unit, group.value)] == 1
    assert await count(harness, survey_sessions) == 0
    assert await count(harness, completions) == 1


async def test_open_unit_link_full_conversation_in_english(harness: Harness) -> None:
    user = harness.user("en")
    persona = Persona(leaning=0.3, rng=random.Random(2), language="en")
    outcome, _ = await simulate_respondent(user, harness.unit_payload("DISPENDUKCAPIL"), persona)
    assert outcome is Outcome.COMPLETED
    shown = " ".join(str(call.params.get("text", "")) for call in harness.sandbox.sent)
    assert "Did you use a service of this unit" in shown
    assert "Question 1 of" in shown
    async with harness.engine.connect() as conn:
        row = (await conn.execute(select(responses.c.grp, responses.c.language))).one()
    assert tuple(row) == ("external", "en")


async def test_plain_start_then_pick_a_unit(harness: Harness) -> None:
    user = harness.user()
    await user.command("start")
    message = await reply(user)
    while "Kecamatan Sooko" not in [b.text for b in message.flat_buttons]:
        await user.tap(message, text="›")
        message = await reply(user)
    await user.tap(message, text="Kecamatan Sooko")
    await reply(user)
    question = live(user)
    assert "Kecamatan Sooko" in question.plain_text
    assert action_buttons(question, "el")


async def test_progress_line_and_one_message_edited_in_place(harness: Harness) -> None:
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    total = int(PROGRESS.search(first.plain_text).group(2))  # type: ignore[union-attr]
    assert total >= 20
    second = await answer(user, first)
    assert position(second) == 2
    assert second.message_id == first.message_id  # edited, not a new message
    assert second.edit_count >= 1


# -- invitations and links ------------------------------------------------------------------


async def test_invitation_used_twice_is_refused(harness: Harness) -> None:
    payload = await harness.invitation(Group.INTERNAL)
    first = harness.user()
    await open_survey(harness, first, payload)
    second = harness.user()
    await second.open_deep_link(payload)
    assert "sudah pernah digunakan" in (await reply(second)).plain_text
    assert await count(harness, survey_sessions) == 1


async def test_reopening_own_invitation_resumes(harness: Harness) -> None:
    payload = await harness.invitation(Group.INTERNAL)
    user = harness.user()
    message = await answer(user, await open_survey(harness, user, payload))
    await user.open_deep_link(payload)
    resumed = await reply(user)
    assert position(resumed) == position(message) == 2
    assert any("Melanjutkan survei" in m.plain_text for m in user.chat.messages)


async def test_second_attempt_after_completion_is_told_politely(harness: Harness) -> None:
    user = harness.user()
    persona = Persona(leaning=0.5, rng=random.Random(3))
    payload = harness.unit_payload("DPMPTSP")
    assert (await simulate_respondent(user, payload, persona))[0] is Outcome.COMPLETED
    await user.open_deep_link(payload)
    told = (await reply(user)).plain_text
    assert "sudah menilai layanan" in told
    assert "Dinas Penanaman Modal" in told  # the unit's name: another unit may be rated
    assert await count(harness, responses) == 1


async def test_a_citizen_may_rate_every_service_they_used(harness: Harness) -> None:
    """Issue 22.6: one response per person, unit and wave for service users; the same unit's
    link again is refused politely, another unit's works; an employee still answers once."""
    user = harness.user()
    first = harness.unit_payload("DISPENDUKCAPIL")
    second = harness.unit_payload("DPMPTSP", bound=True)  # a poster bound to this wave too
    assert (await simulate_respondent(user, first, Persona(0.4, random.Random(4))))[0] is (
        Outcome.COMPLETED
    )
    assert (await simulate_respondent(user, second, Persona(0.6, random.Random(5))))[0] is (
        Outcome.COMPLETED
    )
    for payload in (first, second):
        await user.open_deep_link(payload)
        told = (await reply(user)).plain_text
        assert "sudah menilai layanan" in told
    counts = {
        (c.unit_code, c.grp): c.submitted
        for c in await storage.frames.response_counts(harness.engine, harness.wave.id)
    }
    assert counts == {("DISPENDUKCAPIL", "external"): 1, ("DPMPTSP", "external"): 1}
    assert await count(harness, completions) == 2
    # Picked from the plain /start list, the rated unit is refused there too.
    await user.command("start")
    message = await reply(user)
    while "Dinas Kependudukan dan Pencatatan Sipil" not in [b.text for b in message.flat_buttons]:
        await user.tap(message, text="›")
        message = await reply(user)
    await user.tap(message, text="Dinas Kependudukan dan Pencatatan Sipil")
    await reply(user)
    assert "sudah menilai layanan" in user.chat.message(message.message_id).plain_text
    assert await count(harness, survey_sessions) == 0
    # An employee opening a second personal invitation in the same wave is told once is enough.
    employee = harness.user()
    outcome, _ = await simulate_respondent(
        employee, await harness.invitation(Group.INTERNAL), Persona(0.5, random.Random(6))
    )
    assert outcome is Outcome.COMPLETED
    await employee.open_deep_link(await harness.invitation(Group.INTERNAL, "DISDIK"))
    assert "sudah mengisi survei ini" in (await reply(employee)).plain_text


@pytest.mark.parametrize(
    "payload",
    ["iAAAAAAAAAAAAAAAAAAAAAA", "u1-DINKES_AAAAAAAAAAAAAAAA", "hello", "g-not-a-grant"],
)
async def test_forged_or_unknown_links_are_refused(harness: Harness, payload: str) -> None:
    user = harness.user()
    await user.open_deep_link(payload)
    assert "tidak valid" in (await reply(user)).plain_text
    assert await count(harness, responses) == 0


async def test_edited_unit_link_is_refused(harness: Harness) -> None:
    genuine = harness.unit_payload("DINKES")
    edited = genuine.replace("DINKES", "DISDIK")
    user = harness.user()
    await user.open_deep_link(edited)
    assert "tidak valid" in (await reply(user)).plain_text
    other_secret = sign_payload(b"someone-elses-secret-123", f"u{harness.wave.id}-DINKES")
    await user.open_deep_link(other_secret)
    assert "tidak valid" in (await reply(user)).plain_text
    assert await count(harness, responses) == 0


async def test_unit_that_does_not_serve_the_public(harness: Harness) -> None:
    user = harness.user()
    await user.open_deep_link(harness.unit_payload("INSPEKTORAT"))
    assert "tidak melayani masyarakat" in (await reply(user)).plain_text


async def test_ineligible_service_user_is_thanked_and_nothing_is_stored(harness: Harness) -> None:
    user = harness.user()
    await user.open_deep_link(harness.unit_payload())
    await reply(user)
    message = await tap_action(user, "el", 1)  # "Tidak"
    assert "Tidak ada data Anda yang disimpan" in message.plain_text
    assert not message.buttons
    assert await count(harness, responses) == 0
    assert await count(harness, survey_sessions) == 0
    assert await count(harness, draft_answers) == 0


async def test_declining_consent_stores_nothing_and_frees_the_invitation(harness: Harness) -> None:
    payload = await harness.invitation(Group.EXPERT)
    user = harness.user()
    await user.open_deep_link(payload)
    await reply(user)
    message = await tap_action(user, "ok", 1)  # "Tidak sekarang"
    assert "Terima kasih atas waktu Anda" in message.plain_text
    assert await count(harness, responses) == 0
    assert await count(harness, invitations, invitations.c.used.is_(True)) == 0
    await user.open_deep_link(payload)  # changed their mind: the same link still works
    assert action_buttons(await reply(user), "ok")


async def test_closed_wave(harness: Harness) -> None:
    payload = await harness.invitation(Group.INTERNAL)
    user = harness.user()
    message = await open_survey(harness, user, payload)
    await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    await user.tap(message, data=action_buttons(message, "a")[0])
    assert "sudah ditutup" in (await reply(user)).plain_text
    # Partial answers of a closed wave are dropped.
    assert await count(harness, responses) == 0
    assert await count(harness, draft_answers) == 0
    latecomer = harness.user()
    await latecomer.open_deep_link(harness.unit_payload(bound=True))  # an old poster
    assert "sudah ditutup" in (await reply(latecomer)).plain_text
    # Today's poster names no wave: between waves it says so politely.
    await latecomer.open_deep_link(harness.unit_payload())
    assert "belum ada survei yang dibuka" in (await reply(latecomer)).plain_text
    assert await count(harness, survey_sessions) == 0


async def test_a_poster_keeps_working_for_the_next_wave(harness: Harness) -> None:
    poster = harness.unit_payload()
    old_poster = harness.unit_payload(bound=True)
    await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    harness.clock.advance(days=1)
    await open_sample_wave(harness.engine, "2026-S2", harness.clock())
    citizen = harness.user()
    await citizen.open_deep_link(poster)
    assert "layanan" in (await reply(citizen)).plain_text.lower()  # the eligibility question
    other = harness.user()
    await other.open_deep_link(old_poster)  # bound to the closed wave
    assert "sudah ditutup" in (await reply(other)).plain_text


# -- bad input on the question path --------------------------------------------------------


async def test_text_where_a_button_is_expected_reshows_the_question(harness: Harness) -> None:
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    await user.send("saya tidak mau pilih")
    again = await reply(user)
    assert "Mohon jawab dengan menekan salah satu tombol" in again.plain_text
    assert position(again) == 1
    assert again.message_id != first.message_id
    assert not user.chat.message(first.message_id).buttons  # the old keyboard is retired
    assert await answered_so_far(harness) == 0


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_non_text_messages_get_a_polite_prompt(harness: Harness, kind: str) -> None:
    user = harness.user()
    await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    await getattr(user, f"send_{kind}")()
    again = await reply(user)
    assert "hanya bisa membaca jawaban berupa teks atau tombol" in again.plain_text
    assert position(again) == 1


STALE = "Tombol ini dari pertanyaan sebelumnya; berikut pertanyaan Anda saat ini."


async def test_stale_button_reshows_the_current_question(harness: Harness) -> None:
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    old_data = action_buttons(first, "a")[-1]
    second = await answer(user, first)  # answers question 1 with the first option
    before = len(harness.sandbox.callback_answers)
    await user.tap_raw(second.message_id, old_data)  # a tap on the button as it was before
    assert await next_toast(harness, before) == STALE
    shown = user.chat.message(second.message_id)  # still the question the person is on
    assert position(shown) == 2
    assert await answered_so_far(harness) == 1
    third = await answer(user, shown)  # and its buttons work
    assert position(third) == 3


async def test_a_tap_on_an_older_message_moves_the_survey_there(harness: Harness) -> None:
    """Two messages with buttons (a retire that failed): either one leads on, never a dead end."""
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    harness.sandbox.inject_fault("editMessageReplyMarkup", 500, times=None)
    await user.send("saya mau ketik saja")  # the question is re-sent as a new message
    again = await reply(user, one_keyboard=False)  # the retire fails: two stay live
    assert again.message_id != first.message_id
    assert user.chat.message(first.message_id).buttons  # the retire failed: both are live
    # The person taps the OLD message: the survey moves on there...
    old = user.chat.message(first.message_id)
    await user.tap(old, data=action_buttons(old, "a")[0])
    await reply(user, one_keyboard=False)
    assert position(user.chat.message(first.message_id)) == 2
    # ...and a tap on the other one shows question 2 there instead of a dead button.
    harness.sandbox.clear_faults()
    before = len(harness.sandbox.callback_answers)
    await user.tap_raw(again.message_id, action_buttons(again, "a")[0])
    assert await next_toast(harness, before) == STALE
    await reply(user)
    assert position(user.chat.message(again.message_id)) == 2
    assert not user.chat.message(first.message_id).buttons  # only one live message remains
    assert await answered_so_far(harness) == 1


async def test_double_tap_is_recorded_once(harness: Harness) -> None:
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    data = action_buttons(first, "a")[0]
    before = len(harness.sandbox.callback_answers)
    await user.tap(first, data=data)
    # The same button again, as the client still shows it, before the bot has answered.
    await user.tap_raw(first.message_id, data)
    assert await next_toast(harness, before + 1) == STALE
    await reply(user)
    assert position(user.chat.message(first.message_id)) == 2
    assert await answered_so_far(harness) == 1


async def test_a_second_tap_on_submit_keeps_the_thank_you(harness: Harness) -> None:
    user = harness.user()
    message = await open_survey(harness, user, harness.unit_payload())
    review = await answer_until(user, message, "Hampir selesai")
    submit = action_buttons(review, "sb")[0]
    before = len(harness.sandbox.callback_answers)
    await user.tap(review, data=submit)
    # The same button again, as a client still showing the review sends it.
    await user.tap_raw(review.message_id, submit)
    assert await next_toast(harness, before + 1) == "Jawaban Anda sudah terkirim. Terima kasih!"
    await asyncio.sleep(0.1)
    shown = user.chat.message(review.message_id)
    assert shown.plain_text.startswith("Terima kasih!")  # not replaced by "no survey"
    assert await count(harness, responses) == 1


async def review_screen(harness: Harness, user: SandboxUser) -> SentMessage:
    """Open an employee's invitation and answer every question; return the review screen."""
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    return await answer_until(user, first, "Hampir selesai")


async def test_an_employees_second_tap_on_submit_keeps_the_opt_in(harness: Harness) -> None:
    user = harness.user()
    review = await review_screen(harness, user)
    data = action_buttons(review, "sb")[0]
    await user.tap(review, data=data)
    await user.tap_raw(review.message_id, data)  # again, before the bot has answered
    await reply(user)
    shown = user.chat.message(review.message_id)
    assert shown.plain_text.startswith("Terima kasih!"), shown.plain_text
    assert shown.buttons, "the employee's outreach opt-in button is still there"
    assert not any("Tidak ada survei" in m.plain_text for m in user.chat.messages)
    assert await count(harness, responses) == 1


async def test_submit_tapped_again_after_the_thank_you_was_lost_shows_it(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The answers were filed but the thank-you never reached the screen (the edit failed, or
    the process died before it): tapping Kirim again shows it, not "no survey"."""
    harness.settings = harness.settings.model_copy(update={"bot_api_retry_seconds": 0.3})
    await harness.restart()
    user = harness.user()
    review = await review_screen(harness, user)
    outage = harness.sandbox.inject_fault("editMessageText", 502, times=None, chat_id=user.id)
    await user.tap(review, data=action_buttons(review, "sb")[0])
    # The handler gives up on the edit once its retry budget is spent.
    await harness.sandbox.wait_for(lambda: "handler failed" in caplog.text, 10)
    assert outage.hits > 0
    assert await count(harness, responses) == 1
    assert "Hampir selesai" in user.chat.message(review.message_id).plain_text
    harness.sandbox.clear_faults()
    await user.tap(review, data=action_buttons(review, "sb")[0])
    await reply(user)
    assert user.chat.message(review.message_id).plain_text.startswith("Terima kasih!")
    assert await count(harness, responses) == 1


async def test_submit_of_a_cancelled_survey_is_not_thanked(harness: Harness) -> None:
    user = harness.user()
    review = await review_screen(harness, user)
    data = action_buttons(review, "sb")[0]
    await user.command("batal")
    await reply(user)
    await tap_action(user, "cx", 0)  # yes, cancel
    before = len(harness.sandbox.callback_answers)
    await user.tap_raw(review.message_id, data)  # the old review's button, kept by the client
    assert await next_toast(harness, before) == "Tombol ini sudah tidak berlaku."
    await reply(user)
    assert "Tidak ada survei" in user.chat.message(review.message_id).plain_text
    assert await count(harness, responses) == 0


@pytest.mark.parametrize(
    ("action", "index", "shown"),
    [("el", 1, "Survei ini khusus"), ("ok", 1, "Tidak apa-apa")],
)
async def test_declining_tapped_twice_keeps_the_answer(
    harness: Harness, action: str, index: int, shown: str
) -> None:
    user = harness.user()
    await user.open_deep_link(harness.unit_payload())
    message = await reply(user)
    while action_buttons(message, "el") and action != "el":
        message = await tap_action(user, "el", 0)
    data = action_buttons(message, action)[index]
    await user.tap(message, data=data)
    await user.tap_raw(message.message_id, data)
    await reply(user)
    assert shown in user.chat.message(message.message_id).plain_text
    assert await count(harness, responses) == 0


async def test_concurrent_submits_never_show_no_survey(harness: Harness) -> None:
    """Two processes handling the same Kirim at once: one files it, neither says "no survey"."""
    user = harness.user()
    review = await review_screen(harness, user)
    assert harness.app is not None
    flow = harness.app.bot_data.respondents
    data = action_buttons(review, "sb")[0]
    results = await asyncio.gather(
        *(flow.tap(user.id, "id", data, review.message_id) for _ in range(2))
    )
    screens = [r.screen.text for r in results if r.screen is not None]
    assert screens
    assert all(text.startswith("<b>Terima kasih!</b>") for text in screens), screens
    assert await count(harness, responses) == 1


async def test_callback_data_not_issued_by_the_bot_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user = harness.user()
    first = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    other = harness.user()
    other_first = await open_survey(harness, other, await harness.invitation(Group.INTERNAL))
    stolen = action_buttons(other_first, "a")[0]  # genuine data, but signed for someone else
    for data in ("3.a.0.AAAAAAAAAA", "drop table answers", stolen):
        before = len(harness.sandbox.callback_answers)
        await user.tap_raw(first.message_id, data)
        assert await next_toast(harness, before) == "Tombol ini tidak dikenali."
    assert await answered_so_far(harness) == 0
    assert any("did not issue" in r.getMessage() for r in caplog.records)


async def test_long_free_text_is_refused_with_the_limit(harness: Harness) -> None:
    user = harness.user()
    message = await open_survey(harness, user, harness.unit_payload())
    message = await answer_until(user, message, "Ketik jawaban Anda")
    await user.send("x" * 5000)
    refused = await reply(user)
    assert "terlalu panjang (5000 karakter)" in refused.plain_text
    assert "Batasnya 1000 karakter" in refused.plain_text
    await user.send("Antrean perlu dipercepat.")
    assert "Hampir selesai" in (await reply(user)).plain_text


async def test_number_answers_are_validated(harness: Harness) -> None:
    user = harness.user()
    message = await open_survey(harness, user, harness.unit_payload())
    message = await answer(user, message)  # peran
    assert "antara 1 dan 365" in message.plain_text
    await user.send("sering sekali")
    assert "bukan angka" in (await reply(user)).plain_text
    await user.send("1000")
    assert "harus antara 1 dan 365" in (await reply(user)).plain_text
    await user.send("12")
    assert position(await reply(user)) == 3
    async with harness.engine.connect() as conn:
        stored = (
            await conn.execute(
                select(draft_answers.c["value"]).where(draft_answers.c.question_id == "kunjungan")
            )
        ).scalar_one()
    assert stored == "12"


# -- navigation, skip logic, cancel, language ----------------------------------------------


async def test_going_back_and_changing_an_answer_re_evaluates_skip_logic(harness: Harness) -> None:
    user = harness.user()
    message = await open_survey(harness, user, harness.unit_payload())
    message = await answer_until(user, message, "meminta Anda membayar di luar biaya")
    asked = position(message)
    yes = await tap_action(user, "a", 0)  # "Ya": the follow-up question appears
    assert "memenuhi permintaan pembayaran" in yes.plain_text
    await tap_action(user, "a", 0)  # paid
    back = await tap_action(user, "bk")
    assert "memenuhi permintaan pembayaran" in back.plain_text
    back = await tap_action(user, "bk")
    assert position(back) == asked
    assert "✅" in back.flat_buttons[0].text  # the earlier answer is marked
    no = await tap_action(user, "a", 1)  # change to "Tidak"
    assert "memenuhi permintaan pembayaran" not in no.plain_text
    async with harness.engine.connect() as conn:
        ids = set((await conn.execute(select(draft_answers.c.question_id))).scalars())
    assert "ti_diminta" in ids
    assert "ti_membayar" not in ids  # hidden now, so its answer is gone


async def test_cancel_asks_then_discards(harness: Harness) -> None:
    payload = await harness.invitation(Group.INTERNAL)
    user = harness.user()
    message = await answer(user, await open_survey(harness, user, payload))
    await user.command("batal")
    confirm = await reply(user)
    assert "Batalkan survei?" in confirm.plain_text
    kept = await tap_action(user, "cx", 1)  # "Tidak, lanjutkan"
    assert position(kept) == position(message)
    await user.command("batal")
    await reply(user)
    done = await tap_action(user, "cx", 0)
    assert "dibatalkan" in done.plain_text
    assert await count(harness, responses) == 0
    assert await count(harness, answers) == 0
    assert await count(harness, draft_answers) == 0
    await user.command("batal")
    assert "Tidak ada survei" in (await reply(user)).plain_text
    await user.open_deep_link(payload)  # the invitation works again
    assert action_buttons(await reply(user), "ok")


async def test_language_can_change_mid_survey(harness: Harness) -> None:
    user = harness.user()
    message = await answer(
        user, await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    )
    await user.command("bahasa")
    picker = await reply(user)
    assert action_buttons(picker, "lg")
    english = await tap_action(user, "lg", 1)
    assert f"Question {position(message)} of" in english.plain_text
    async with harness.engine.connect() as conn:
        language = (await conn.execute(select(survey_sessions.c.language))).scalar_one()
    assert language == "en"  # the response will be filed in the language it ends in


async def test_language_outside_a_survey(harness: Harness) -> None:
    user = harness.user("id")
    await user.command("bahasa")
    await reply(user)
    changed = await tap_action(user, "lg", 1)
    assert changed.plain_text == "Language changed to English."
    await user.command("start")
    await reply(user)
    assert user.chat.messages[-2].plain_text.startswith("Welcome")


# -- state in the database --------------------------------------------------------------------


async def test_resume_after_a_real_restart(harness: Harness) -> None:
    user = harness.user()
    message = await open_survey(harness, user, await harness.invitation(Group.INTERNAL))
    for _ in range(3):
        message = await answer(user, message)
    assert position(message) == 4
    await harness.restart()  # a new Application, process memory gone
    await user.tap(message, data=action_buttons(message, "a")[0])
    assert position(await reply(user)) == 5
    await harness.restart()
    await user.command("start")
    await reply(user)
    assert position(live(user)) == 5
    assert await answered_so_far(harness) == 4


async def test_partial_sessions_expire(harness: Harness) -> None:
    payload = await harness.invitation(Group.INTERNAL)
    user = harness.user()
    message = await answer(user, await open_survey(harness, user, payload))
    harness.clock.advance(days=15)
    await user.tap(message, data=action_buttons(message, "a")[0])
    assert "kedaluwarsa" in (await reply(user)).plain_text
    assert await count(harness, survey_sessions) == 0
    assert await count(harness, draft_answers) == 0
    await user.open_deep_link(payload)
    assert action_buttons(await reply(user), "ok")


# It reads the SQLite file; PostgreSQL's physical order: tests/test_storage_anonymity.py.
@pytest.mark.parametrize("database_url_for", ["sqlite"], indirect=True)
async def test_anonymity_in_the_database(harness: Harness, tmp_path: Path) -> None:
    people = [harness.user() for _ in range(3)]
    for i, person in enumerate(people):
        payload = await harness.invitation(Group.INTERNAL) if i else harness.unit_payload()
        outcome, _ = await simulate_respondent(person, payload, Persona(0.5, random.Random(i)))
        assert outcome is Outcome.COMPLETED
    unfinished = harness.user()
    await open_survey(harness, unfinished, await harness.invitation(Group.EXPERT))
    # An employee opts in to outreach, and a broadcast reaches them (a claim by pseudonym).
    thanks = people[1].chat.messages[-1]
    await people[1].tap(thanks, data=thanks.flat_buttons[0].data)
    await reply(people[1])
    assert harness.app is not None
    services = harness.app.bot_data.services
    draft = await outreach.draft_broadcast(services, "Sosialisasi")
    await storage.broadcasts.confirm_broadcast(harness.engine, draft.id)
    confirmed = await storage.broadcasts.get_broadcast(harness.engine, draft.id)
    assert confirmed is not None
    delivery = harness.app.bot_data.scheduler.delivery
    assert (await outreach.send_broadcast(services, delivery, confirmed)).sent == 1
    await harness.stop()  # checkpoint the WAL so the file holds everything

    db_file = tmp_path / "bot.db"
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump = "\n".join(conn.iterdump())
        pseudonyms = {r[0] for r in conn.execute("SELECT pseudonym FROM respondents")}
        response_columns = {r[1] for r in conn.execute("PRAGMA table_info(responses)")}
        answer_columns = {r[1] for r in conn.execute("PRAGMA table_info(answers)")}
        sessions = conn.execute("SELECT COUNT(*) FROM survey_sessions").fetchone()[0]
        submitted = conn.execute("SELECT completed_on FROM responses").fetchall()
        answer_rows = conn.execute("SELECT response_id, question_id, value FROM answers").fetchall()
        contact_rows = conn.execute("SELECT pseudonym, purpose, chat FROM contacts").fetchall()
        survey_contact_rows = conn.execute("SELECT pseudonym, chat FROM survey_contacts").fetchall()
        contact_columns = {r[1] for r in conn.execute("PRAGMA table_info(contacts)")}
        # Physical row order must not reveal who started when (see storage/schema.py).
        unordered = {
            name: sql
            for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
            if name
            in (
                "respondents",
                "completions",
                "responses",
                "answers",
                "contacts",
                "survey_sessions",
                "draft_answers",
                "survey_contacts",
            )
        }
    raw = db_file.read_bytes()
    for person in [*people, unfinished]:
        assert str(person.id) not in dump, "a Telegram id is stored"
        assert str(person.id).encode() not in raw
    assert "pseudonym" not in response_columns | answer_columns
    # Reminders need the unfinished respondent's chat id, outreach the opted-in employee's:
    # kept apart and encrypted only; the survey contact lives (and goes) with the session.
    assert sorted(row[1] for row in contact_rows) == ["outreach"]
    assert len(survey_contact_rows) == 1
    assert {"response_id", "question_id", "value"}.isdisjoint(contact_columns)
    assert all(str(p.id).encode() not in row[2] for row in contact_rows for p in people)
    assert str(unfinished.id).encode() not in b"".join(row[1] for row in survey_contact_rows)
    assert sessions == 1  # only the unfinished respondent is still linked
    assert len(pseudonyms) == 4
    for pseudonym in pseudonyms:
        assert all(pseudonym not in str(row) for row in answer_rows)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[0]) for row in submitted)  # a date, no time
    assert "answers" in tables
    assert len(unordered) == 8
    assert all(sql.rstrip().endswith("WITHOUT ROWID") for sql in unordered.values())


async def test_expired_sessions_are_cleared_at_start_up(harness: Harness) -> None:
    user = harness.user()
    await answer(user, await open_survey(harness, user, await harness.invitation(Group.INTERNAL)))
    assert await count(harness, survey_sessions) == 1
    assert await answered_so_far(harness) == 1
    harness.clock.advance(days=16)
    await harness.restart()
    assert await count(harness, draft_answers) == 0
    assert await count(harness, survey_sessions) == 0
    assert await count(harness, invitations, invitations.c.used.is_(True)) == 0


@pytest.mark.parametrize("database_url_for", ["sqlite"], indirect=True)
async def test_after_a_restore_people_who_were_answering_start_again(
    harness: Harness, tmp_path: Path
) -> None:
    """A backup holds no survey in progress (issue 20): after a restore, someone who was
    answering finds no survey, and their personal link starts it afresh."""
    from bot.cli import main

    payload = await harness.invitation(Group.INTERNAL)
    user = harness.user()
    message = await answer(user, await open_survey(harness, user, payload))
    env = tmp_path / "restore.env"
    env.write_text(
        f"DATABASE_URL={harness.settings.database_url}\n"
        f"SPIBOT_SECRET={harness.settings.spibot_secret.get_secret_value()}\n",  # type: ignore[union-attr]
        encoding="utf-8",
    )
    backup = tmp_path / "mid-survey.db"
    assert await asyncio.to_thread(main, ["--env-file", str(env), "db", "backup", str(backup)]) == 0
    await harness.stop()
    restore = ["--env-file", str(env), "db", "restore", str(backup), "--yes"]
    assert await asyncio.to_thread(main, restore) == 0
    await harness.start()
    await user.tap(message, data=action_buttons(message, "a")[0])  # the old question's button
    assert "Tidak ada survei" in (await reply(user)).plain_text
    await user.open_deep_link(payload)  # the link was never used to submit: it works again
    assert action_buttons(await reply(user), "ok")
