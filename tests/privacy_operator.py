"""The curious operator's toolkit (issue 20): what they collect, and how they try to link.

The operator holds every copy of the database files, every `spibot db backup`, the logs, the
exports, the roster (names beside invitation links), SPIBOT_SECRET and, at worst, everyone's
Telegram id (so every pseudonym: HMAC of the id under the secret). Each attack returns, per
submitted response, the people it could still be; a response is *linked* when one remains.
The test checks the links against the truth it recorded while people submitted.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sandbox import SandboxUser
from sandbox.simulation import Persona
from scoring.paradata import DURATION_EDGES
from surveys import Group
from tests.privacy_bytes import draft_rows, pg_data_files, pg_raw_pages, session_rows

__all__ = [
    "TABLES",
    "Attack",
    "Person",
    "Snapshot",
    "all_attacks",
    "backup_tables",
    "database_tables",
    "raw_files",
]

Rows = list[dict[str, str]]
# What the operator reads out of every copy (everything that could name or time a person).
TABLES = (
    "responses",
    "answers",
    "completions",
    "invitations",
    "respondents",
    "survey_sessions",
    "draft_answers",
    "survey_contacts",
    "contacts",
    "reminder_claims",
    "arrivals",
    "units",
)


@dataclass
class Person:
    """Someone on the roster (or a citizen at a counter), as the operator knows them."""

    name: str
    group: Group
    unit: str
    user: SandboxUser
    payload: str
    persona: Persona
    pseudonym: str  # the operator computes it: HMAC(secret, Telegram id)
    token_hash: str | None = None  # from the roster's link, for invitees


@dataclass
class Snapshot:
    """One moment the operator copied everything: the files as bytes, and what they hold."""

    label: str
    moment: datetime
    raw: bytes  # the database files (SQLite main + WAL; PostgreSQL pages / data files)
    tables: dict[str, Rows]  # the copy opened as a database
    backup: bytes  # `spibot db backup` of the same moment (PostgreSQL: its restored text)
    backup_tables: dict[str, Rows]


def _stringify(rows: Iterable[Mapping[str, object]]) -> Rows:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def sqlite_tables(path: Path) -> dict[str, Rows]:
    """Open a SQLite file (a copy) and read every table the operator cares about."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            table: _stringify(dict(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
            for table in TABLES
            if table in present
        }


async def database_tables(engine: AsyncEngine) -> dict[str, Rows]:
    """Read every table the operator cares about from a live database."""
    found: dict[str, Rows] = {}
    async with engine.connect() as conn:
        for table in TABLES:
            result = await conn.execute(text(f'SELECT * FROM "{table}"'))
            found[table] = _stringify(row._mapping for row in result)
    return found


async def raw_files(engine: AsyncEngine, database: Path | None, into: Path) -> bytes:
    """Copy the database's files as they are (cp of main and WAL), and return their bytes."""
    if database is not None:
        into.mkdir(parents=True, exist_ok=True)
        parts = []
        for suffix in ("", "-wal"):
            source = database.with_name(database.name + suffix)
            if source.exists():
                shutil.copy(source, into / source.name)
                parts.append((into / source.name).read_bytes())
        return b"".join(parts)
    async with engine.connect() as conn:
        relations = (
            await conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    "c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
                )
            )
        ).scalars()
        pages = await pg_raw_pages(conn, list(relations))
        files = await pg_data_files(conn)
    return pages + (files or b"")


def _copy_blocks(dump_text: str) -> dict[str, Rows]:
    """Parse the COPY blocks of a plain SQL dump into rows (what pg_restore would load); a
    table whose data was left out is there, empty."""
    tables: dict[str, Rows] = defaultdict(list, {table: [] for table in TABLES})
    columns: list[str] | None = None
    table = ""
    for line in dump_text.splitlines():
        if columns is None:
            if line.startswith("COPY "):
                head = line[len("COPY ") :]
                table = head.split(" ", 1)[0].split(".")[-1].strip('"')
                inside = head[head.index("(") + 1 : head.index(")")]
                columns = [c.strip().strip('"') for c in inside.split(",")]
                tables[table]
        elif line == "\\.":
            columns = None
        else:
            values = ["" if v == "\\N" else v for v in line.split("\t")]
            tables[table].append(dict(zip(columns, values, strict=True)))
    return dict(tables)


def backup_tables(path: Path) -> tuple[bytes, dict[str, Rows]]:
    """Return a backup's bytes as the operator can search them, and its tables."""
    if path.suffix == ".db":
        return path.read_bytes(), sqlite_tables(path)
    program = shutil.which("pg_restore")
    assert program is not None
    dump = subprocess.run(
        [program, "--data-only", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dump.encode(), _copy_blocks(dump)


def export_rows(folder: Path) -> Rows:
    """Read `spibot export`'s data.csv."""
    with (folder / "data.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- attacks -------------------------------------------------------------------------------


@dataclass
class Attack:
    """One attempt and its outcome: per response, who it could still be."""

    name: str
    uses_mid_survey_copy: bool  # a raw copy of the files taken while people answered
    candidates: dict[str, set[str]] = field(default_factory=dict)
    note: str = ""

    def linked(self) -> dict[str, str]:
        """Return the responses narrowed down to one person, and that person."""
        return {r: next(iter(c)) for r, c in self.candidates.items() if len(c) == 1}

    def line(self) -> str:
        """Say what was tried and what came of it, for the printed report."""
        sizes = sorted(len(c) for c in self.candidates.values())
        smallest = sizes[0] if sizes else "-"
        return (
            f"{self.name:<58} linked {len(self.linked()):>2} of {len(self.candidates):>2}"
            f" (smallest set {smallest}) {self.note}"
        )


def cell_of(response: Mapping[str, str]) -> tuple[str, str]:
    """Return (group, unit id) of a response row."""
    return response["grp"], response["unit_id"]


def who_took_part(
    tables: Mapping[str, Rows], people: Iterable[Person], unit_ids: Mapping[str, str]
) -> dict[tuple[str, str], set[str]]:
    """Return, per (group, unit id), the people the copy shows as having completed.

    Completion markers hold pseudonyms, which the operator computes from Telegram ids; the
    roster gives each invitee's unit; a citizen's marker names the unit it covers.
    """
    markers = {(row["pseudonym"], row["grp"], row["scope"]) for row in tables["completions"]}
    taken: dict[tuple[str, str], set[str]] = defaultdict(set)
    for person in people:
        group = person.group.value
        for pseudonym, grp, scope in markers:
            if pseudonym != person.pseudonym or grp != group:
                continue
            unit = scope if group == Group.EXTERNAL.value else unit_ids[person.unit]
            taken[(group, unit)].add(person.name)
    return taken


def participation(name: str, tables: Mapping[str, Rows], taken: Mapping) -> Attack:
    """Every response could be anyone who completed in its unit and group."""
    attack = Attack(name, False)
    for response in tables["responses"]:
        attack.candidates[response["id"]] = set(taken.get(cell_of(response), set()))
    return attack


def differencing(
    name: str,
    before: Mapping[str, Rows],
    after: Mapping[str, Rows],
    taken_before: Mapping[tuple[str, str], set[str]],
    taken_after: Mapping[tuple[str, str], set[str]],
    *,
    uses_mid_survey_copy: bool = False,
) -> Attack:
    """Responses new between two copies could be anyone who completed between them."""
    attack = Attack(name, uses_mid_survey_copy)
    known = {r["id"] for r in before["responses"]}
    for response in after["responses"]:
        if response["id"] in known:
            continue
        cell = cell_of(response)
        attack.candidates[response["id"]] = set(taken_after.get(cell, set())) - set(
            taken_before.get(cell, set())
        )
    return attack


def band_range(band: int) -> tuple[float, float]:
    """Return the seconds a duration band stands for."""
    low = 0.0 if band == 0 else float(DURATION_EDGES[band - 1])
    high = float(DURATION_EDGES[band]) if band < len(DURATION_EDGES) else float("inf")
    return low, high


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def names_of_sessions(tables: Mapping[str, Rows], people: Iterable[Person]) -> dict[str, str]:
    """Return who each session in a copy belongs to: by its invitation (the roster) or by
    the pseudonym (a Telegram id under the secret)."""
    by_pseudonym = {p.pseudonym: p.name for p in people}
    by_hash = {p.token_hash: p.name for p in people if p.token_hash}
    invitation_hash = {row["id"]: row["token_hash"] for row in tables["invitations"]}
    named = {}
    for session in tables["survey_sessions"]:
        via_roster = by_hash.get(invitation_hash.get(session["invitation_id"], ""))
        named[session["pseudonym"]] = via_roster or by_pseudonym.get(session["pseudonym"], "?")
    return named


def timing(name: str, during: Snapshot, after: Snapshot, people: Iterable[Person]) -> Attack:
    """Sessions seen in a copy taken mid-survey, against each later response's unit, group,
    date and duration band: who could have taken that long? (Nobody seen: anyone.)"""
    attack = Attack(name, True)
    people = list(people)
    everyone = {p.name for p in people}
    named = names_of_sessions(during.tables, people)
    known = {r["id"] for r in during.tables["responses"]}
    for response in after.tables["responses"]:
        if response["id"] in known:
            continue
        low, high = band_range(int(response["duration_band"]))
        fits = set()
        for session in during.tables["survey_sessions"]:
            same = all(
                session[c] == response[c] for c in ("wave_id", "grp", "unit_id", "questionnaire_id")
            )
            started = _moment(session["started_at"])
            earliest = (during.moment - started).total_seconds()
            latest = (after.moment - started).total_seconds()
            if same and earliest < high and latest >= low:
                fits.add(named[session["pseudonym"]])
        attack.candidates[response["id"]] = fits or everyone
    return attack


def content(
    name: str, copy: Mapping[str, Rows], later: Mapping[str, Rows], people: Iterable[Person]
) -> Attack:
    """Answers so far (drafts) in a copy, against the answers of each later response of the
    same unit and group. (No session's answers fit: anyone.)"""
    attack = Attack(name, True)
    people = list(people)
    everyone = {p.name for p in people}
    named = names_of_sessions(copy, people)
    cell = {s["pseudonym"]: (s["grp"], s["unit_id"]) for s in copy["survey_sessions"]}
    drafts: dict[str, dict[str, str]] = defaultdict(dict)
    for row in copy["draft_answers"]:
        if row["value"]:
            drafts[row["pseudonym"]][row["question_id"]] = row["value"]
    given: dict[str, dict[str, str]] = defaultdict(dict)
    for row in later["answers"]:
        given[row["response_id"]][row["question_id"]] = row["value"]
    known = {r["id"] for r in copy["responses"]}
    for response in later["responses"]:
        if response["id"] in known:
            continue
        answers = given[response["id"]]
        fits = {
            named[pseudonym]
            for pseudonym, so_far in drafts.items()
            if cell.get(pseudonym) == cell_of(response)
            and all(answers.get(q) == v for q, v in so_far.items())
        }
        attack.candidates[response["id"]] = fits or everyone
    return attack


def leftovers(blob: bytes, people: Iterable[Person], questions: Iterable[str]) -> list[str]:
    """Return the people whose session or draft rows are still readable in raw bytes."""
    questions = list(questions)
    return [
        p.name
        for p in people
        if draft_rows(blob, p.pseudonym, questions) or session_rows(blob, p.pseudonym)
    ]


def all_attacks(
    snapshots: Mapping[str, Snapshot],
    people: list[Person],
    truth: Mapping[str, str],
    units: Mapping[str, str],
    log: str,
) -> list[Attack]:
    """Run every attack on the copies taken "before", "during" and "after"."""
    before, during, after = snapshots["before"], snapshots["during"], snapshots["after"]
    taken = {label: who_took_part(s.tables, people, units) for label, s in snapshots.items()}
    in_backup = {
        label: who_took_part(s.backup_tables, people, units) for label, s in snapshots.items()
    }
    everyone = {p.name for p in people}
    # Ids: anything stored before a response was submitted that carries its id.
    earlier = [before.raw, before.backup, during.raw, during.backup, log.encode()]
    ids = Attack("id join: response ids in earlier copies, backups, logs", False)
    for response_id, name in truth.items():
        seen = any(response_id.encode() in blob for blob in earlier)
        ids.candidates[response_id] = {name} if seen else set(everyone)
    return [
        ids,
        # Who took part where: roster, completion markers, pseudonyms from Telegram ids.
        participation("participation: roster + completions (files)", after.tables, taken["after"]),
        participation(
            "participation: roster + completions (backup)", after.backup_tables, in_backup["after"]
        ),
        # Which responses and which markers are new between two copies.
        differencing(
            "differencing backups before -> during",
            before.backup_tables,
            during.backup_tables,
            in_backup["before"],
            in_backup["during"],
        ),
        differencing(
            "differencing backups during -> after",
            during.backup_tables,
            after.backup_tables,
            in_backup["during"],
            in_backup["after"],
        ),
        differencing(
            "differencing file copies before -> after",
            before.tables,
            after.tables,
            taken["before"],
            taken["after"],
        ),
        # A backup taken mid-survey: no answers so far, no sessions to time.
        replace(
            content(
                "answers so far in the mid-survey backup",
                during.backup_tables,
                after.tables,
                people,
            ),
            uses_mid_survey_copy=False,
        ),
        replace(
            timing(
                "timing: mid-survey backup sessions vs bands",
                replace(during, tables=during.backup_tables),
                after,
                people,
            ),
            uses_mid_survey_copy=False,
        ),
        # A raw copy of the files taken mid-survey (the residual risk docs/privacy.md names).
        content("answers so far in the raw mid-survey copy", during.tables, after.tables, people),
        timing("timing: raw mid-survey sessions vs dates, bands", during, after, people),
        differencing(
            "differencing file copies during -> after",
            during.tables,
            after.tables,
            taken["during"],
            taken["after"],
            uses_mid_survey_copy=True,
        ),
    ]
