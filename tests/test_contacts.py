"""Contacts: encryption bound to its row, storage on SQLite and PostgreSQL, deletion with the
survey (submit, cancel, expiry), and the reminder claim that admits one process per round."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.reach.contacts import ContactCipher
from storage.contacts import (
    ContactPurpose,
    ReminderStatus,
    claim_reminder,
    claim_reminders,
    contact_count,
    contacts_page,
    delete_contact,
    due_reminders,
    finish_reminder,
    finish_reminders,
    prune_survey_contacts,
    save_contact,
)
from storage.sessions import cancel_session, expire_sessions, start_session, submit
from storage.turns import move_session
from tests.storage_fixtures import NOW

SECRET = b"s" * 32
SURVEY = ContactPurpose.SURVEY


def names(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(1, n + 1)]


def test_cipher_round_trip_and_binding() -> None:
    cipher = ContactCipher(SECRET)
    blob = cipher.encrypt("p1", SURVEY, 123456789)
    assert b"123456789" not in blob
    assert cipher.decrypt("p1", SURVEY, blob) == 123456789
    # Same id, fresh nonce: two rows never share a ciphertext.
    assert cipher.encrypt("p1", SURVEY, 123456789) != blob


@pytest.mark.parametrize(
    ("pseudonym", "purpose", "secret"),
    [
        ("p2", SURVEY, SECRET),  # moved to another person's row
        ("p1", ContactPurpose.OUTREACH, SECRET),  # moved to another purpose
        ("p1", SURVEY, b"t" * 32),  # the secret changed
    ],
)
def test_cipher_refuses_a_blob_from_elsewhere(
    pseudonym: str, purpose: ContactPurpose, secret: bytes
) -> None:
    blob = ContactCipher(SECRET).encrypt("p1", SURVEY, 42)
    assert ContactCipher(secret).decrypt(pseudonym, purpose, blob) is None
    assert ContactCipher(SECRET).decrypt("p1", SURVEY, b"short") is None


async def _start(setup, pseudonym: str, now=NOW):
    session = await start_session(
        setup.db.engine,
        pseudonym,
        setup.wave.id,
        "external",
        setup.units["PKM-01"].id,
        None,
        "id",
        "consent",
        now,
    )
    await save_contact(setup.db.engine, pseudonym, SURVEY, b"blob-" + pseudonym[-4:].encode())
    return session


async def test_contacts_are_paged_in_pseudonym_order(survey_setup) -> None:
    engine = survey_setup.db.engine
    for name in reversed(names(5)):
        await save_contact(engine, name, ContactPurpose.OUTREACH, b"x", "en", None)
    first = await contacts_page(engine, ContactPurpose.OUTREACH, limit=2)
    rest = await contacts_page(engine, ContactPurpose.OUTREACH, after=first[-1].pseudonym)
    assert [c.pseudonym for c in first + rest] == names(5)
    assert await contact_count(engine, SURVEY) == 0
    await save_contact(engine, names(1)[0], ContactPurpose.OUTREACH, b"y", "id", None)  # replace
    assert (await contacts_page(engine, ContactPurpose.OUTREACH, limit=1))[0].chat == b"y"
    assert await delete_contact(engine, names(1)[0])
    assert not await delete_contact(engine, names(1)[0])


async def test_survey_contact_goes_with_submit_cancel_and_expiry(survey_setup) -> None:
    engine = survey_setup.db.engine
    done, cancelled, expired, going = names(4)
    for name in (done, cancelled, going):
        await _start(survey_setup, name)
    await _start(survey_setup, expired, now=NOW - timedelta(days=30))
    assert await contact_count(engine, SURVEY) == 4
    assert await submit(engine, done, NOW + timedelta(minutes=1), NOW.date())
    assert await cancel_session(engine, cancelled)
    assert await expire_sessions(engine, NOW.date()) == 1
    left = await contacts_page(engine, SURVEY)
    assert [c.pseudonym for c in left] == [going]
    # A survey contact needs a survey in progress: it belongs to the session (issue 20).
    assert not await save_contact(engine, done, SURVEY, b"orphan")
    await prune_survey_contacts(engine)
    assert [c.pseudonym for c in await contacts_page(engine, SURVEY)] == [going]
    # They are no outreach or official contacts, and no unit filter finds them.
    assert await contact_count(engine, ContactPurpose.OUTREACH) == 0
    assert await contacts_page(engine, SURVEY, unit_ids=[survey_setup.units["PKM-01"].id]) == []
    assert await delete_contact(engine, going, SURVEY)
    assert await contact_count(engine, SURVEY) == 0


async def test_due_reminders_follow_idle_time_rounds_and_claims(survey_setup) -> None:
    engine = survey_setup.db.engine
    wave = survey_setup.wave.id
    idle, busy = names(2)
    await _start(survey_setup, idle)
    busy_session = await _start(survey_setup, busy)
    await move_session(engine, busy_session, now=NOW + timedelta(hours=20), step="question")
    later = NOW + timedelta(days=1)
    due = await due_reminders(engine, wave, 1, idle_since=later - timedelta(days=1))
    assert [d.pseudonym for d in due] == [idle]
    assert due[0].language == "id"
    # Round 2 needs round 1 first, and long enough before.
    assert await due_reminders(engine, wave, 2, idle_since=later, previous_before=later) == []
    assert await claim_reminder(engine, idle, wave, 1, later)
    assert not await claim_reminder(engine, idle, wave, 1, later)  # exactly once
    await finish_reminder(engine, idle, wave, 1, ReminderStatus.SENT)
    assert await due_reminders(engine, wave, 1, idle_since=NOW) == []
    two_days = later + timedelta(days=2)
    assert (
        await due_reminders(
            engine, wave, 2, idle_since=two_days, previous_before=later - timedelta(seconds=1)
        )
        == []
    )
    due2 = await due_reminders(engine, wave, 2, idle_since=two_days, previous_before=two_days)
    assert [d.pseudonym for d in due2] == [idle]


async def test_concurrent_claims_admit_one(survey_setup) -> None:
    engine = survey_setup.db.engine
    (person,) = names(1)
    await _start(survey_setup, person)
    won = await asyncio.gather(
        *(claim_reminder(engine, person, survey_setup.wave.id, 1, NOW) for _ in range(6))
    )
    assert sorted(won) == [False] * 5 + [True]


async def test_claims_in_one_statement_return_only_those_won(survey_setup) -> None:
    from sqlalchemy import select

    from storage.contacts import reminder_claims

    engine = survey_setup.db.engine
    wave = survey_setup.wave.id
    a, b, c = names(3)
    for person in (a, b, c):
        await _start(survey_setup, person)
    assert await claim_reminders(engine, wave, 1, [a, b], NOW) == {a, b}
    # Another process's chunk overlaps: it wins only the one nobody had.
    assert await claim_reminders(engine, wave, 1, [b, c], NOW) == {c}
    assert await claim_reminders(engine, wave, 1, [], NOW) == set()
    assert await claim_reminders(engine, wave, 2, [a], NOW) == {a}  # another round
    await finish_reminders(
        engine, wave, 1, {a: ReminderStatus.SENT, b: ReminderStatus.GONE, c: ReminderStatus.SENT}
    )
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(reminder_claims.c.pseudonym, reminder_claims.c.round, reminder_claims.c.status)
        )
        statuses = {(row.pseudonym, row.round): row.status for row in rows}
    assert statuses == {(a, 1): "sent", (b, 1): "gone", (c, 1): "sent", (a, 2): "claimed"}


@pytest.mark.parametrize("delays", ["72,24", "0,24", "24,24", "abc"])
def test_reminder_delays_must_increase(delays: str) -> None:
    from services.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="REMINDER_DELAYS_HOURS"):
        load_settings(None, reminder_delays_hours=delays)


def test_reminder_delays_parse_and_limit_rounds() -> None:
    from services.reach import ReminderPolicy
    from services.settings import load_settings

    settings = load_settings(None, reminder_delays_hours="12, 36,100", reminder_max_rounds=2)
    assert settings.reminder_delays_hours == (12.0, 36.0, 100.0)
    policy = ReminderPolicy.from_settings(settings)
    assert policy.delays == (timedelta(hours=12), timedelta(hours=36))
