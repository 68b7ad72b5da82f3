"""Follow-up actions: add, list, update with versions (SQLite and PostgreSQL via `db`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.actions import (
    ActionStatus,
    NewAction,
    add_action,
    add_actions,
    get_action,
    list_actions,
    update_action,
)
from storage.errors import NotFound
from storage.units import import_units
from storage.values import UNCHANGED

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


async def _units(db) -> None:
    rows = [
        {"code": "DINKES", "name": "Dinas Kesehatan", "kind": "opd", "serves_public": "1"},
        {"code": "BAPPEDA", "name": "Badan Perencanaan", "kind": "opd", "serves_public": "0"},
    ]
    await import_units(db.engine, rows)


def _new(unit: str = "DINKES", due: date = date(2026, 4, 1), **extra) -> NewAction:
    return NewAction(
        unit_code=unit,
        what=extra.pop("what", "Publish procurement plans on the website"),
        who="Kepala Bidang Pengadaan",
        due_on=due,
        dimension="procurement",
        **extra,
    )


async def test_add_list_and_get(db):
    await _units(db)
    first = await add_action(db.engine, _new(due=date(2026, 5, 1)), NOW)
    assert first.unit_code == "DINKES"
    assert first.unit_name == "Dinas Kesehatan"
    assert first.status is ActionStatus.PLANNED
    assert first.version == 1
    assert first.created_at == NOW
    await add_actions(
        db.engine, [_new("BAPPEDA", date(2026, 4, 1)), _new(due=date(2026, 3, 10))], NOW
    )
    everything = await list_actions(db.engine)
    assert [a.due_on for a in everything] == [date(2026, 3, 10), date(2026, 4, 1), date(2026, 5, 1)]
    mine = await list_actions(db.engine, unit_code="DINKES")
    assert {a.unit_code for a in mine} == {"DINKES"}
    assert len(mine) == 2
    overdue = await list_actions(
        db.engine, statuses=[ActionStatus.PLANNED], due_before=date(2026, 3, 31)
    )
    assert [a.due_on for a in overdue] == [date(2026, 3, 10)]
    assert await get_action(db.engine, first.id) == first
    assert await get_action(db.engine, 9999) is None


async def test_unknown_unit_adds_nothing(db):
    await _units(db)
    with pytest.raises(NotFound, match="NOPE"):
        await add_actions(db.engine, [_new(), _new("NOPE")], NOW)
    assert await list_actions(db.engine) == ()


async def test_update_with_version(db):
    await _units(db)
    action = await add_action(db.engine, _new(), NOW)
    changed = await update_action(
        db.engine,
        action.id,
        version=action.version,
        now=LATER,
        status=ActionStatus.IN_PROGRESS,
        note="Draft uploaded",
    )
    assert changed is not None
    assert changed.status is ActionStatus.IN_PROGRESS
    assert changed.note == "Draft uploaded"
    assert changed.version == 2
    assert changed.updated_at == LATER
    assert changed.created_at == NOW
    # A stale version changes nothing.
    stale = await update_action(
        db.engine, action.id, version=1, now=LATER, status=ActionStatus.DONE
    )
    assert stale is None
    assert (await get_action(db.engine, action.id)) == changed
    done = await update_action(
        db.engine,
        action.id,
        version=2,
        now=LATER,
        status=ActionStatus.DONE,
        note=UNCHANGED,
        document_file_id="BQACAgUAAxkBAAIB",
    )
    assert done is not None
    assert done.document_file_id == "BQACAgUAAxkBAAIB"
    assert done.note == "Draft uploaded"
    with pytest.raises(NotFound):
        await update_action(db.engine, 9999, version=1, now=LATER, status=ActionStatus.DONE)
