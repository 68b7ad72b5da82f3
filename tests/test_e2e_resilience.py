"""The survey under what Telegram really does: 429s and 5xx, late taps, bad updates, floods.

Real PTB over real HTTP against the sandbox; the faults are the sandbox's own (seeded, so a
run repeats). Crash behaviour (a real process killed with SIGKILL) is in test_e2e_crash.py.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from sandbox.simulation import Outcome, Persona, simulate_respondent
from storage.answers import answers, responses
from surveys import Group
from tests.e2e_fixtures import Harness, action_buttons, live, reply

SEND_AND_EDIT = ("sendMessage", "editMessageText", "editMessageReplyMarkup")


async def _count(harness: Harness, table: object) -> int:
    async with harness.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def _patient(harness: Harness, **settings: object) -> None:
    """Restart the bot with other settings (e.g. a longer retry budget)."""
    harness.settings = harness.settings.model_copy(update=settings)
    await harness.restart()


async def test_respondents_finish_with_429s_and_5xx_on_every_send_and_edit(
    harness: Harness,
) -> None:
    await _patient(harness, bot_api_retry_seconds=6.0)
    too_many = harness.sandbox.inject_fault(
        SEND_AND_EDIT, 429, retry_after=1, probability=0.10, times=None
    )
    bad_gateway = harness.sandbox.inject_fault(SEND_AND_EDIT, 502, probability=0.05, times=None)
    people = [harness.user() for _ in range(3)]
    payloads = [await harness.invitation(Group.INTERNAL) for _ in people]
    outcomes = await asyncio.gather(
        *(
            simulate_respondent(user, payload, Persona(0.6, random.Random(i)), timeout=30)
            for i, (user, payload) in enumerate(zip(people, payloads, strict=True))
        )
    )
    assert [outcome for outcome, _ in outcomes] == [Outcome.COMPLETED] * 3
    assert await _count(harness, responses) == 3
    assert too_many.hits > 0
    assert bad_gateway.hits > 0, "the faults must really have hit"


async def test_a_late_batch_of_taps_still_moves_the_survey(harness: Harness) -> None:
    """An outage: the taps reach the bot after their callback queries expired."""
    user = harness.user()
    await user.open_deep_link(await harness.invitation(Group.INTERNAL))
    await reply(user)
    harness.sandbox.hold_updates(user)
    message = live(user)
    await user.tap(message, data=action_buttons(message, "ok")[0])  # consent, held back
    harness.sandbox.advance_time(60)  # every query is now "too old" for Telegram
    assert harness.sandbox.release_updates(user) == 1
    shown = await reply(user)
    assert action_buttons(shown, "lg"), shown.plain_text  # the next step is on screen
    refused = [c for c in harness.sandbox.calls("answerCallbackQuery") if c.error]
    assert refused, "the late query was refused by the Bot API, and that did not matter"
    # A second late batch: a double tap, both after expiry; only one moves the survey.
    harness.sandbox.hold_updates(user)
    data = action_buttons(shown, "lg")[0]
    await user.tap(shown, data=data)
    await user.tap_raw(shown.message_id, data)
    harness.sandbox.advance_time(60)
    assert harness.sandbox.release_updates(user) == 2
    await reply(user)
    first_question = user.chat.message(shown.message_id)
    assert "Pertanyaan 1 dari" in first_question.plain_text
    assert action_buttons(first_question, "a")


async def test_a_poison_update_does_not_stop_the_bot(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    spoiler = harness.user()
    harness.sandbox.inject_poison_update(spoiler)
    user = harness.user()
    await user.command("start")
    welcome = await reply(user, timeout=10)
    assert "Selamat datang" in " ".join(m.plain_text for m in user.chat.messages), welcome
    # Skipped with its id only: the batch's content (ids, answers) never reaches the log.
    assert any("cannot decode" in r.getMessage() for r in caplog.records)
    assert not any("Received data" in r.getMessage() for r in caplog.records)
    assert str(spoiler.id) not in caplog.text


async def test_a_flooding_chat_does_not_hold_up_anyone_else(harness: Harness) -> None:
    flooder = harness.user()
    for i in range(2000):
        await flooder.send(f"spam {i}")
    people = [harness.user() for _ in range(5)]
    payloads = [await harness.invitation(Group.INTERNAL) for _ in people]
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(
                simulate_respondent(user, payload, Persona(0.5, random.Random(i)), timeout=30)
                for i, (user, payload) in enumerate(zip(people, payloads, strict=True))
            )
        ),
        timeout=120,
    )
    assert [outcome for outcome, _ in outcomes] == [Outcome.COMPLETED] * 5
    notices = [m for m in flooder.chat.messages if "terlalu cepat" in m.plain_text]
    assert len(notices) == 1, "the flooding chat is told once"
    # The flood was cut short: far fewer replies than messages.
    assert len(flooder.chat.messages) < 500
    assert await _count(harness, answers) > 0
