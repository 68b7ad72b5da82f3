"""The respondent's transactions at driver level against their SQLAlchemy Core reference.

One scripted set of surveys runs on two fresh databases of the same kind, the Core
statements on one (`core=True`) and the driver-level ones on the other (`storage.tap_sqlite`,
`storage.tap_postgres`): every call must give the same result or the same error, and after
every call the two databases must hold the same rows, byte for byte (SQLite's raw values and
their types; PostgreSQL's text form of each row). Response ids are random by design; they
are compared by what they hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.contacts import ContactPurpose, save_contact
from storage.db import Database
from storage.invitations import NewInvitation, create_invitations
from storage.respondents import SurveySession, set_respondent_language
from storage.schema import metadata
from storage.sessions import driver, has_completed, start_session, submit
from storage.tap_rows import Turn
from storage.turns import load_turn, move_session, set_session_message
from tests.storage_fixtures import NOW, SurveySetup, empty_database, make_survey_setup

ALICE, BOB, CAROL, DAVE, ERIN = (letter * 64 for letter in "abcde")
TODAY = date(2025, 5, 1)
# What a respondent's transactions touch; compared after every call (all tables at the end).
RESPONDENT_TABLES = (
    "respondents",
    "survey_sessions",
    "draft_answers",
    "survey_contacts",
    "completions",
    "responses",
    "answers",
    "arrivals",
    "item_paradata",
    "invitations",
    "dropouts",
)


@dataclass(frozen=True)
class Raised:
    """An error a call ended with (its type and message)."""

    kind: str
    message: str


async def _outcome(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Exception as exc:
        return Raised(type(exc).__name__, str(exc))


async def _rows(engine: AsyncEngine, tables: tuple[str, ...]) -> dict[str, list[str]]:
    """Every row of `tables` as the database holds it, in a stable order."""
    postgres = engine.dialect.name == "postgresql"
    found = {}
    async with engine.connect() as conn:
        for table in tables:
            if postgres:
                sql = f'SELECT CAST(t AS text) FROM "{table}" AS t'
                rows = [row[0] for row in await conn.execute(text(sql))]
            else:  # text(): sqlite3's own values, untouched by SQLAlchemy's types
                sql = f'SELECT * FROM "{table}"'
                rows = [repr(tuple(row)) for row in await conn.execute(text(sql))]
            found[table] = rows
    ids = [row[0] for row in await _fetch(engine, "SELECT id FROM responses")]
    return _without_response_ids(found, ids)


async def _fetch(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql)))


def _without_response_ids(found: dict[str, list[str]], ids: list[str]) -> dict[str, list[str]]:
    """Name each response by what it holds (its row and answers), not by its random id."""
    content = {
        response_id: (
            [row for row in found.get("responses", []) if response_id in row],
            sorted(row for row in found.get("answers", []) if response_id in row),
        )
        for response_id in ids
    }
    names = {
        response_id: f"response-{rank}"
        for rank, response_id in enumerate(
            sorted(ids, key=lambda i: repr(content[i]).replace(i, ""))
        )
    }
    renamed = {}
    for table, rows in found.items():
        cleaned = []
        for row in rows:
            for response_id, name in names.items():
                row = row.replace(response_id, name)
            cleaned.append(row)
        renamed[table] = sorted(cleaned)
    return renamed


@dataclass
class Twins:
    """The same survey set-up on two databases: Core statements on one, driver on the other."""

    core: SurveySetup
    driven: SurveySetup

    @property
    def wave_id(self) -> int:
        return self.core.wave.id

    def unit(self, code: str) -> int:
        return self.core.units[code].id

    async def both(self, call: Callable[[AsyncEngine, bool], Awaitable[Any]]) -> Any:
        """Run `call(engine, core)` on each database; the results and rows must agree."""
        reference = await _outcome(call(self.core.db.engine, True))
        driven = await _outcome(call(self.driven.db.engine, False))
        assert driven == reference
        assert await _rows(self.driven.db.engine, RESPONDENT_TABLES) == await _rows(
            self.core.db.engine, RESPONDENT_TABLES
        )
        return reference

    async def start(
        self,
        pseudonym: str,
        grp: str,
        unit: str,
        minutes: float,
        *,
        invitation_id: int | None = None,
        wave_id: int | None = None,
    ) -> Any:
        return await self.both(
            lambda engine, core: start_session(
                engine,
                pseudonym,
                self.wave_id if wave_id is None else wave_id,
                grp,
                self.unit(unit),
                invitation_id,
                "id",
                "eligibility",
                NOW + timedelta(minutes=minutes),
                core=core,
            )
        )

    async def move(self, session: SurveySession, seconds: float, **move: Any) -> Any:
        now = NOW + timedelta(seconds=seconds)
        return await self.both(
            lambda engine, core: move_session(engine, session, now=now, core=core, **move)
        )

    async def turn(self, pseudonym: str) -> Any:
        return await self.both(lambda engine, core: load_turn(engine, pseudonym, core=core))

    async def submit(self, pseudonym: str, minutes: float, expected: int | None = None) -> Any:
        now = NOW + timedelta(minutes=minutes)
        return await self.both(
            lambda engine, core: submit(
                engine, pseudonym, now, TODAY, expected_version=expected, core=core
            )
        )

    async def completed(self, pseudonym: str, grp: str, unit: str | None) -> Any:
        unit_id = None if unit is None else self.unit(unit)
        return await self.both(
            lambda engine, core: has_completed(
                engine, pseudonym, self.wave_id, grp, unit_id, core=core
            )
        )

    async def setup(self, call: Callable[[AsyncEngine], Awaitable[Any]]) -> None:
        """Change both databases the same way, outside the paths under test."""
        for engine in (self.core.db.engine, self.driven.db.engine):
            await call(engine)


async def _database(url: str) -> Database:
    await empty_database(url)
    database = Database(url)
    await database.initialize()
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def twins(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Twins]:
    """Two fresh databases of one kind with the same units, questionnaires and open wave."""
    if request.param == "sqlite":
        urls = [f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("core.db", "driven.db")]
    else:
        urls = [
            request.getfixturevalue("postgres_module_url"),
            request.getfixturevalue("fresh_postgres_url"),
        ]
    databases = [await _database(url) for url in urls]
    try:
        setups = [await make_survey_setup(database) for database in databases]
        assert driver(setups[1].db.engine) is not None  # the driver path really runs
        pair = Twins(*setups)
        links = [NewInvitation("link-1", pair.wave_id, "internal", pair.unit("DINKES"))]
        await pair.setup(lambda engine: create_invitations(engine, links, NOW))
        yield pair
    finally:
        for database in databases:
            await database.close()


async def test_a_scripted_survey_leaves_the_same_rows_on_both_paths(twins: Twins) -> None:
    assert await twins.turn(DAVE) == Turn(None, None)  # a stranger: no rows at all
    session = await twins.start(ALICE, "external", "PKM-01", 0)
    assert isinstance(session, SurveySession)
    assert isinstance(await twins.start(ALICE, "external", "PKM-01", 1), Raised)  # in progress
    assert (await twins.turn(ALICE)).session == session

    session = await twins.move(session, 5, step="consent")
    session = await twins.move(session, 9, step="question", question_id="q1", language="en")
    session = await twins.move(session, 20, answer=("q1", "3"), question_id="q2")
    stale = session
    # A typed answer, with the one character answers may not hold.
    typed = "jawaban panjang \x1f dengan pemisah"
    session = await twins.move(session, 45, answer=("q2", typed), question_id="q3")
    # A double tap: the second one finds the session moved on and changes nothing.
    assert await twins.move(stale, 46, answer=("q2", "lain"), question_id="q3") is None
    # Back twice, then a different answer whose branch no longer asks q2.
    session = await twins.move(session, 50, question_id="q2")
    session = await twins.move(session, 52, question_id="q1")
    session = await twins.move(
        session, 60, answer=("q1", "4"), question_id="q3", drop_answers=("q2", "q1")
    )
    # A multiple choice ticked twice, then confirmed; an item passed without an answer.
    session = await twins.move(session, 70, answer=("q3", "a"), partial=True)
    session = await twins.move(session, 72, answer=("q3", "a c"), partial=True)
    session = await twins.move(session, 75, answer=("q3", "a c"), question_id="q4")
    session = await twins.move(session, 80, answer=("q4", None), step="review", question_id=None)
    await twins.both(lambda engine, core: set_session_message(engine, ALICE, 4242, core=core))
    await twins.setup(lambda engine: set_respondent_language(engine, ALICE, "en"))
    turn = await twins.turn(ALICE)
    assert turn.chosen_language == "en"
    assert turn.answers == {"q1": "4", "q3": "a c"}
    session = await twins.move(session, 85, message_id=77)

    assert await twins.submit(ALICE, 6, expected=session.version - 1) is False  # stale
    assert await twins.completed(ALICE, "external", "PKM-01") is False
    assert await twins.submit(ALICE, 6, expected=session.version) is True
    assert await twins.completed(ALICE, "external", "PKM-01") is True
    assert await twins.completed(ALICE, "external", None) is True  # any unit
    assert await twins.completed(ALICE, "external", "KEC-01") is False  # per unit
    assert await twins.completed(ALICE, "internal", None) is False
    assert await twins.submit(ALICE, 6, expected=session.version) is False  # a second submit
    assert await twins.submit(ALICE, 7) is False
    assert (await twins.turn(ALICE)).session is None
    again = await twins.start(ALICE, "external", "PKM-01", 8)
    assert again == Raised("AlreadyCompleted", "already submitted for this wave and group")

    # A citizen rates another service in the same wave; only skipped items (no pace band).
    other = await twins.start(ALICE, "external", "KEC-01", 9)
    other = await twins.move(other, 9 * 60 + 5, answer=("q1", None), step="review")
    assert await twins.submit(ALICE, 10) is True
    assert await twins.turn(ALICE) == Turn("en", None)
    tables = tuple(table.name for table in metadata.sorted_tables)
    assert await _rows(twins.driven.db.engine, tables) == await _rows(twins.core.db.engine, tables)


async def test_personal_links_and_completions_agree_on_both_paths(twins: Twins) -> None:
    link = 1
    bob = await twins.start(BOB, "internal", "DINKES", 0, invitation_id=link)
    assert isinstance(bob, SurveySession)
    # The link is claimed by Bob's survey in progress; Bob cannot start twice.
    assert await twins.start(CAROL, "internal", "DINKES", 1, invitation_id=link) == Raised(
        "InvitationTaken", "another survey is in progress on this link"
    )
    assert isinstance(await twins.start(BOB, "internal", "DINKES", 1, invitation_id=link), Raised)
    await twins.setup(
        lambda engine: save_contact(engine, BOB, ContactPurpose.SURVEY, b"\x01" * 28, "id")
    )
    bob = await twins.move(bob, 30, answer=("i1", "5"), step="question", question_id="i2")
    bob = await twins.move(bob, 50, answer=("i2", "2"), step="review", question_id=None)
    assert await twins.submit(BOB, 2, expected=bob.version) is True  # the contact goes too
    assert await twins.start(CAROL, "internal", "DINKES", 3, invitation_id=link) == Raised(
        "InvitationTaken", "this personal link was already used"
    )
    # A wave without that group's questionnaire, and a citizen's completion from before
    # per-unit markers, which covers every unit.
    missing = await twins.start(CAROL, "internal", "DINKES", 4, wave_id=twins.wave_id + 1)
    assert isinstance(missing, Raised)
    assert missing.kind == "NotFound"

    async def old_marker(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO completions (pseudonym, wave_id, grp, scope) "
                    "VALUES (:p, :w, 'external', 0)"
                ),
                {"p": ERIN, "w": twins.wave_id},
            )

    await twins.setup(old_marker)
    assert await twins.completed(ERIN, "external", "KEC-01") is True  # scope 0: every unit
    assert await twins.completed(BOB, "internal", None) is True
    assert await twins.start(ERIN, "external", "KEC-01", 5) == Raised(
        "AlreadyCompleted", "already submitted for this wave and group"
    )
    # Everything else agrees too.
    tables = tuple(table.name for table in metadata.sorted_tables)
    assert await _rows(twins.driven.db.engine, tables) == await _rows(twins.core.db.engine, tables)
