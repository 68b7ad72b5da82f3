"""The survey flow: sessions, optimistic concurrency, answers, anonymous submission, expiry."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from storage import (
    AlreadyCompleted,
    ClaimStatus,
    Database,
    NewInvitation,
    NotFound,
    SessionExists,
    cancel_session,
    claim_invitation,
    close_wave,
    create_invitations,
    expire_sessions,
    get_answers,
    get_invitation,
    get_response,
    get_session,
    has_completed,
    move_session,
    open_wave,
    set_respondent_language,
    set_session_message,
    start_session,
    submit,
)
from storage.schema import answers, completions, responses, survey_sessions
from tests.storage_fixtures import NOW, record_answers

ALICE = "a" * 64
BOB = "b" * 64


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


async def test_start_session_creates_response_and_link(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    assert await get_session(db.engine, ALICE) == session
    assert session.version == 0
    assert session.step == "consent"
    assert session.started_at == NOW
    assert session.response_id is not None
    assert len(session.response_id) == 32
    int(session.response_id, 16)
    (response,) = await _all_rows(db, responses)
    assert response.id == session.response_id
    assert response.status == "in_progress"
    assert response.questionnaire_id == survey_setup.wave.questionnaire_ids["external"]
    assert response.expires_on == NOW.date() + timedelta(days=14)
    assert await get_session(db.engine, BOB) is None


async def test_second_session_is_refused_and_leaves_no_orphan(survey_setup):
    await _start(survey_setup)
    with pytest.raises(SessionExists):
        await _start(survey_setup, grp="internal", unit="DINKES")
    assert len(await _all_rows(survey_setup.db, responses)) == 1


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


async def test_answers_upsert_drop_and_read(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    rid = session.response_id
    session = await record_answers(
        db, session, {"q1": "3", "q2": "a,b", "q3": "free text\x1fwith separator"}
    )
    session = await record_answers(db, session, {"q1": "4"})
    assert await get_answers(db.engine, rid) == {
        "q1": "4",
        "q2": "a,b",
        "q3": "free text with separator",
    }
    moved = await move_session(db.engine, session, now=NOW, drop_answers=["q2", "q9"])
    assert moved is not None
    assert await get_answers(db.engine, rid) == {"q1": "4", "q3": "free text with separator"}
    with pytest.raises(ValueError, match="question ids"):
        await move_session(db.engine, moved, now=NOW, answer=("bad\x1fid", "1"))
    assert await get_session(db.engine, ALICE) == moved  # the refused answer moved nothing


async def test_submit_files_response_and_deletes_the_link(survey_setup):
    db = survey_setup.db
    session = await _start(survey_setup)
    await record_answers(db, session, {"q1": "4", "q2": "2"})
    assert not await has_completed(db.engine, ALICE, survey_setup.wave.id, "external")

    assert await submit(db.engine, ALICE, date(2025, 5, 2), 312)

    assert await get_session(db.engine, ALICE) is None
    assert await _all_rows(db, survey_sessions) == []
    (response,) = await _all_rows(db, responses)
    assert response.status == "submitted"
    assert response.completed_on == date(2025, 5, 2)
    assert response.duration_seconds == 312
    assert response.expires_on is None
    assert await has_completed(db.engine, ALICE, survey_setup.wave.id, "external")
    assert not await has_completed(db.engine, ALICE, survey_setup.wave.id, "internal")
    assert [tuple(row) for row in await _all_rows(db, completions)] == [
        (ALICE, survey_setup.wave.id, "external")
    ]
    # Nothing that stores answers knows the pseudonym any more.
    for table in (responses, answers):
        for row in await _all_rows(db, table):
            assert ALICE not in [str(value) for value in row]
    # A second submit has nothing to file.
    assert not await submit(db.engine, ALICE, date(2025, 5, 2), 312)


async def test_no_time_of_day_in_responses(survey_setup):
    db = survey_setup.db
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("responses"))
    kinds = {column["name"]: str(column["type"]).upper() for column in columns}
    assert not any("TIME" in kind for kind in kinds.values())
    assert "pseudonym" not in kinds


async def test_concurrent_submits_file_once(survey_setup):
    db = survey_setup.db
    await _start(survey_setup)
    results = await asyncio.gather(
        *(submit(db.engine, ALICE, date(2025, 5, 2), 60) for _ in range(4))
    )
    assert results.count(True) == 1
    assert len(await _all_rows(db, completions)) == 1


async def test_one_completion_per_pseudonym_wave_and_group(survey_setup):
    db = survey_setup.db
    await _start(survey_setup)
    await submit(db.engine, ALICE, date(2025, 5, 2), 60)
    with pytest.raises(AlreadyCompleted):
        await _start(survey_setup)
    # Another group in the same wave is a separate survey.
    other = await _start(survey_setup, grp="expert", unit="DINKES")
    assert other.grp == "expert"


async def test_completion_conflict_at_submit_rolls_back(survey_setup):
    db = survey_setup.db
    await _start(survey_setup)
    async with db.engine.begin() as conn:
        await conn.execute(
            completions.insert().values(
                pseudonym=ALICE, wave_id=survey_setup.wave.id, grp="external"
            )
        )
    with pytest.raises(AlreadyCompleted):
        await submit(db.engine, ALICE, date(2025, 5, 2), 60)
    assert await get_session(db.engine, ALICE) is not None
    (response,) = await _all_rows(db, responses)
    assert response.status == "in_progress"


async def test_cancel_session_deletes_everything_and_frees_invitation(survey_setup):
    db = survey_setup.db
    token = "i" * 64
    await create_invitations(
        db.engine,
        [NewInvitation(token, survey_setup.wave.id, "internal", survey_setup.units["DINKES"].id)],
        NOW,
    )
    claim = await claim_invitation(db.engine, token)
    assert claim.invitation is not None
    session = await _start(
        survey_setup, grp="internal", unit="DINKES", invitation_id=claim.invitation.id
    )
    await record_answers(db, session, {"q1": "1"})

    assert await cancel_session(db.engine, ALICE)
    assert not await cancel_session(db.engine, ALICE)
    assert await _all_rows(db, survey_sessions) == []
    assert await _all_rows(db, responses) == []
    assert await _all_rows(db, answers) == []
    invitation = await get_invitation(db.engine, token)
    assert invitation is not None
    assert not invitation.used
    assert (await claim_invitation(db.engine, token)).status is ClaimStatus.CLAIMED


async def test_expire_sessions_deletes_partial_responses_only(survey_setup):
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
    await start_session(
        db.engine,
        carol,
        survey_setup.wave.id,
        "external",
        survey_setup.units["PKM-01"].id,
        None,
        "id",
        "consent",
        NOW,
    )
    await submit(db.engine, carol, NOW.date(), 100)

    last_day = NOW.date() + timedelta(days=14)
    assert await expire_sessions(db.engine, last_day) == 0  # expires at the end of the day
    assert await expire_sessions(db.engine, last_day + timedelta(days=1)) == 1
    assert await get_session(db.engine, ALICE) is None
    assert await get_session(db.engine, BOB) == fresh
    remaining = {row.id: row.status for row in await _all_rows(db, responses)}
    assert old.response_id not in remaining
    assert sorted(remaining.values()) == ["in_progress", "submitted"]
    assert await get_answers(db.engine, old.response_id) == {}
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
    assert await get_answers(db.engine, session.response_id) == {"q0": "x", "q1": "4"}
    # The same tap again is stale: nothing changes.
    assert await move_session(db.engine, session, now=later, answer=("q1", "1")) is None
    assert (await get_answers(db.engine, session.response_id))["q1"] == "4"


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
    assert len(await get_answers(db.engine, session.response_id)) == 1


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
    response = await get_response(db.engine, session.response_id)
    assert response is not None
    assert (response.status, response.language, response.grp) == ("in_progress", "id", "external")
    assert await move_session(db.engine, session, now=NOW, step="review") is not None
    assert not await submit(db.engine, ALICE, date(2025, 5, 2), 10, expected_version=0)
    assert await submit(db.engine, ALICE, date(2025, 5, 2), 10, expected_version=1)
    response = await get_response(db.engine, session.response_id)
    assert response is not None
    assert (response.status, response.completed_on) == ("submitted", date(2025, 5, 2))
    assert await get_response(db.engine, "0" * 32) is None


def _pages_with_both(file: Path, first: str, second: str, page_size: int = 4096) -> int:
    """Count the pages of a raw SQLite file that hold both strings."""
    raw = file.read_bytes()
    pages = (raw[i : i + page_size] for i in range(0, len(raw), page_size))
    return sum(1 for page in pages if first.encode() in page and second.encode() in page)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_submitted_link_is_not_left_in_the_raw_file(survey_setup, database_url):
    """secure_delete: after submission no page of the file holds the pseudonym and the response."""
    db = survey_setup.db
    file = Path(make_url(database_url).database or "")
    session = await _start(survey_setup)
    response_id = session.response_id
    assert response_id is not None
    await record_answers(db, session, {"q1": "3"})
    # Closing checkpoints the write-ahead log into the file and deletes the log.
    await db.close()
    assert _pages_with_both(file, ALICE, response_id) == 1  # the live link, as a control

    await db.initialize()
    assert await submit(db.engine, ALICE, date(2025, 5, 2), 312)
    await db.close()
    assert not file.with_name(file.name + "-wal").exists()
    raw = file.read_bytes()
    assert ALICE.encode() in raw  # still a respondent with a completion marker ...
    assert response_id.encode() in raw  # ... and the response is kept ...
    assert _pages_with_both(file, ALICE, response_id) == 0  # ... but never side by side
    await db.initialize()  # the fixture closes it again
