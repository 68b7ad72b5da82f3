"""The survey flow: sessions and drafts, optimistic concurrency, submission under a fresh id,
per-unit completions for citizens, cancel and expiry, and the paradata they leave behind."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select, text

from storage.answers import answers, draft_answers, get_answers, get_drafts, get_response, responses
from storage.db import Database
from storage.errors import AlreadyCompleted, InvitationTaken, NotFound, SessionExists
from storage.funnel import dropouts
from storage.invitations import NewInvitation, create_invitations, get_invitation
from storage.paradata import list_arrivals, list_item_paradata
from storage.respondents import (
    completions,
    set_respondent_language,
    survey_contacts,
    survey_sessions,
)
from storage.sessions import (
    cancel_session,
    expire_sessions,
    get_session,
    has_completed,
    start_session,
    submit,
)
from storage.turns import move_session, set_session_message
from storage.waves import close_wave, open_wave
from tests.storage_fixtures import NOW, record_answers

ALICE = "a" * 64
BOB = "b" * 64
TODAY = date(2025, 5, 2)


async def _start(setup, pseudonym=ALICE, grp="external", unit="PKM-01", invitation_id=None):
    return await start_session(
        setup.db.engine,
        pseudonym,
        setup.wave.id,
        grp,
        setup.units[unit].id,
        invitation_id,
        "id",
        "consent",
        NOW,
    )


async def _all_rows(db, table):
    async with db.engine.connect() as conn:
        return (await conn.execute(select(table))).all()


async def _submit(db, pseudonym=ALICE, *, minutes=5, **kwargs):
    return await submit(db.engine, pseudonym, NOW + timedelta(minutes=minutes), TODAY, **kwargs)


async def test_start_session_makes_a_session_and_no_response(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    assert await get_session(db.engine, ALICE) == session
    assert (session.version, session.step, session.started_at) == (0, "consent", NOW)
    assert session.questionnaire_id == survey_setup.wave.questionnaire_ids["external"]
    assert session.expires_on == NOW.date() + timedelta(days=14)
    # A survey in progress is not a response: nothing exists under a response id yet.
    assert await _all_rows(db, responses) == []
    assert await get_session(db.engine, BOB) is None


async def test_second_session_is_refused_and_leaves_no_orphan(survey_setup):
    await _start(survey_setup)
    with pytest.raises(SessionExists):
        await _start(survey_setup, grp="internal", unit="DINKES")
    assert len(await _all_rows(survey_setup.db, survey_sessions)) == 1


async def test_start_session_needs_questionnaire_for_group(db, survey_setup):
    await close_wave(db.engine, survey_setup.wave.id, NOW)
    external = survey_setup.wave.questionnaire_ids["external"]
    wave = await open_wave(db.engine, "external-only", {"external": external}, NOW)
    with pytest.raises(NotFound, match="no questionnaire"):
        await start_session(
            db.engine,
            ALICE,
            wave.id,
            "internal",
            survey_setup.units["DINKES"].id,
            None,
            "id",
            "consent",
            NOW,
        )


async def test_optimistic_concurrency_records_a_double_tap_once(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    later = NOW + timedelta(minutes=1)
    moved = await asyncio.gather(
        *(
            move_session(db.engine, session, now=later, step="question", question_id="q1")
            for _ in range(5)
        )
    )
    assert sum(m is not None for m in moved) == 1
    current = await get_session(db.engine, ALICE)
    assert current is not None
    assert (current.version, current.step, current.question_id) == (1, "question", "q1")
    assert current.updated_at == later
    # Stale version: someone else moved first.
    assert await move_session(db.engine, session, now=later, step="review") is None
    # Unchanged fields stay; None clears.
    moved_again = await move_session(db.engine, current, now=later, question_id=None, language="en")
    assert moved_again is not None
    current = await get_session(db.engine, ALICE)
    assert current == moved_again
    assert (current.step, current.question_id, current.language, current.version) == (
        "question",
        None,
        "en",
        2,
    )
    gone = replace(session, pseudonym=BOB)
    assert await move_session(db.engine, gone, now=later, step="question") is None


async def test_drafts_upsert_drop_pass_and_read(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    session = await record_answers(
        db, session, {"q1": "3", "q2": "a,b", "q3": "free text\x1fwith separator"}
    )
    session = await record_answers(db, session, {"q1": "4"})
    assert await get_drafts(db.engine, ALICE) == {
        "q1": "4",
        "q2": "a,b",
        "q3": "free text with separator",
    }
    moved = await move_session(db.engine, session, now=NOW, drop_answers=["q2", "q9"])
    assert moved is not None
    # An item passed unanswered is kept as a draft without a value (paradata, not an answer).
    moved = await move_session(db.engine, moved, now=NOW, answer=("q4", None))
    assert moved is not None
    assert await get_drafts(db.engine, ALICE) == {
        "q1": "4",
        "q3": "free text with separator",
        "q4": None,
    }
    with pytest.raises(ValueError, match="question ids"):
        await move_session(db.engine, moved, now=NOW, answer=("bad\x1fid", "1"))
    assert await get_session(db.engine, ALICE) == moved  # the refused answer moved nothing


async def test_submit_files_under_a_fresh_id_and_forgets_the_session(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    session = await record_answers(db, session, {"q1": "4", "q2": "2"})
    moved = await move_session(db.engine, session, now=NOW, answer=("q3", None))
    assert moved is not None
    async with db.engine.begin() as conn:
        await conn.execute(survey_contacts.insert().values(pseudonym=ALICE, chat=b"sealed"))
    assert not await has_completed(db.engine, ALICE, survey_setup.wave.id, "external")

    assert await _submit(db, minutes=5)

    assert await get_session(db.engine, ALICE) is None
    for table in (survey_sessions, draft_answers, survey_contacts):
        assert await _all_rows(db, table) == [], table.name
    (response,) = await _all_rows(db, responses)
    assert len(response.id) == 32
    int(response.id, 16)
    assert (response.completed_on, response.grp, response.language) == (TODAY, "external", "id")
    # Five minutes for two answers: band 3 (300-600 s), pace 150 s per item: band 7 (64+).
    assert (response.duration_band, response.pace_band) == (3, 7)
    assert await get_answers(db.engine, response.id) == {"q1": "4", "q2": "2"}
    assert await has_completed(db.engine, ALICE, survey_setup.wave.id, "external")
    assert not await has_completed(db.engine, ALICE, survey_setup.wave.id, "internal")
    unit = survey_setup.units["PKM-01"].id
    assert [tuple(row) for row in await _all_rows(db, completions)] == [
        (ALICE, survey_setup.wave.id, "external", unit)
    ]
    # Nothing that stores answers knows the pseudonym.
    for table in (responses, answers):
        for row in await _all_rows(db, table):
            assert ALICE not in [str(value) for value in row]
    # A second submit has nothing to file.
    assert not await _submit(db)


async def test_responses_keep_no_time_and_nothing_of_the_session(survey_setup):
    db = survey_setup.db
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("responses"))
    kinds = {column["name"]: str(column["type"]).upper() for column in columns}
    assert not any("TIME" in kind for kind in kinds.values())
    assert set(kinds) == {
        "id",
        "wave_id",
        "grp",
        "unit_id",
        "questionnaire_id",
        "language",
        "completed_on",
        "duration_band",
        "pace_band",
    }


async def test_concurrent_submits_file_once(survey_setup):
    db = survey_setup.db
    await _start(survey_setup)
    results = await asyncio.gather(*(_submit(db) for _ in range(4)))
    assert results.count(True) == 1
    assert len(await _all_rows(db, completions)) == 1
    assert len(await _all_rows(db, responses)) == 1


async def test_one_completion_per_wave_and_group_and_for_citizens_per_unit(survey_setup):
    db = survey_setup.db
    wave = survey_setup.wave.id
    await _start(survey_setup)
    assert await _submit(db)
    with pytest.raises(AlreadyCompleted):
        await _start(survey_setup)  # the same service again
    # A citizen may rate another service they used in the same wave (issue 22.6) ...
    other = await _start(survey_setup, unit="KEC-01")
    assert other.unit_id == survey_setup.units["KEC-01"].id
    assert await _submit(db)
    assert await has_completed(db.engine, ALICE, wave, "external", survey_setup.units["KEC-01"].id)
    assert not await has_completed(
        db.engine, ALICE, wave, "external", survey_setup.units["DINKES"].id
    )
    # ... while an employee answers once per wave, whatever unit they name.
    await _start(survey_setup, grp="internal", unit="DINKES")
    assert await _submit(db)
    with pytest.raises(AlreadyCompleted):
        await _start(survey_setup, grp="internal", unit="KEC-01")
    assert len(await _all_rows(db, responses)) == 3


async def test_an_external_completion_from_before_per_unit_markers_covers_every_unit(
    survey_setup,
):
    db = survey_setup.db
    async with db.engine.begin() as conn:
        await conn.execute(
            completions.insert().values(
                pseudonym=ALICE, wave_id=survey_setup.wave.id, grp="external", scope=0
            )
        )
    for unit in ("PKM-01", "KEC-01"):
        with pytest.raises(AlreadyCompleted):
            await _start(survey_setup, unit=unit)


async def test_completion_conflict_at_submit_rolls_back(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    await record_answers(db, session, {"q1": "2"})
    async with db.engine.begin() as conn:
        await conn.execute(
            completions.insert().values(
                pseudonym=ALICE,
                wave_id=survey_setup.wave.id,
                grp="external",
                scope=survey_setup.units["PKM-01"].id,
            )
        )
    with pytest.raises(AlreadyCompleted):
        await _submit(db)
    assert await get_session(db.engine, ALICE) is not None
    assert await get_drafts(db.engine, ALICE) == {"q1": "2"}
    assert await _all_rows(db, responses) == []


async def test_cancel_deletes_everything_counts_it_and_frees_the_invitation(survey_setup):
    db = survey_setup.db
    token = "i" * 64
    dinkes = survey_setup.units["DINKES"].id
    await create_invitations(
        db.engine, [NewInvitation(token, survey_setup.wave.id, "internal", dinkes)], NOW
    )
    invitation = await get_invitation(db.engine, token)
    assert invitation is not None
    session = await _start(survey_setup, grp="internal", unit="DINKES", invitation_id=invitation.id)
    # The survey in progress is the link's claim; the link is not marked used until a submit.
    assert not (await get_invitation(db.engine, token)).used
    with pytest.raises(InvitationTaken):
        await _start(survey_setup, BOB, grp="internal", unit="DINKES", invitation_id=invitation.id)
    session = await record_answers(db, session, {"q1": "1"})
    on_q2 = await move_session(db.engine, session, now=NOW, step="question", question_id="q2")
    assert on_q2 is not None

    assert await cancel_session(db.engine, ALICE)
    assert not await cancel_session(db.engine, ALICE)
    for table in (survey_sessions, draft_answers, responses, answers):
        assert await _all_rows(db, table) == [], table.name
    assert not (await get_invitation(db.engine, token)).used
    assert [tuple(r) for r in await _all_rows(db, dropouts)] == [
        (survey_setup.wave.id, dinkes, "internal", 1)
    ]
    items = {i.question_id: i for i in await list_item_paradata(db.engine, survey_setup.wave.id)}
    assert (items["q1"].shown, items["q1"].answered, items["q1"].abandoned) == (1, 1, 0)
    assert (items["q2"].shown, items["q2"].answered, items["q2"].abandoned) == (1, 0, 1)
    # The link works again; once a survey is submitted on it, it is used for good.
    await _start(survey_setup, BOB, grp="internal", unit="DINKES", invitation_id=invitation.id)
    assert await _submit(db, BOB)
    assert (await get_invitation(db.engine, token)).used
    with pytest.raises(InvitationTaken):
        await _start(survey_setup, grp="internal", unit="DINKES", invitation_id=invitation.id)


async def test_expire_sessions_ends_old_surveys_only(survey_setup):
    db = survey_setup.db
    old = await _start(survey_setup)
    await record_answers(db, old, {"q1": "1"})
    fresh = await start_session(
        db.engine,
        BOB,
        survey_setup.wave.id,
        "external",
        survey_setup.units["PKM-01"].id,
        None,
        "id",
        "consent",
        NOW + timedelta(days=10),
    )
    carol = "c" * 64
    await _start(survey_setup, pseudonym=carol)
    assert await _submit(db, carol)

    last_day = NOW.date() + timedelta(days=14)
    assert await expire_sessions(db.engine, last_day) == 0  # expires at the end of the day
    assert await expire_sessions(db.engine, last_day + timedelta(days=1)) == 1
    assert await get_session(db.engine, ALICE) is None
    assert await get_drafts(db.engine, ALICE) == {}
    assert await get_session(db.engine, BOB) == fresh
    assert len(await _all_rows(db, responses)) == 1  # carol's, untouched
    assert await expire_sessions(db.engine, last_day + timedelta(days=1)) == 0


async def test_naive_datetimes_are_refused(survey_setup):
    with pytest.raises(ValueError, match="timezone-aware"):
        await start_session(
            survey_setup.db.engine,
            ALICE,
            survey_setup.wave.id,
            "external",
            survey_setup.units["PKM-01"].id,
            None,
            "id",
            "consent",
            NOW.replace(tzinfo=None),
        )


async def test_sqlite_concurrent_writers_wait_instead_of_failing(tmp_path):
    """Read-then-write transactions take the write lock up front (BEGIN IMMEDIATE)."""
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as db:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await asyncio.gather(
            *(set_respondent_language(db.engine, f"{i:064d}", "en") for i in range(20))
        )
        await asyncio.gather(*(cancel_session(db.engine, f"{i:064d}") for i in range(20)))


async def test_move_session_saves_answer_with_the_move(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    session = await record_answers(db, session, {"q0": "x", "q5": "y"})
    later = NOW + timedelta(minutes=2)
    moved = await move_session(
        db.engine,
        session,
        now=later,
        step="question",
        question_id="q2",
        answer=("q1", "4"),
        drop_answers=["q5", "q1"],
    )
    assert moved is not None
    assert (moved.version, moved.step, moved.question_id, moved.updated_at) == (
        3,
        "question",
        "q2",
        later,
    )
    assert await get_session(db.engine, ALICE) == moved
    assert await get_drafts(db.engine, ALICE) == {"q0": "x", "q1": "4"}
    # The same tap again is stale: nothing changes.
    assert await move_session(db.engine, session, now=later, answer=("q1", "1")) is None
    assert (await get_drafts(db.engine, ALICE))["q1"] == "4"


async def test_concurrent_moves_record_one_answer(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    results = await asyncio.gather(
        *(
            move_session(db.engine, session, now=NOW, question_id="q2", answer=("q1", str(i)))
            for i in range(5)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert len(await get_drafts(db.engine, ALICE)) == 1


async def test_set_session_message_keeps_version(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    await set_session_message(db.engine, ALICE, 77)
    current = await get_session(db.engine, ALICE)
    assert current is not None
    assert (current.message_id, current.version) == (77, session.version)


async def test_get_response_and_submit_with_expected_version(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    assert await move_session(db.engine, session, now=NOW, step="review") is not None
    assert not await _submit(db, expected_version=0)
    assert await _submit(db, expected_version=1)
    (row,) = await _all_rows(db, responses)
    response = await get_response(db.engine, row.id)
    assert response is not None
    assert (response.completed_on, response.grp, response.language) == (TODAY, "external", "id")
    assert response.pace_band is None  # no answers, no pace
    assert await get_response(db.engine, "0" * 32) is None


async def _draft_rows(db):
    return {row.question_id: row for row in await _all_rows(db, draft_answers)}


async def test_drafts_keep_seconds_and_changes_on_coming_back(survey_setup):
    """Paradata rides on the answer's own upsert: seconds since the previous move add up, a
    settled answer replaced on coming back is a change, ticks of a multiple choice are not."""
    db = survey_setup.db
    session = await _start(survey_setup)
    at = NOW

    async def move(**kwargs):
        nonlocal session, at
        at += timedelta(seconds=kwargs.pop("after"))
        moved = await move_session(db.engine, session, now=at, **kwargs)
        assert moved is not None
        session = moved

    await move(after=7, answer=("q1", "3"))
    await move(after=4, answer=("m", "a"), partial=True)  # ticks: not yet an answer
    await move(after=2, answer=("m", "a,b"), partial=True)
    await move(after=1, answer=("m", "a,b"))  # Done
    await move(after=3, answer=("q2", None))  # passed
    await move(after=20, step="question", question_id="q1")  # back: no write
    await move(after=5, answer=("q1", "3"))  # the same answer again: no change
    await move(after=5, answer=("q1", "5"))  # a different one: a change
    await move(after=2, answer=("m", "b"), partial=True)  # a settled choice ticked: a change
    await move(after=2, answer=("m", "b,c"), partial=True)
    await move(after=1, answer=("m", "b,c"))
    await move(after=2, answer=("q2", "1"))  # passed, then answered: a change
    rows = await _draft_rows(db)
    assert {q: (r.value, r.seconds, r.changes) for q, r in rows.items()} == {
        "q1": ("5", 7 + 5 + 5, 1),
        "m": ("b,c", 4 + 2 + 1 + 2 + 2 + 1, 1),
        "q2": ("1", 3 + 2, 1),
    }

    await submit(db.engine, ALICE, at, TODAY)
    items = {i.question_id: i for i in await list_item_paradata(db.engine, survey_setup.wave.id)}
    assert {
        q: (i.shown, i.answered, i.changed, i.skipped, i.abandoned) for q, i in items.items()
    } == {
        "q1": (1, 1, 1, 0, 0),
        "m": (1, 1, 1, 0, 0),
        "q2": (1, 1, 1, 0, 0),
    }
    # Seconds on the item in bands <3, 3-10, 10-30, 30-120, 120+.
    assert items["q1"].time_bands == (0, 0, 1, 0, 0)
    assert items["m"].time_bands == (0, 0, 1, 0, 0)
    assert items["q2"].time_bands == (0, 1, 0, 0, 0)


async def test_arrivals_count_submissions_per_unit_group_and_hour(survey_setup):
    db = survey_setup.db
    for i, minutes in enumerate((5, 20, 75)):
        pseudonym = f"{i:064d}"
        await _start(survey_setup, pseudonym=pseudonym)
        assert await submit(db.engine, pseudonym, NOW + timedelta(minutes=minutes), TODAY)
    arrivals = await list_arrivals(db.engine, survey_setup.wave.id)
    assert [(a.unit_code, a.grp, a.hour, a.count) for a in arrivals] == [
        ("PKM-01", "external", NOW.replace(minute=0), 2),  # 09:35 and 09:50
        ("PKM-01", "external", NOW.replace(hour=10, minute=0), 1),  # 10:45
    ]


@pytest.mark.parametrize("core", [False, True], ids=["driver", "core"])
async def test_concurrent_submits_of_one_questionnaire_never_deadlock(survey_setup, core):
    # Everyone's item counts land on the same item_paradata rows; people who answered in
    # opposite orders must not lock those rows in opposite orders (PostgreSQL would abort
    # one submission as a deadlock).
    engine = survey_setup.db.engine
    items = [f"q{number:02d}" for number in range(20)]

    async def answered(person, order):
        session = await start_session(
            engine,
            person,
            survey_setup.wave.id,
            "internal",
            survey_setup.units["DINKES"].id,
            None,
            "id",
            "question",
            NOW,
            core=core,
        )
        for number, item in enumerate(order):
            session = await move_session(
                engine,
                session,
                now=NOW + timedelta(seconds=number),
                answer=(item, "3"),
                core=core,
            )

    rounds, people = 3, 12
    for turn in range(rounds):  # several rounds: a deadlock needs an unlucky interleaving
        names = [f"{turn}-{index:02d}".ljust(64, "p") for index in range(people)]
        for index, person in enumerate(names):
            await answered(person, items if index % 2 else items[::-1])
        filed = await asyncio.gather(
            *(submit(engine, p, NOW + timedelta(minutes=9), TODAY, core=core) for p in names)
        )
        assert all(filed)
    rows = await list_item_paradata(engine, survey_setup.wave.id)
    assert {row.question_id: row.answered for row in rows} == dict.fromkeys(items, rounds * people)
