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

import storage.errors
import storage.invitations
import storage.units
import storage.waves
from services.admin import questionnaires
from services.errors import AdminError
from services.links import UNIT_CODE_RE, deep_link, invitation_payload
from services.security import new_token, token_hash
from services.untrusted import spreadsheet_cell
from storage.db import AsyncEngine
from storage.invitations import NewInvitation
from storage.units import Unit
from storage.waves import Wave, WavePlan
from surveys import Group

__all__ = [
    "AdminError",
    "InvitationRow",
    "RosterError",
    "RosterProblem",
    "create_invitations",
    "decode_csv",
    "import_units_csv",
    "invitation_target",
    "invitations_csv",
    "issue_invitations",
    "open_wave",
    "parse_csv",
    "parse_roster",
    "read_roster",
    "resolve_wave",
    "write_invitations_csv",
]

UNIT_COLUMNS: Final = ("code", "name", "kind", "parent", "serves_public")
MAX_ROSTER_ROWS: Final = 100_000
# A roster cell longer than this is a mistake (a pasted document, a broken export), not a
# name or an e-mail address; Python's csv module itself stops at 128 KiB with an exception.
MAX_FIELD_LENGTH: Final = 1000


def decode_csv(data: bytes, source: str) -> str:
    """Return a CSV file's text; AdminError when it is not UTF-8 (Excel's BOM is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(
            source, [RosterProblem(None, "not_utf8")], f"{source}: not UTF-8 text"
        ) from exc


def parse_csv(text: str, source: str) -> list[tuple[int, dict[str, str]]]:
    """Return the rows of a CSV text with their line numbers (the header is line 1).

    Headers are lower-cased and trimmed, values trimmed; blank lines are skipped. The
    delimiter (comma, semicolon or tab: Excel's choice depends on the locale) is sniffed.
    RosterError names every line with a cell over MAX_FIELD_LENGTH characters.
    """
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:2048], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    header = [name.strip().lower() for name in next(reader, [])]
    rows: list[tuple[int, dict[str, str]]] = []
    too_long: list[RosterProblem] = []
    limit = str(MAX_FIELD_LENGTH)
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) >= MAX_ROSTER_ROWS:
                raise RosterError(
                    source,
                    [RosterProblem(None, "too_many_rows", str(MAX_ROSTER_ROWS))],
                    f"{source}: more than {MAX_ROSTER_ROWS} rows",
                )
            if any(len(value) > MAX_FIELD_LENGTH for value in values):
                too_long.append(RosterProblem(reader.line_num, "field_too_long", limit))
            cells = [*values, *[""] * (len(header) - len(values))][: len(header)]
            row = {name: value.strip() for name, value in zip(header, cells, strict=True)}
            rows.append((reader.line_num, row))
    except csv.Error as exc:  # the csv module cannot read on (e.g. a cell over 128 KiB)
        kind = "field_too_long" if "field larger" in str(exc) else "unreadable"
        too_long.append(RosterProblem(reader.line_num, kind, limit))
    if too_long:
        raise RosterError(source, too_long)
    return rows


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_csv(decode_csv(data, str(path)), str(path))


def _bad_codes(rows: Sequence[tuple[int, Mapping[str, str]]]) -> list[str]:
    """Name every line whose unit code (or parent code) could not be in a poster's link."""
    bad = []
    for line, row in rows:
        for column in ("code", "parent"):
            code = row.get(column, "")
            if (code or column == "code") and not UNIT_CODE_RE.match(code):
                bad.append(f"line {line}: {column} {code!r}")
    return bad


async def import_units_csv(engine: AsyncEngine, path: Path) -> storage.units.UnitImport:
    """Import units from a CSV with columns code, name, kind, parent, serves_public.

    Optional columns give each group's population in the unit (`storage.units.POPULATION_COLUMNS`).
    Every unit code must fit in a deep link (A-Z, 0-9 and "-", at most 40 characters), so
    each printed poster works; AdminError names every line that does not.
    """
    numbered = _read_csv(path)
    if not numbered:
        raise AdminError(f"{path}: no rows")
    rows = [row for _line, row in numbered]
    missing = [c for c in ("code", "name", "kind") if c not in rows[0]]
    if missing:
        raise AdminError(f"{path}: missing column(s) {', '.join(missing)}")
    bad = _bad_codes(numbered)
    if bad:
        raise AdminError(
            f"{path}: unit codes may only use A-Z, 0-9 and '-' (at most 40 characters), so "
            f"that their poster links work: {'; '.join(bad)}"
        )
    try:
        return await storage.units.import_units(engine, rows)
    except storage.errors.StorageError as exc:
        raise AdminError(f"{path}: {exc}") from exc


async def open_wave(
    engine: AsyncEngine,
    name: str,
    now: datetime,
    choices: Mapping[Group, str] | None = None,
) -> Wave:
    """Open a wave in which each group answers the chosen questionnaire ("NAME" or
    "NAME@VERSION"), else the default (`services.admin.questionnaires`). A plan of the same name
    lends its stored choice for the groups `choices` does not name."""
    if not name.strip() or len(name) > 80:
        raise AdminError("wave name: give 1 to 80 characters, e.g. 2026-S1")
    plan = await storage.waves.get_wave_plan(engine, name.strip())
    chosen = questionnaires.choices_from_text(plan.questionnaire_choice if plan else None)
    chosen.update(choices or {})
    stored = await questionnaires.choose_questionnaires(engine, chosen, now)
    questionnaire_ids = {group.value: s.id for group, s in stored.items()}
    try:
        return await storage.waves.open_wave(engine, name.strip(), questionnaire_ids, now)
    except storage.errors.StorageError as exc:
        raise AdminError(str(exc)) from exc


async def resolve_wave(engine: AsyncEngine, name: str | None) -> Wave:
    """Return the named wave, or the open one when no name is given."""
    wave = await (
        storage.waves.get_wave(engine, name) if name else storage.waves.current_wave(engine)
    )
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


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One thing wrong with a roster: where (a line, or None for the whole file) and what."""

    line: int | None
    # not_utf8, empty, no_unit_column, too_many_rows, no_unit, unknown_unit, field_too_long,
    # unreadable; renewing (services.admin.renewal): renew_no_link, renew_not_a_link,
    # renew_duplicate, renew_other_wave
    kind: str
    value: str = ""

    def english(self) -> str:
        """Describe the problem for the command line."""
        where = f"line {self.line}: " if self.line is not None else ""
        what = {
            "not_utf8": "not UTF-8 text",
            "empty": "no rows",
            "no_unit_column": "needs a 'unit' column with unit codes",
            "too_many_rows": f"more than {self.value} rows",
            "no_unit": "no unit code",
            "unknown_unit": f"unknown unit code {self.value!r}",
            "renew_no_link": f"no link from wave {self.value!r}: a new person? give --group",
            "renew_not_a_link": f"{self.value!r} is not a personal invitation link",
            "renew_duplicate": f"the same link as line {self.value}",
            "renew_other_wave": "the link is not one of the --from wave's"
            + (f" (it is from {self.value!r})" if self.value else ""),
            "field_too_long": f"a cell longer than {self.value} characters",
            "unreadable": "not readable as CSV from here on (a NUL byte?)",
        }[self.kind]
        return where + what


class RosterError(AdminError):
    """A roster that cannot be used, with every problem found (at most `SHOWN` in the text)."""

    SHOWN: Final = 5

    def __init__(self, source: str, problems: list[RosterProblem], text: str | None = None):
        self.source = source
        self.problems = problems
        if text is None:
            shown = "; ".join(p.english() for p in problems[: self.SHOWN])
            more = len(problems) - self.SHOWN
            text = f"{source}: {shown}" + (f"; and {more} more" if more > 0 else "")
        super().__init__(text)


def parse_roster(
    data: bytes, units_by_code: Mapping[str, Unit], source: str
) -> list[dict[str, str]]:
    """Check a roster CSV (a `unit` column with unit codes) and return its rows.

    Every row is checked; RosterError lists each bad line with what is wrong. The unit codes
    are upper-cased into a `unit` column; every other column is kept as it is.
    """
    rows = parse_csv(decode_csv(data, source), source)
    if not rows:
        raise RosterError(source, [RosterProblem(None, "empty")])
    unit_column = next(
        (c for c in ("unit", "unit_code", "code", "kode_unit") if c in rows[0][1]), None
    )
    if unit_column is None:
        raise RosterError(source, [RosterProblem(None, "no_unit_column")])
    problems = [
        RosterProblem(line, "unknown_unit", row[unit_column])
        if row[unit_column]
        else RosterProblem(line, "no_unit")
        for line, row in rows
        if row[unit_column].upper() not in units_by_code
    ]
    if problems:
        raise RosterError(source, problems)
    out = []
    for _line, row in rows:
        code = row.pop(unit_column).upper()
        out.append({"unit": code, **row})
    return out


def read_roster(path: Path, units_by_code: Mapping[str, Unit]) -> list[dict[str, str]]:
    """Read a roster CSV file (see `parse_roster`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_roster(data, units_by_code, str(path))


async def invitation_target(engine: AsyncEngine, name: str | None) -> Wave | WavePlan:
    """Return the wave invitations are for: the named wave, the named plan that has not
    opened yet, or (no name) the open wave."""
    if name:
        wave = await storage.waves.get_wave(engine, name)
        if wave is not None:
            return wave
        plan = await storage.waves.get_wave_plan(engine, name)
        if plan is not None and plan.wave_id is None:
            return plan
        raise AdminError(f"no wave or planned wave named {name!r} (see `spibot wave list`)")
    return await resolve_wave(engine, None)


async def create_invitations(
    engine: AsyncEngine,
    *,
    wave: Wave | WavePlan,
    group: Group,
    roster: Sequence[Mapping[str, str]],
    bot_username: str,
    now: datetime,
) -> list[InvitationRow]:
    """Create one personal one-time link per roster row; only token hashes are stored.

    For a planned wave the links are stored with the plan and work from its opening; tapped
    earlier, they say when the survey opens.
    """
    return await issue_invitations(
        engine,
        wave=wave,
        rows=[(group, row) for row in roster],
        bot_username=bot_username,
        now=now,
    )


async def issue_invitations(
    engine: AsyncEngine,
    *,
    wave: Wave | WavePlan,
    rows: Sequence[tuple[Group, Mapping[str, str]]],
    bot_username: str,
    now: datetime,
) -> list[InvitationRow]:
    """Create one link per (group, roster row) for a wave or a plan, in roster order."""
    if any(group is Group.EXTERNAL for group, _ in rows):
        raise AdminError(
            "--group: service users get the open unit link (`spibot link`), not invitations"
        )
    if isinstance(wave, Wave) and not wave.is_open:
        raise AdminError(f"wave {wave.name!r} is closed")
    units_by_code = {u.code: u for u in await storage.units.list_units(engine)}
    out: list[InvitationRow] = []
    new: list[NewInvitation] = []
    planned: list[storage.waves.NewPlannedInvitation] = []
    for group, row in rows:
        token = new_token()
        unit = units_by_code[row["unit"]]
        if isinstance(wave, Wave):
            new.append(NewInvitation(token_hash(token), wave.id, group.value, unit.id))
        else:
            planned.append(
                storage.waves.NewPlannedInvitation(token_hash(token), group.value, unit.id)
            )
        out.append(InvitationRow(row, deep_link(bot_username, invitation_payload(token))))
    if isinstance(wave, Wave):
        await storage.invitations.create_invitations(engine, new, now)
    else:
        try:
            await storage.waves.create_planned_invitations(engine, wave.name, planned, now)
        except storage.errors.StorageError as exc:  # the plan opened (or was cancelled) meanwhile
            raise AdminError(f"{exc}; issue the links for the wave again") from exc
    return out


def invitations_csv(rows: Iterable[InvitationRow]) -> tuple[str, int]:
    """Return the roster back as CSV text with a `link` column, and the number of rows."""
    materialised = list(rows)
    columns: list[str] = []
    for row in materialised:
        columns += [c for c in row.fields if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*columns, "link"], lineterminator="\n")
    writer.writeheader()
    for row in materialised:
        # HR opens this in a spreadsheet: a roster cell such as "=…" or "+62…" stays text.
        fields = {name: spreadsheet_cell(value) for name, value in row.fields.items()}
        writer.writerow({**fields, "link": row.link})
    return out.getvalue(), len(materialised)


def write_invitations_csv(path: Path, rows: Iterable[InvitationRow]) -> int:
    """Write the roster back with a `link` column; return the number of rows."""
    text, count = invitations_csv(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return count
