"""Survey administration used by the CLI (and by tests and the demo): units, waves,
personal invitations and open unit links with their QR posters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import storage
from services.errors import AdminError
from services.links import deep_link, invitation_payload
from services.security import new_token, token_hash
from storage import AsyncEngine
from storage.models import NewInvitation, Unit, Wave
from surveys import Group, bundled_questionnaires

__all__ = [
    "AdminError",
    "InvitationRow",
    "create_invitations",
    "ensure_questionnaires",
    "import_units_csv",
    "open_wave",
    "read_roster",
    "resolve_wave",
    "write_invitations_csv",
]

UNIT_COLUMNS: Final = ("code", "name", "kind", "parent", "serves_public")
MAX_ROSTER_ROWS: Final = 100_000


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except OSError as exc:
        raise AdminError(f"{path}: cannot read: {exc.strerror}") from exc
    sample = text[:2048]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    rows = [
        {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader
    ]
    if len(rows) > MAX_ROSTER_ROWS:
        raise AdminError(f"{path}: more than {MAX_ROSTER_ROWS} rows")
    return rows


async def import_units_csv(engine: AsyncEngine, path: Path) -> storage.UnitImport:
    """Import units from a CSV with columns code, name, kind, parent, serves_public.

    Optional columns give each group's population in the unit (`storage.POPULATION_COLUMNS`).
    """
    rows = _read_csv(path)
    if not rows:
        raise AdminError(f"{path}: no rows")
    missing = [c for c in ("code", "name", "kind") if c not in rows[0]]
    if missing:
        raise AdminError(f"{path}: missing column(s) {', '.join(missing)}")
    try:
        return await storage.import_units(engine, rows)
    except storage.StorageError as exc:
        raise AdminError(f"{path}: {exc}") from exc


async def ensure_questionnaires(engine: AsyncEngine, now: datetime) -> dict[str, int]:
    """Return the newest stored questionnaire per group, storing the bundled ones if missing."""
    latest = await storage.latest_questionnaires(engine)
    chosen: dict[str, int] = {}
    for group, questionnaire in bundled_questionnaires().items():
        stored = latest.get(questionnaire.id)
        if stored is None:
            stored = await storage.save_questionnaire(
                engine,
                questionnaire.id,
                questionnaire.version,
                group.value,
                questionnaire.source,
                now,
            )
        chosen[group.value] = stored.id
    return chosen


async def open_wave(engine: AsyncEngine, name: str, now: datetime) -> Wave:
    """Open a wave with the current questionnaire of each group."""
    if not name.strip() or len(name) > 80:
        raise AdminError("wave name: give 1 to 80 characters, e.g. 2026-S1")
    questionnaire_ids = await ensure_questionnaires(engine, now)
    try:
        return await storage.open_wave(engine, name.strip(), questionnaire_ids, now)
    except storage.StorageError as exc:
        raise AdminError(str(exc)) from exc


async def resolve_wave(engine: AsyncEngine, name: str | None) -> Wave:
    """Return the named wave, or the open one when no name is given."""
    wave = await (storage.get_wave(engine, name) if name else storage.current_wave(engine))
    if wave is None:
        raise AdminError(
            f"no wave named {name!r}" if name else "no wave is open; use `spibot wave open NAME`"
        )
    return wave


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """One roster row with its new personal link."""

    fields: Mapping[str, str]
    link: str


def read_roster(path: Path, units_by_code: Mapping[str, Unit]) -> list[dict[str, str]]:
    """Read a roster CSV (a `unit` column with unit codes), checking every row."""
    rows = _read_csv(path)
    if not rows:
        raise AdminError(f"{path}: no rows")
    unit_column = next(
        (c for c in ("unit", "unit_code", "code", "kode_unit") if c in rows[0]), None
    )
    if unit_column is None:
        raise AdminError(f"{path}: needs a 'unit' column with unit codes")
    problems = [
        f"line {i}: unknown unit code {row[unit_column]!r}"
        for i, row in enumerate(rows, start=2)
        if row[unit_column].upper() not in units_by_code
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise AdminError(f"{path}: {shown}")
    for row in rows:
        row["unit"] = row.pop(unit_column).upper() if unit_column != "unit" else row["unit"].upper()
    return rows


async def create_invitations(
    engine: AsyncEngine,
    *,
    wave: Wave,
    group: Group,
    roster: Sequence[Mapping[str, str]],
    bot_username: str,
    now: datetime,
) -> list[InvitationRow]:
    """Create one personal one-time link per roster row; only token hashes are stored."""
    if group is Group.EXTERNAL:
        raise AdminError(
            "--group: service users get the open unit link (`spibot link`), not invitations"
        )
    if not wave.is_open:
        raise AdminError(f"wave {wave.name!r} is closed")
    units_by_code = {u.code: u for u in await storage.list_units(engine)}
    out: list[InvitationRow] = []
    new: list[NewInvitation] = []
    for row in roster:
        token = new_token()
        unit = units_by_code[row["unit"]]
        new.append(NewInvitation(token_hash(token), wave.id, group.value, unit.id))
        out.append(InvitationRow(row, deep_link(bot_username, invitation_payload(token))))
    await storage.create_invitations(engine, new, now)
    return out


def write_invitations_csv(path: Path, rows: Iterable[InvitationRow]) -> int:
    """Write the roster back with a `link` column; return the number of rows."""
    materialised = list(rows)
    columns: list[str] = []
    for row in materialised:
        columns += [c for c in row.fields if c not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*columns, "link"])
        writer.writeheader()
        for row in materialised:
            writer.writerow({**row.fields, "link": row.link})
    return len(materialised)
