"""The curious operator, end to end (issue 20): people answer through the real bot and the
sandbox while the operator copies the database files, takes `spibot db backup`s, keeps the
logs and an export, holds the named roster, SPIBOT_SECRET and everyone's Telegram id, and
tries every join, byte search and timing match it can. Not one response is linked to a
person, except what a raw copy of the files taken mid-survey inherently shows (the answers
so far of the people answering at that moment), which is checked to stay confined to them
and printed as the residual risk docs/privacy.md names. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.cli.common import LIBRARIES_WITH_CONTENT_IN_DEBUG
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.admin import create_invitations
from services.admin.survey import invitations_csv
from services.links import InvitationLink, parse_payload
from services.security import pseudonym_for, token_hash
from surveys import Group, bundled_questionnaires
from tests.e2e_fixtures import Harness, action_buttons, reply
from tests.privacy_bytes import pg_data_files
from tests.privacy_operator import (
    Person,
    Snapshot,
    all_attacks,
    backup_tables,
    database_tables,
    export_rows,
    leftovers,
    raw_files,
    sqlite_tables,
)
from tests.storage_fixtures import BACKENDS, empty_database

pytestmark = pytest.mark.e2e

# The roster HR shares: names beside personal links (as `spibot invites create` writes it).
ROSTER = (
    ("Ani Wulandari", Group.INTERNAL, "DINKES"),
    ("Budi Santoso", Group.INTERNAL, "DINKES"),
    ("Citra Lestari", Group.INTERNAL, "DINKES"),
    ("Dewi Anggraini", Group.INTERNAL, "DINKES"),  # still answering at the end
    ("Eko Prasetyo", Group.INTERNAL, "DISDIK"),
    ("Fajar Nugroho", Group.INTERNAL, "DISDIK"),
    ("Gita Permata", Group.EXPERT, "INSPEKTORAT"),
    ("Hadi Kurniawan", Group.EXPERT, "INSPEKTORAT"),
)
# Citizens at the Dispendukcapil counter; the first two also rate DPMPTSP later (22.6).
CITIZENS = ("Warga Satu", "Warga Dua", "Warga Tiga", "Warga Empat")
UNFINISHED, CANCELS = "Dewi Anggraini", "Warga Empat"
SECOND_UNIT = "DPMPTSP"


@pytest.fixture(params=BACKENDS)
async def database_url_for(request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """Play the operator on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return lambda tmp: f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed: the operator's backups need them")
    url: str = request.getfixturevalue("postgres_module_url")
    await empty_database(url)
    return lambda _tmp: url


class _Collected(logging.Handler):
    """The bot's log output, as an operator keeps it (the sandbox's own logs aside)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("sandbox"):
            self.lines.append(self.format(record))


@pytest.fixture
def bot_log() -> Iterator[_Collected]:
    """Collect everything the bot logs at LOG_LEVEL=DEBUG (libraries as `spibot run` sets
    them: warnings only, since they would log message texts and parameters)."""
    handler = _Collected()
    root = logging.getLogger()
    saved = root.level, {n: logging.getLogger(n).level for n in LIBRARIES_WITH_CONTENT_IN_DEBUG}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LIBRARIES_WITH_CONTENT_IN_DEBUG:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def _spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


async def _response_ids(h: Harness) -> set[str]:
    async with h.engine.connect() as conn:
        return set((await conn.execute(text("SELECT id FROM responses"))).scalars())


async def test_the_curious_operator_links_no_response(
    harness: Harness, tmp_path: Path, bot_log: _Collected
) -> None:
    h = harness
    if h.engine.dialect.name == "postgresql":
        async with h.engine.connect() as conn:
            try:
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
                await conn.commit()
            except Exception as exc:  # the operator reads pages; needs a superuser here
                pytest.skip(f"pageinspect is not available: {exc}")
    h.settings = h.settings.model_copy(update={"scrub_delay_seconds": 0.0})
    await h.restart()
    assert h.app is not None
    scrubber = h.app.bot_data.guard.scrubber
    assert scrubber is not None
    secret = h.settings.secret_bytes()
    url = h.settings.database_url
    sqlite_file = Path(make_url(url).database or "") if url.startswith("sqlite") else None
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL={url}\nSPIBOT_SECRET={h.settings.spibot_secret.get_secret_value()}\n",
        encoding="utf-8",
    )

    # -- the roster and the people ---------------------------------------------------------
    people: list[Person] = []
    roster_files: list[str] = []
    for group in (Group.INTERNAL, Group.EXPERT):
        rows = [{"unit": unit, "name": name} for name, g, unit in ROSTER if g is group]
        made = await create_invitations(
            h.engine,
            wave=h.wave,
            group=group,
            roster=rows,
            bot_username="spi_sandbox_bot",
            now=h.clock(),
        )
        roster_files.append(invitations_csv(made)[0])
        for row in made:
            payload = row.link.split("start=", 1)[1]
            link = parse_payload(secret, payload)  # the operator reads the roster's links
            assert isinstance(link, InvitationLink)
            user = h.user()
            people.append(
                Person(
                    row.fields["name"],
                    group,
                    row.fields["unit"],
                    user,
                    payload,
                    Persona(0.3 + 0.05 * len(people), random.Random(len(people)), abandon_at=3),
                    pseudonym_for(secret, user.id),
                    token_hash(link.token),
                )
            )
    for i, name in enumerate(CITIZENS):
        user = h.user()
        persona = Persona(
            0.4 + 0.1 * i,
            random.Random(100 + i),
            abandon_at=2 if name == CANCELS else 3,
            says=f"kanari-{i}-{user.id * 7919 % 100_003}",  # a suggestion only they typed
        )
        people.append(
            Person(
                name,
                Group.EXTERNAL,
                "DISPENDUKCAPIL",
                user,
                h.unit_payload("DISPENDUKCAPIL"),
                persona,
                pseudonym_for(secret, user.id),
            )
        )
    by_name = {p.name: p for p in people}
    questions = {q.id for qn in bundled_questionnaires().values() for q in qn.questions}
    snapshots: dict[str, Snapshot] = {}

    async def snap(label: str) -> Snapshot:
        """Copy the files (as `cp` would), take `spibot db backup`, read both."""
        folder = tmp_path / label
        folder.mkdir()
        raw = await raw_files(h.engine, sqlite_file, folder / "files")
        if sqlite_file is not None:
            tables = sqlite_tables(folder / "files" / sqlite_file.name)
        else:
            tables = await database_tables(h.engine)
        backup = folder / ("backup.db" if sqlite_file is not None else "backup.dump")
        assert await asyncio.to_thread(_spibot, env, "db", "backup", str(backup)) == 0
        backup_raw, backup_rows = backup_tables(backup)
        snapshots[label] = Snapshot(label, h.clock(), raw, tables, backup_raw, backup_rows)
        return snapshots[label]

    await snap("before")

    # -- everyone starts and answers a little: the copies "during" see them answering ------
    for person in people:
        h.clock.advance(minutes=2)
        outcome, _ = await simulate_respondent(person.user, person.payload, person.persona)
        assert outcome is Outcome.ABANDONED, person.name  # stopped, survey still open
    during = await snap("during")
    answering = {p.name for p in people}
    assert len(during.tables["survey_sessions"]) == len(people)
    # A restore while the bot runs is refused, in one line.
    mid_backup = next((tmp_path / "during").glob("backup.*"))
    assert await asyncio.to_thread(_spibot, env, "db", "restore", str(mid_backup), "--yes") == 2

    # -- they finish, one at a time (the truth: which response is whose) -------------------
    truth: dict[str, str] = {}

    async def finish(person: Person, payload: str | None, persona: Persona) -> None:
        h.clock.advance(minutes=3)
        known = await _response_ids(h)
        outcome, _ = await simulate_respondent(person.user, payload, persona)
        assert outcome is Outcome.COMPLETED, person.name
        (new,) = await _response_ids(h) - known
        truth[new] = person.name

    for person in people:
        if person.name == UNFINISHED:
            continue
        if person.name == CANCELS:
            await person.user.command("batal")
            await reply(person.user)
            confirm = person.user.chat.last_message
            assert confirm is not None
            await person.user.tap(confirm, data=action_buttons(confirm, "cx")[0])
            await reply(person.user)
            continue
        await finish(person, None, replace(person.persona, abandon_at=None))  # /start resumes
    # Two citizens rate a second service (issue 22.6); the last submission is held back
    # from the scrubber while the operator copies the files: the control.
    await finish(by_name[CITIZENS[0]], h.unit_payload(SECOND_UNIT), Persona(0.8, random.Random(7)))
    last = replace(by_name[CITIZENS[1]], unit=SECOND_UNIT)
    async with scrubber.paused():
        await finish(last, h.unit_payload(SECOND_UNIT), Persona(0.2, random.Random(8)))
        unscrubbed = await raw_files(h.engine, sqlite_file, tmp_path / "unscrubbed")
    assert last.name in leftovers(unscrubbed, [last], questions), "the control found nothing"
    await h.app.bot_data.guard.clean()  # the running bot's scrubber, within its window
    after = await snap("after")
    export = tmp_path / "export"
    assert (
        await asyncio.to_thread(
            _spibot, env, "export", "--wave", h.wave.name, "--out", str(export), "--free-text"
        )
        == 0
    )
    exported = export_rows(export)
    log = "\n".join(bot_log.lines)
    assert len(truth) == 12
    assert len(after.tables["responses"]) == 12

    # -- the operator at work --------------------------------------------------------------
    submitted = [p for p in people if p.name in truth.values()]
    units = {row["code"]: row["id"] for row in after.tables["units"]}
    attacks = all_attacks(snapshots, people, truth, units, log)
    # The mid-survey backup holds none of what the raw copy of that moment shows.
    for table in ("survey_sessions", "draft_answers", "survey_contacts"):
        assert during.backup_tables[table] == [], table
    assert len(during.tables["draft_answers"]) > 0

    # Byte searches after the scrub: no session or draft row of anyone who submitted.
    searched = {
        "files after the scrub": after.raw,
        **{f"backup {label}": s.backup for label, s in snapshots.items()},
        "export": (export / "data.csv").read_bytes(),
        "log": log.encode(),
    }
    found = {where: leftovers(blob, submitted, questions) for where, blob in searched.items()}
    # Nothing that names a person is in the logs or the export.
    # (The export holds typed suggestions by design when --free-text is given: not searched.)
    marks = {
        p.name: [p.pseudonym, str(p.user.id), p.payload, p.token_hash or "", p.name] for p in people
    }
    typed = {p.name: [p.persona.says or ""] for p in people}
    in_log = sorted({n for n in marks for m in marks[n] + typed[n] if m and m in log})
    exported_text = (export / "data.csv").read_text(encoding="utf-8")
    in_export = sorted({n for n in marks for m in marks[n] if m and m in exported_text})

    report = [f"the curious operator on {h.engine.dialect.name}:"]
    report += ["  " + attack.line() for attack in attacks]
    report += [
        f"  byte search for session/draft rows, {w}: {v or 'none'}" for w, v in found.items()
    ]
    report.append(f"  names, ids, pseudonyms, links or typed text in the log: {in_log or 'none'}")
    report.append(f"  ... in the export ({len(exported)} rows): {in_export or 'none'}")
    if sqlite_file is None:
        async with h.engine.connect() as conn:
            on_disk = await pg_data_files(conn) is not None
        report.append(
            "  PostgreSQL: every page searched; data files on disk too: "
            f"{'yes' if on_disk else 'no (not readable here)'}; pg_wal not (docs/privacy.md)"
        )
    print("\n".join(report))

    # Every attack is sound: the truth is always among its candidates.
    for attack in attacks:
        for response_id, candidates in attack.candidates.items():
            assert truth[response_id] in candidates, (attack.name, response_id)
    # Without a raw copy of the files taken while people answered: not one link.
    linked = {
        attack.name: attack.linked()
        for attack in attacks
        if not attack.uses_mid_survey_copy and attack.linked()
    }
    assert linked == {}
    assert all(not names for names in found.values()), found
    assert in_log == []
    assert in_export == []
    # The residual: a raw copy taken mid-survey holds the answers so far of the people
    # answering at that moment, beside their invitation. What it links stays with them:
    # nobody who was not answering then, and no response begun after it.
    for attack in attacks:
        if attack.uses_mid_survey_copy:
            assert set(attack.linked().values()) <= answering
            for response_id in attack.linked():
                assert truth[response_id] in answering
    second_unit = {r["id"] for r in after.tables["responses"] if r["unit_id"] == units[SECOND_UNIT]}
    assert len(second_unit) == 2
    for attack in attacks:
        assert not second_unit & set(attack.linked()), attack.name
