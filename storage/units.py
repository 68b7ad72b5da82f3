"""The institution and its units (OPD, service counters, kecamatan): import, list, search."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from storage.db import read_connection, write_transaction
from storage.errors import UnitImportError
from storage.metadata import metadata
from storage.onehop import run_read

__all__ = [
    "POPULATION_COLUMNS",
    "UNIT_KINDS",
    "Institution",
    "Unit",
    "UnitImport",
    "get_institution",
    "get_unit",
    "get_unit_by_id",
    "import_units",
    "institution",
    "list_units",
    "search_units",
    "set_institution",
    "units",
]


@dataclass(frozen=True, slots=True)
class Institution:
    """The institution the bot serves; `level` picks the benchmark average."""

    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Unit:
    """An agency (OPD), service counter or kecamatan; `parent_code` is None at the top."""

    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    serves_public: bool
    staff_count: int | None  # population of the internal group, when known
    expert_count: int | None = None  # of the expert group
    service_user_count: int | None = None  # of the external group (service users per year)


@dataclass(frozen=True, slots=True)
class UnitImport:
    """How many units an import created and updated."""

    created: int
    updated: int


institution = Table(
    "institution",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    # kabupaten, kota, provinsi, kementerian, lembaga: picks the benchmark average.
    Column("level", String(20), nullable=False, server_default="kabupaten"),
)


units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # opd, service, kecamatan
    Column("parent_id", Integer, ForeignKey("units.id", ondelete="SET NULL"), nullable=True),
    Column("serves_public", Boolean, nullable=False, server_default="0"),
    # Population sizes per group, when known: the finite-population correction of targets and
    # margins. Staff roster (internal), expert list (expert), yearly service users (external).
    Column("staff_count", Integer, nullable=True),
    Column("expert_count", Integer, nullable=True),
    Column("service_user_count", Integer, nullable=True),
    CheckConstraint("kind IN ('opd', 'service', 'kecamatan')", name="kind"),
)

UNIT_KINDS: Final = ("opd", "service", "kecamatan")
_TRUE: Final = frozenset({"1", "true", "yes", "y", "ya"})
_FALSE: Final = frozenset({"", "0", "false", "no", "n", "tidak"})
# Column sizes in schema.py: checked here so a long cell gets a row number, not a DB error.
_CODE_MAX: Final = 40
_NAME_MAX: Final = 200
# The institution table holds one row.
_INSTITUTION_ID: Final = 1


async def get_institution(engine: AsyncEngine) -> Institution | None:
    """Return the institution, or None before it is set."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                select(institution.c.name, institution.c.level).where(
                    institution.c.id == _INSTITUTION_ID
                )
            )
        ).first()
    return None if row is None else Institution(name=row.name, level=row.level)


async def set_institution(engine: AsyncEngine, name: str, level: str) -> Institution:
    """Set the institution's name and level (kabupaten, kota, provinsi, ...)."""
    async with write_transaction(engine) as conn:
        changed = await conn.execute(
            update(institution)
            .where(institution.c.id == _INSTITUTION_ID)
            .values(name=name, level=level)
        )
        if changed.rowcount == 0:
            await conn.execute(
                institution.insert().values(id=_INSTITUTION_ID, name=name, level=level)
            )
    return Institution(name=name, level=level)


def _unit_select() -> Any:
    """Return a SELECT of units with their parent's code."""
    parent = aliased(units, name="parent")
    return select(
        units.c.id,
        units.c.code,
        units.c.name,
        units.c.kind,
        parent.c.code.label("parent_code"),
        units.c.serves_public,
        units.c.staff_count,
        units.c.expert_count,
        units.c.service_user_count,
    ).outerjoin(parent, parent.c.id == units.c.parent_id)


# Built once: a survey's way in looks a unit up, and an aliased SELECT built anew each time
# is compiled anew each time too.
_UNIT_BY_CODE: Final = _unit_select().where(units.c.code == bindparam("code"))
_UNIT_BY_ID: Final = _unit_select().where(units.c.id == bindparam("unit_id"))


def _unit(row: Row[Any]) -> Unit:
    """Build a Unit from a `_unit_select` row."""
    return Unit(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        parent_code=row.parent_code,
        serves_public=bool(row.serves_public),
        staff_count=row.staff_count,
        expert_count=row.expert_count,
        service_user_count=row.service_user_count,
    )


async def list_units(engine: AsyncEngine) -> list[Unit]:
    """Return every unit, ordered by code."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(_unit_select().order_by(units.c.code))
        return [_unit(row) for row in rows]


async def get_unit(engine: AsyncEngine, code: str) -> Unit | None:
    """Return the unit with this code, or None."""
    row = await run_read(engine, lambda conn: conn.execute(_UNIT_BY_CODE, {"code": code}).first())
    return None if row is None else _unit(row)


async def get_unit_by_id(engine: AsyncEngine, unit_id: int) -> Unit | None:
    """Return the unit with this id, or None."""
    row = await run_read(
        engine, lambda conn: conn.execute(_UNIT_BY_ID, {"unit_id": unit_id}).first()
    )
    return None if row is None else _unit(row)


async def search_units(engine: AsyncEngine, query: str, limit: int = 20) -> list[Unit]:
    """Return units whose code or name contains `query` (case-insensitive), by code."""
    needle = query.strip().lower()
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            _unit_select()
            .where(
                or_(
                    func.lower(units.c.code).contains(needle, autoescape=True),
                    func.lower(units.c.name).contains(needle, autoescape=True),
                )
            )
            .order_by(units.c.code)
            .limit(limit)
        )
        return [_unit(row) for row in rows]


def _text(row: Mapping[str, object], key: str) -> str:
    """Return a row's field as stripped text ('' when missing)."""
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _flag(value: object, where: str) -> bool:
    """Parse a yes/no cell (bool, 1/0, true/false, ya/tidak)."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UnitImportError(f"{where}: serves_public must be yes or no, not {value!r}")


# Optional population columns: staff (internal), expert list (expert), service users (external).
POPULATION_COLUMNS: Final = ("staff_count", "expert_count", "service_user_count")


def _count(value: object, column: str, where: str) -> int | None:
    """Parse an optional non-negative count (empty: unknown)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        count = int(str(value).strip())
    except ValueError:
        raise UnitImportError(f"{where}: {column} must be a whole number") from None
    if count < 0:
        raise UnitImportError(f"{where}: {column} must not be negative")
    return count


def _validate(rows: Iterable[Mapping[str, object]]) -> list[dict[str, Any]]:
    """Check each row and return clean values (parent as a code)."""
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = f"unit row {number}"
        code, name, kind = _text(row, "code"), _text(row, "name"), _text(row, "kind").lower()
        if not code:
            raise UnitImportError(f"{where}: code is empty")
        where = f"unit row {number} ({code})"
        if len(code) > _CODE_MAX:
            raise UnitImportError(f"{where}: code is longer than {_CODE_MAX} characters")
        if code in seen:
            raise UnitImportError(f"{where}: code appears more than once")
        seen.add(code)
        if not name:
            raise UnitImportError(f"{where}: name is empty")
        if len(name) > _NAME_MAX:
            raise UnitImportError(f"{where}: name is longer than {_NAME_MAX} characters")
        if kind not in UNIT_KINDS:
            raise UnitImportError(f"{where}: kind must be one of {', '.join(UNIT_KINDS)}")
        parent = _text(row, "parent") or None
        if parent == code:
            raise UnitImportError(f"{where}: a unit cannot be its own parent")
        clean.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent,
                "serves_public": _flag(row.get("serves_public"), where),
                **{c: _count(row.get(c), c, where) for c in POPULATION_COLUMNS},
            }
        )
    return clean


def _check_tree(parents: Mapping[str, str | None], imported: Iterable[str]) -> None:
    """Reject unknown parent codes and parent cycles in the merged unit tree."""
    for code in imported:
        parent = parents[code]
        if parent is not None and parent not in parents:
            raise UnitImportError(f"unit {code}: unknown parent code {parent!r}")
    for start in imported:
        path = [start]
        current = parents[start]
        while current is not None:
            if current in path:
                cycle = " -> ".join([*path[path.index(current) :], current])
                raise UnitImportError(f"unit parents form a cycle: {cycle}")
            path.append(current)
            current = parents[current]


async def _existing_parents(conn: AsyncConnection) -> dict[str, str | None]:
    """Return code -> parent code for the units already stored."""
    parent = aliased(units, name="parent")
    rows = await conn.execute(
        select(units.c.code, parent.c.code).outerjoin(parent, parent.c.id == units.c.parent_id)
    )
    return dict(rows.all())


async def import_units(engine: AsyncEngine, rows: Iterable[Mapping[str, object]]) -> UnitImport:
    """Create or update units by code, all or nothing; parents may follow their children.

    Rows are mappings with code, name, kind, parent (a code or empty), serves_public and
    optionally the population counts staff_count, expert_count and service_user_count (empty:
    unknown). Units not in `rows` are left as they are.
    """
    clean = _validate(rows)
    async with write_transaction(engine) as conn:
        parents = await _existing_parents(conn)
        existing = set(parents)
        parents.update({row["code"]: row["parent"] for row in clean})
        _check_tree(parents, [row["code"] for row in clean])
        # Two passes so that a parent listed after its child already has an id.
        for row in clean:
            values = {k: row[k] for k in ("name", "kind", "serves_public", *POPULATION_COLUMNS)}
            if row["code"] in existing:
                await conn.execute(update(units).where(units.c.code == row["code"]).values(values))
            else:
                await conn.execute(units.insert().values(code=row["code"], **values))
        ids = dict((await conn.execute(select(units.c.code, units.c.id))).all())
        for row in clean:
            parent_id = None if row["parent"] is None else ids[row["parent"]]
            await conn.execute(
                update(units).where(units.c.code == row["code"]).values(parent_id=parent_id)
            )
    created = sum(1 for row in clean if row["code"] not in existing)
    return UnitImport(created=created, updated=len(clean) - created)
