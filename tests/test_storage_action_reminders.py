"""Due-date reminder storage: reachable unit heads, exactly-once claims, official contacts,
and the migration that admits them (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

import storage.action_reminders
import storage.actions
import storage.contacts
import storage.roles
import storage.units
from storage.action_reminders import Occasion, ReminderKey
from storage.actions import ActionStatus, NewAction, add_actions
from storage.contacts import ContactPurpose, ReminderStatus, contacts
from storage.db import alembic_config, create_engine
from storage.roles import Role
from storage.units import import_units

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
HEAD, OTHER_HEAD, BOSS = "a" * 64, "b" * 64, "c" * 64


async def _setup(db) -> list[storage.actions.Action]:
    await import_units(
        db.engine,
        [
            {"code": "DINKES", "name": "Dinas Kesehatan", "kind": "opd"},
            {"code": "BAPPEDA", "name": "Badan Perencanaan", "kind": "opd"},
        ],
    )
    for pseudonym, role, unit in (
        (HEAD, Role.UNIT_HEAD, "DINKES"),
        (OTHER_HEAD, Role.UNIT_HEAD, "BAPPEDA"),
        (BOSS, Role.LEADERSHIP, None),
    ):
        unit_row = None if unit is None else await storage.units.get_unit(db.engine, unit)
        token = pseudonym[:8] + role.value
        await storage.roles.create_role_grant(
            db.engine, token, role, None if unit_row is None else unit_row.id, NOW
        )
        await storage.roles.claim_role_grant(db.engine, token, pseudonym, NOW)
        await storage.contacts.save_contact(
            db.engine, pseudonym, ContactPurpose.OFFICIAL, b"x" * 20, "id"
        )

    def new(unit: str, what: str, due: date, status: ActionStatus) -> NewAction:
        return NewAction(unit, what, "Kepala Bidang", due, status=status)

    return list(
        await add_actions(
            db.engine,
            [
                new("DINKES", "soon", date(2026, 3, 5), ActionStatus.PLANNED),
                new("DINKES", "late", date(2026, 2, 1), ActionStatus.IN_PROGRESS),
                new("DINKES", "done", date(2026, 3, 2), ActionStatus.DONE),
                new("DINKES", "dropped", date(2026, 3, 2), ActionStatus.DROPPED),
                new("DINKES", "far", date(2026, 6, 1), ActionStatus.PLANNED),
                new("BAPPEDA", "theirs", date(2026, 3, 3), ActionStatus.PLANNED),
            ],
            NOW,
        )
    )


async def test_open_actions_with_their_own_units_reachable_heads(db):
    await _setup(db)
    found = await storage.action_reminders.action_reminder_recipients(
        db.engine, due_until=date(2026, 3, 5)
    )
    assert [(r.action.what, r.pseudonym) for r in found] == [
        ("late", HEAD),
        ("theirs", OTHER_HEAD),
        ("soon", HEAD),
    ]
    assert found[0].chat == b"x" * 20
    assert found[0].language == "id"
    # A head without an official contact cannot be reached: nothing for their unit.
    await storage.contacts.delete_contact(db.engine, OTHER_HEAD, ContactPurpose.OFFICIAL)
    found = await storage.action_reminders.action_reminder_recipients(
        db.engine, due_until=date(2026, 3, 5)
    )
    assert {r.action.unit_code for r in found} == {"DINKES"}


async def test_each_reminder_is_claimed_once(db):
    actions = await _setup(db)
    key = ReminderKey(actions[0].id, Occasion.SOON, date(2026, 3, 2), HEAD)
    won = await asyncio.gather(
        *(storage.action_reminders.claim_action_reminder(db.engine, key, NOW) for _ in range(4))
    )
    assert sorted(won) == [False, False, False, True]
    await storage.action_reminders.finish_action_reminder(db.engine, key, ReminderStatus.SENT)
    # The next occasion of the same action, or another head, is a reminder of its own.
    due = ReminderKey(actions[0].id, Occasion.DUE, date(2026, 3, 5), HEAD)
    assert await storage.action_reminders.claim_action_reminder(db.engine, due, NOW)
    claimed = await storage.action_reminders.claimed_action_reminders(
        db.engine, [actions[0].id, actions[1].id]
    )
    assert claimed == {key, due}
    assert await storage.action_reminders.claimed_action_reminders(db.engine, []) == set()


async def test_official_contacts_go_with_the_role(db):
    await _setup(db)
    assert (
        await storage.action_reminders.prune_official_contacts(db.engine) == 1
    )  # leadership heads no unit
    assert await storage.roles.revoke_role(db.engine, HEAD, Role.UNIT_HEAD)
    assert await storage.action_reminders.prune_official_contacts(db.engine) == 1
    left = await storage.contacts.contacts_page(db.engine, ContactPurpose.OFFICIAL)
    assert [c.pseudonym for c in left] == [OTHER_HEAD]


async def test_the_migration_admits_official_contacts_and_keeps_the_old_ones(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "11_processed_updates")
    engine = create_engine(empty_database_url)
    survey = {"pseudonym": HEAD, "purpose": "survey", "chat": b"s" * 20, "language": "id"}
    official = {**survey, "purpose": "official"}
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(contacts).values(**survey))
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(contacts).values(**official))

        # Up to this migration's own revision: 20_anonymity later moves survey contacts to
        # their session (tests/test_storage_migration_anonymity.py).
        await asyncio.to_thread(command.upgrade, config, "13_action_reminders")
        async with engine.begin() as conn:
            await conn.execute(insert(contacts).values(**official))
            rows = (await conn.execute(select(contacts.c.purpose))).scalars().all()
            if engine.dialect.name == "sqlite":
                sql = (
                    await conn.execute(
                        text("SELECT sql FROM sqlite_master WHERE name = 'contacts'")
                    )
                ).scalar_one()
                assert sql.rstrip().endswith("WITHOUT ROWID")  # order still says nothing
        assert sorted(rows) == ["official", "survey"]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(contacts).values(**{**survey, "purpose": "other"}))

        await asyncio.to_thread(command.downgrade, config, "11_processed_updates")
        async with engine.connect() as conn:
            rows = (await conn.execute(select(contacts.c.purpose))).scalars().all()
        assert rows == ["survey"]
    finally:
        await engine.dispose()
