"""Contacts the bot may message first, and the claims that make each reminder exactly-once.

A contact row holds a chat id *encrypted* by the caller (storage never sees it in clear) under
a pseudonym and a purpose: an unfinished survey ('survey'), an outreach opt-in ('outreach'),
a unit head's due-date reminders ('official'). Survey contacts live in `survey_contacts`,
beside the session they belong to: they are deleted with it (the transaction that submits,
cancels or expires it; see `storage.sessions`) and backups leave them out. The others live
in `contacts`. Listing is paged by pseudonym (keyset), so a reminder round over many
thousands of people never holds them all in memory. Tables `contacts` and `reminder_claims`;
`survey_contacts` is defined with the session in `storage.respondents`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection, utc, write_transaction
from storage.dialects import insert_ignore, prepared_upsert
from storage.metadata import metadata
from storage.onehop import run_write
from storage.respondents import survey_contacts, survey_sessions

__all__ = [
    "Contact",
    "ContactPurpose",
    "DueReminder",
    "ReminderStatus",
    "claim_reminder",
    "claim_reminders",
    "contact_count",
    "contacts",
    "contacts_page",
    "delete_contact",
    "due_reminders",
    "finish_reminder",
    "finish_reminders",
    "get_contact",
    "prune_survey_contacts",
    "reminder_claims",
    "save_contact",
]


class ContactPurpose(StrEnum):
    """Why the bot keeps someone's (encrypted) chat id."""

    SURVEY = "survey"  # an unfinished survey: reminders
    OUTREACH = "outreach"  # opted in to outreach messages after completing
    OFFICIAL = "official"  # a unit head: due-date reminders of the unit's follow-up actions


class ReminderStatus(StrEnum):
    """What became of a claimed reminder."""

    CLAIMED = "claimed"
    SENT = "sent"
    GONE = "gone"  # Telegram refused the chat (blocked): the contact was deleted
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Contact:
    """A stored contact; `chat` is the encrypted chat id (see services/contacts.py)."""

    pseudonym: str
    purpose: ContactPurpose
    chat: bytes
    language: str | None
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A person owed a reminder: pseudonym, encrypted chat id and the session's language."""

    pseudonym: str
    chat: bytes
    language: str


# Contacts (issue 10): the chat id of a person the bot may message first, ENCRYPTED (AES-GCM,
# key derived from the server secret, see services/contacts.py), only while it is needed: an
# opt-in to outreach ('outreach'), a unit head's role for due-date reminders ('official').
# Keyed by pseudonym, never joined to responses or answers. The contact of an unfinished
# survey lives with its session (`survey_contacts` in storage.respondents, issue 20).
contacts = Table(
    "contacts",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("purpose", String(10), primary_key=True),
    Column("chat", LargeBinary, nullable=False),  # 12-byte nonce + ciphertext + tag
    Column("language", String(5), nullable=True),
    # Outreach may go to some units only; NULL for reminders (the session knows the unit).
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    CheckConstraint("purpose IN ('outreach', 'official')", name="purpose"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# One row per (person, wave, reminder round): the claim that makes each reminder exactly-once
# across bot processes (only one INSERT wins the primary key), and what became of it.
reminder_claims = Table(
    "reminder_claims",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("status", String(10), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('claimed', 'sent', 'gone', 'failed')", name="status"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)

DEFAULT_PAGE: Final = 500


def _survey(purpose: ContactPurpose | None) -> bool:
    return purpose is ContactPurpose.SURVEY


async def save_contact(
    engine: AsyncEngine,
    pseudonym: str,
    purpose: ContactPurpose,
    chat: bytes,
    language: str | None = None,
    unit_id: int | None = None,
    *,
    with_session_only: bool = False,
) -> bool:
    """Store (or replace) the encrypted chat id of a person for one purpose; True if stored.

    A survey contact needs the person's survey in progress (checked in the same transaction,
    so a survey that just began keeps its contact and no other does); `with_session_only`
    says the caller expects that check (it is made for every survey contact).
    """
    del with_session_only  # a survey contact always belongs to a session (a foreign key)
    if _survey(purpose):
        values = {"pseudonym": pseudonym, "chat": chat, "language": language}
        statement = prepared_upsert(
            engine.dialect.name, survey_contacts, ("pseudonym",), ("chat", "language")
        )
        has_session = select(exists().where(survey_sessions.c.pseudonym == pseudonym))

        def write_survey(conn: Connection) -> bool:
            if not conn.execute(has_session).scalar():
                return False
            conn.execute(statement, values)
            return True

        try:
            # One hop: every survey that starts from a link stores its contact.
            return await run_write(engine, write_survey)
        except IntegrityError:  # the survey ended between the check and the write
            return False
    row = {
        "pseudonym": pseudonym,
        "purpose": purpose.value,
        "chat": chat,
        "language": language,
        "unit_id": unit_id,
    }
    upsert = prepared_upsert(
        engine.dialect.name, contacts, ("pseudonym", "purpose"), ("chat", "language", "unit_id")
    )
    await run_write(engine, lambda conn: conn.execute(upsert, row))
    return True


async def delete_contact(
    engine: AsyncEngine, pseudonym: str, purpose: ContactPurpose | None = None
) -> bool:
    """Delete a person's contact for one purpose (every purpose when None); True if any went."""
    where = [contacts.c.pseudonym == pseudonym]
    if purpose is not None:
        where.append(contacts.c.purpose == purpose.value)
    async with write_transaction(engine) as conn:
        gone = 0
        if purpose is None or _survey(purpose):
            survey = delete(survey_contacts).where(survey_contacts.c.pseudonym == pseudonym)
            gone += (await conn.execute(survey)).rowcount
        if not _survey(purpose):
            gone += (await conn.execute(delete(contacts).where(*where))).rowcount
        return gone > 0


async def get_contact(
    engine: AsyncEngine, pseudonym: str, purpose: ContactPurpose
) -> Contact | None:
    """Return a person's contact for one purpose (not a survey's: those are read in bulk by
    the reminder rounds), or None."""
    if _survey(purpose):
        raise ValueError("survey contacts are read by the reminder rounds only")
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                select(contacts).where(
                    contacts.c.pseudonym == pseudonym, contacts.c.purpose == purpose.value
                )
            )
        ).first()
    if row is None:
        return None
    return Contact(
        pseudonym=row.pseudonym,
        purpose=ContactPurpose(row.purpose),
        chat=bytes(row.chat),
        language=row.language,
        unit_id=row.unit_id,
    )


async def prune_survey_contacts(engine: AsyncEngine) -> None:
    """Delete survey contacts whose survey has ended (none should exist: they cascade with
    their session; belt and braces for a database whose foreign keys were off)."""
    orphan = ~exists().where(survey_sessions.c.pseudonym == survey_contacts.c.pseudonym)
    async with write_transaction(engine) as conn:
        await conn.execute(delete(survey_contacts).where(orphan))


def _purpose_table(purpose: ContactPurpose) -> tuple[Table, list[Any]]:
    """Return the table holding contacts of `purpose` and the condition selecting them."""
    if _survey(purpose):
        return survey_contacts, []
    return contacts, [contacts.c.purpose == purpose.value]


async def contacts_page(
    engine: AsyncEngine,
    purpose: ContactPurpose,
    *,
    after: str = "",
    limit: int = DEFAULT_PAGE,
    unit_ids: Sequence[int] | None = None,
) -> list[Contact]:
    """Return up to `limit` contacts of a purpose with pseudonyms after `after`, in order."""
    table, where = _purpose_table(purpose)
    unit = table.c.unit_id if table is contacts else literal(None).label("unit_id")
    stmt = (
        select(table.c.pseudonym, table.c.chat, table.c.language, unit)
        .where(*where, table.c.pseudonym > after)
        .order_by(table.c.pseudonym)
        .limit(limit)
    )
    if unit_ids is not None:
        if table is not contacts:
            return []  # survey contacts name no unit (the session knows it)
        stmt = stmt.where(contacts.c.unit_id.in_(list(unit_ids)))
    async with read_connection(engine) as conn:
        rows = await conn.execute(stmt)
        return [
            Contact(
                pseudonym=row.pseudonym,
                purpose=purpose,
                chat=bytes(row.chat),
                language=row.language,
                unit_id=row.unit_id,
            )
            for row in rows
        ]


async def contact_count(engine: AsyncEngine, purpose: ContactPurpose) -> int:
    """Return how many contacts of a purpose are stored."""
    table, where = _purpose_table(purpose)
    async with read_connection(engine) as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def due_reminders(
    engine: AsyncEngine,
    wave_id: int,
    round_number: int,
    *,
    idle_since: datetime,
    previous_before: datetime | None = None,
    after: str = "",
    limit: int = DEFAULT_PAGE,
) -> list[DueReminder]:
    """Return people of a wave owed reminder `round_number`, a page at a time.

    Owed: a survey contact, a session of the wave untouched since `idle_since`, no claim for
    this round yet and, after round 1, a claim for the previous round made before
    `previous_before` (so two rounds never go out in one go after an outage).
    """
    claim = reminder_claims.alias("claim")
    this_round = exists().where(
        claim.c.pseudonym == survey_contacts.c.pseudonym,
        claim.c.wave_id == wave_id,
        claim.c.round == round_number,
    )
    stmt = (
        select(survey_contacts.c.pseudonym, survey_contacts.c.chat, survey_sessions.c.language)
        .join(survey_sessions, survey_sessions.c.pseudonym == survey_contacts.c.pseudonym)
        .where(
            survey_sessions.c.wave_id == wave_id,
            survey_sessions.c.updated_at <= utc(idle_since),
            survey_contacts.c.pseudonym > after,
            ~this_round,
        )
        .order_by(survey_contacts.c.pseudonym)
        .limit(limit)
    )
    if round_number > 1:
        previous = reminder_claims.alias("previous")
        conditions = [
            previous.c.pseudonym == survey_contacts.c.pseudonym,
            previous.c.wave_id == wave_id,
            previous.c.round == round_number - 1,
        ]
        if previous_before is not None:
            conditions.append(previous.c.claimed_at <= utc(previous_before))
        stmt = stmt.where(exists().where(and_(*conditions)))
    async with read_connection(engine) as conn:
        rows = await conn.execute(stmt)
        return [DueReminder(row.pseudonym, bytes(row.chat), row.language) for row in rows]


async def claim_reminders(
    engine: AsyncEngine,
    wave_id: int,
    round_number: int,
    pseudonyms: Sequence[str],
    now: datetime,
) -> set[str]:
    """Claim a reminder round for several people in one statement; return those won.

    A person claimed before (by another process, or an earlier tick) is not returned: the
    primary key admits one INSERT, so each reminder is sent at most once across processes.
    """
    if not pseudonyms:
        return set()
    rows = [
        {
            "pseudonym": pseudonym,
            "wave_id": wave_id,
            "round": round_number,
            "status": ReminderStatus.CLAIMED.value,
            "claimed_at": utc(now),
        }
        for pseudonym in pseudonyms
    ]
    key = ["pseudonym", "wave_id", "round"]
    async with write_transaction(engine) as conn:
        stmt = insert_ignore(conn, reminder_claims, rows, key).returning(
            reminder_claims.c.pseudonym
        )
        return set((await conn.execute(stmt)).scalars())


async def claim_reminder(
    engine: AsyncEngine, pseudonym: str, wave_id: int, round_number: int, now: datetime
) -> bool:
    """Claim one person's reminder round; False when another process (or tick) already did."""
    return bool(await claim_reminders(engine, wave_id, round_number, [pseudonym], now))


async def finish_reminders(
    engine: AsyncEngine,
    wave_id: int,
    round_number: int,
    outcomes: Mapping[str, ReminderStatus],
) -> None:
    """Record what became of claimed reminders (one statement per outcome)."""
    by_status: dict[ReminderStatus, list[str]] = {}
    for pseudonym, status in outcomes.items():
        by_status.setdefault(status, []).append(pseudonym)
    if not by_status:
        return
    async with write_transaction(engine) as conn:
        for status, people in by_status.items():
            await conn.execute(
                update(reminder_claims)
                .where(
                    reminder_claims.c.pseudonym.in_(people),
                    reminder_claims.c.wave_id == wave_id,
                    reminder_claims.c.round == round_number,
                )
                .values(status=status.value)
            )


async def finish_reminder(
    engine: AsyncEngine, pseudonym: str, wave_id: int, round_number: int, status: ReminderStatus
) -> None:
    """Record what became of one claimed reminder."""
    await finish_reminders(engine, wave_id, round_number, {pseudonym: status})
