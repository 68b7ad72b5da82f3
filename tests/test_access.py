"""services.access: decisions per role, and one-time role links on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

import storage.db
from services.access import (
    Decision,
    Viewer,
    claim_grant,
    create_grant,
    viewer_for,
)
from services.admin import import_units_csv
from storage.roles import Role
from storage.values import ClaimStatus

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[storage.db.AsyncEngine]:
    async with storage.db.Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as db:
        csv = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
        with resources.as_file(csv) as path:
            await import_units_csv(db.engine, path)
        yield db.engine


def test_decisions() -> None:
    nobody, admin, boss = Viewer(), Viewer(admin=True), Viewer(leadership=True)
    head = Viewer(unit_code="DINKES", unit_name="Dinas Kesehatan")
    assert nobody.institution() is Decision.NO_ROLE
    assert nobody.unit("DINKES") is Decision.NO_ROLE
    assert admin.institution() is Decision.ALLOWED
    assert boss.unit("DINSOS") is Decision.ALLOWED
    assert head.unit("DINKES") is Decision.ALLOWED
    assert head.unit("DINSOS") is Decision.OTHER_UNIT
    assert head.institution() is Decision.INSTITUTION_ONLY
    assert head.has_role
    assert not nobody.has_role


async def test_unit_head_link_grants_own_unit_once(engine: storage.db.AsyncEngine) -> None:
    payload, grant = await create_grant(engine, Role.UNIT_HEAD, "DINKES", NOW)
    assert payload.startswith("g")
    assert len(payload) <= 64
    assert not grant.used

    outcome = await claim_grant(engine, "p1", payload, NOW)
    assert outcome.status is ClaimStatus.CLAIMED
    assert outcome.role is Role.UNIT_HEAD
    assert outcome.unit_name == "Dinas Kesehatan"
    viewer = await viewer_for(engine, "p1", admin=False)
    assert viewer.unit_code == "DINKES"
    assert not viewer.sees_all

    again = await claim_grant(engine, "p2", payload, NOW)
    assert again.status is ClaimStatus.ALREADY_USED
    assert not (await viewer_for(engine, "p2", admin=False)).has_role


async def test_unknown_links_and_bad_grants(engine: storage.db.AsyncEngine) -> None:
    assert (await claim_grant(engine, "p", "gnope", NOW)).status is ClaimStatus.UNKNOWN
    assert (await claim_grant(engine, "p", "g", NOW)).status is ClaimStatus.UNKNOWN
    with pytest.raises(ValueError, match="unknown unit"):
        await create_grant(engine, Role.UNIT_HEAD, "NOPE", NOW)
    with pytest.raises(ValueError, match="needs a unit"):
        await create_grant(engine, Role.UNIT_HEAD, None, NOW)
    payload, _ = await create_grant(engine, Role.LEADERSHIP, None, NOW)
    await claim_grant(engine, "boss", payload, NOW)
    assert (await viewer_for(engine, "boss", admin=False)).sees_all
    assert (await viewer_for(engine, "someone", admin=True)).sees_all
