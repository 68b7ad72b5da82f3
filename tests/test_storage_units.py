"""Institution and units: import with parents by code, listing, search."""

from __future__ import annotations

import pytest

from storage.errors import UnitImportError
from storage.units import (
    Institution,
    UnitImport,
    get_institution,
    get_unit,
    get_unit_by_id,
    import_units,
    list_units,
    search_units,
    set_institution,
)


def _row(code, parent=None, kind="opd", name=None, serves_public="0", **extra):
    return {
        "code": code,
        "name": name or f"Unit {code}",
        "kind": kind,
        "parent": parent,
        "serves_public": serves_public,
        **extra,
    }


async def test_institution_round_trip(db):
    assert await get_institution(db.engine) is None
    await set_institution(db.engine, "Pemerintah Kabupaten Mojokerto", "kabupaten")
    await set_institution(db.engine, "Pemerintah Kota Malang", "kota")
    assert await get_institution(db.engine) == Institution("Pemerintah Kota Malang", "kota")


async def test_import_units_with_parents_after_children(db):
    result = await import_units(
        db.engine,
        [
            _row(
                "PKM-01",
                parent="DINKES",
                kind="service",
                serves_public="ya",
                staff_count="12",
                expert_count=" 6 ",
                service_user_count="18000",
            ),
            _row("DINKES", name="Dinas Kesehatan", expert_count=""),
        ],
    )
    assert result == UnitImport(created=2, updated=0)
    units = await list_units(db.engine)
    assert [(u.code, u.parent_code, u.serves_public) for u in units] == [
        ("DINKES", None, False),
        ("PKM-01", "DINKES", True),
    ]
    pkm = await get_unit(db.engine, "PKM-01")
    assert pkm is not None
    assert pkm.kind == "service"
    assert (pkm.staff_count, pkm.expert_count, pkm.service_user_count) == (12, 6, 18000)
    dinkes = await get_unit(db.engine, "DINKES")
    assert dinkes is not None
    assert (dinkes.staff_count, dinkes.expert_count, dinkes.service_user_count) == (None,) * 3
    assert await get_unit_by_id(db.engine, pkm.id) == pkm
    assert await get_unit(db.engine, "NOPE") is None


async def test_reimport_updates_by_code_and_moves_parent(db):
    await import_units(db.engine, [_row("A"), _row("B"), _row("C", parent="A")])
    first = await get_unit(db.engine, "C")
    result = await import_units(
        db.engine, [_row("C", parent="B", name="Renamed", kind="kecamatan")]
    )
    assert result == UnitImport(created=0, updated=1)
    unit = await get_unit(db.engine, "C")
    assert unit is not None
    assert first is not None
    assert (unit.id, unit.name, unit.kind, unit.parent_code) == (
        first.id,
        "Renamed",
        "kecamatan",
        "B",
    )


async def test_import_may_refer_to_parent_already_stored(db):
    await import_units(db.engine, [_row("DINKES")])
    await import_units(db.engine, [_row("PKM-02", parent="DINKES", kind="service")])
    unit = await get_unit(db.engine, "PKM-02")
    assert unit is not None
    assert unit.parent_code == "DINKES"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row("A", parent="ZZZ")], "unknown parent code 'ZZZ'"),
        ([_row("A", parent="B"), _row("B", parent="A")], "cycle"),
        ([_row("A", parent="A")], "own parent"),
        ([_row("A"), _row("A")], "more than once"),
        ([_row("A", kind="dinas")], "kind must be one of"),
        ([_row("")], "code is empty"),
        ([_row("A", serves_public="maybe")], "serves_public"),
        ([_row("A", staff_count="many")], "staff_count"),
        ([_row("A", expert_count="-1")], "expert_count must not be negative"),
        ([_row("A", service_user_count="1.5")], "service_user_count must be a whole number"),
        ([_row("X" * 41)], "longer than 40"),
    ],
)
async def test_import_rejects_bad_rows_and_stores_nothing(db, rows, message):
    with pytest.raises(UnitImportError, match=message):
        await import_units(db.engine, rows)
    assert await list_units(db.engine) == []


async def test_import_rejects_cycle_through_stored_units(db):
    await import_units(db.engine, [_row("A"), _row("B", parent="A")])
    with pytest.raises(UnitImportError, match="cycle"):
        await import_units(db.engine, [_row("A", parent="B")])
    unit = await get_unit(db.engine, "A")
    assert unit is not None
    assert unit.parent_code is None


async def test_search_units_by_code_or_name_case_insensitive(db):
    await import_units(
        db.engine,
        [
            _row("DINKES", name="Dinas Kesehatan"),
            _row("DISDIK", name="Dinas Pendidikan"),
            _row("KEC-01", name="Kecamatan Sooko", kind="kecamatan"),
            _row("X_1", name="100% Layanan"),
        ],
    )
    assert [u.code for u in await search_units(db.engine, "dinas")] == ["DINKES", "DISDIK"]
    assert [u.code for u in await search_units(db.engine, "sooko")] == ["KEC-01"]
    assert [u.code for u in await search_units(db.engine, "kec-")] == ["KEC-01"]
    # LIKE wildcards in the query are matched literally.
    assert [u.code for u in await search_units(db.engine, "%")] == ["X_1"]
    assert [u.code for u in await search_units(db.engine, "_")] == ["X_1"]
    assert len(await search_units(db.engine, "d", limit=1)) == 1
