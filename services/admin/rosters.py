"""A roster CSV sent to the bot by an admin: the invitation CSV comes back as a document.

The rules are the command line's (`spibot invites create --group G --roster FILE`): the same
`services.admin.parse_roster` checks every line and `services.admin.create_invitations` makes
the links. What is added here is what a chat needs: a check of the document before it is
downloaded, the group guessed from the caption or file name (asked with buttons otherwise),
and every problem told in the admin's language with its line number.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

import storage.rosters
import storage.units
import storage.waves
from services.admin.survey import RosterError, create_invitations, invitations_csv, parse_roster
from services.context import Services
from services.errors import AdminError
from surveys import Group

__all__ = [
    "BUTTON_PATTERN",
    "MAX_BYTES",
    "Roster",
    "Rosters",
    "button_data",
    "guess_group",
    "looks_like_csv",
]

# A roster of every civil servant of a kabupaten (~10,000 rows of name, NIP, unit, e-mail) is
# well under 1 MB; beyond this, use `spibot invites create`.
MAX_BYTES: Final = 2 * 1024 * 1024
SHOWN_PROBLEMS: Final = 10
BUTTON_PATTERN: Final = r"^ros\.[iex]\.\d{1,9}$"
_GROUP_CODES: Final = {"i": Group.INTERNAL, "e": Group.EXPERT}
_CSV_TYPES: Final = ("text/csv", "text/comma-separated-values", "application/csv")
_WORDS: Final = {
    Group.INTERNAL: ("internal", "pegawai", "asn", "karyawan", "employee", "employees", "staff"),
    Group.EXPERT: ("expert", "experts", "eksper", "ahli", "pakar", "narasumber"),
}
_WORD_RE: Final = re.compile(r"[a-z]+")


def looks_like_csv(file_name: str | None, mime_type: str | None) -> bool:
    """Tell whether a document is meant as a CSV (its name, or the type the phone gave it)."""
    if file_name and file_name.lower().endswith(".csv"):
        return True
    return (mime_type or "").lower() in _CSV_TYPES


def guess_group(*texts: str | None) -> Group | None:
    """Return the group the caption or file name names, or None when none (or both) do."""
    words = {w for text in texts if text for w in _WORD_RE.findall(text.lower())}
    found = [group for group, names in _WORDS.items() if words & set(names)]
    return found[0] if len(found) == 1 else None


def button_data(action: str, upload_id: int) -> str:
    """Return a group button's data: `ros.i.<id>` (internal), `ros.e.<id>`, `ros.x.<id>`."""
    return f"ros.{action}.{upload_id}"


@dataclass(frozen=True, slots=True)
class Roster:
    """The invitation CSV made from a roster, to send back as a document."""

    file_name: str
    data: bytes
    count: int
    wave: str
    group: Group


class Rosters:
    """Turns an admin's roster document into personal invitation links."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def _t(self, language: str, key: str, /, **values: object) -> str:
        return self._services.messages.t(language, key, **values)

    def refusal(
        self, language: str, file_name: str | None, mime: str | None, size: int | None
    ) -> str | None:
        """Return why a document cannot be a roster (before downloading it), or None."""
        if not looks_like_csv(file_name, mime):
            return self._t(language, "roster_not_csv")
        if size is not None and size > MAX_BYTES:
            return self.too_big(language, size)
        if size == 0:
            return self._t(language, "roster_empty")
        return None

    def too_big(self, language: str, size: int) -> str:
        """Say that a file is over the chat's size limit."""
        return self._t(
            language,
            "roster_too_big",
            size=f"{size / 1024**2:.1f}",
            limit=MAX_BYTES // 1024**2,
        )

    async def open_wave_name(self) -> str | None:
        """Return the open wave's name (personal links belong to it), or None."""
        wave = await storage.waves.current_wave(self._services.db.engine)
        return wave.name if wave is not None else None

    async def check(self, language: str, data: bytes, file_name: str | None) -> str | int:
        """Check every line of a roster; return the problems as a message, or the row count."""
        if not data.strip():
            return self._t(language, "roster_empty")
        units = {u.code: u for u in await storage.units.list_units(self._services.db.engine)}
        try:
            rows = parse_roster(data, units, file_name or "roster.csv")
        except RosterError as exc:
            return self.problems(language, exc, file_name)
        return len(rows)

    def problems(self, language: str, error: RosterError, file_name: str | None) -> str:
        """Tell each problem of a roster, one line each, in the admin's language."""
        lines = [self._t(language, "roster_problems", file=html.escape(file_name or "CSV"))]
        for problem in error.problems[:SHOWN_PROBLEMS]:
            what = self._t(
                language, f"roster_problem_{problem.kind}", value=html.escape(problem.value)
            )
            if problem.line is not None:
                what = self._t(language, "roster_problem_line", line=problem.line, what=what)
            lines.append(f"• {what}")
        more = len(error.problems) - SHOWN_PROBLEMS
        if more > 0:
            lines.append(self._t(language, "roster_problems_more", n=more))
        lines += ["", self._t(language, "roster_problems_fix")]
        return "\n".join(lines)

    async def create(self, data: bytes, file_name: str | None, group: Group) -> Roster:
        """Create one personal link per roster line (RosterError/AdminError when it cannot)."""
        engine = self._services.db.engine
        wave = await storage.waves.current_wave(engine)
        if wave is None:
            raise AdminError("no wave is open")
        units = {u.code: u for u in await storage.units.list_units(engine)}
        roster = parse_roster(data, units, file_name or "roster.csv")
        settings = self._services.settings
        rows = await create_invitations(
            engine,
            wave=wave,
            group=group,
            roster=roster,
            bot_username=self._services.bot_username or settings.bot_username,
            now=self._services.clock(),
        )
        text, count = invitations_csv(rows)
        word = {Group.INTERNAL: "pegawai", Group.EXPERT: "eksper"}[group]
        name = f"undangan-{wave.name}-{word}.csv"
        return Roster(name, text.encode("utf-8"), count, wave.name, group)

    async def remember(self, file_id: str, file_name: str | None) -> int:
        """Keep a roster's file id while the admin picks its group; return the upload id."""
        return await storage.rosters.save_roster_upload(
            self._services.db.engine, file_id, file_name, self._services.clock()
        )

    async def take(
        self, data: str
    ) -> tuple[storage.rosters.RosterUpload | None, Group | None, bool]:
        """Take the upload a group button names: (upload, group, cancelled).

        (None, None, False) for a stale, double or forged tap.
        """
        _prefix, action, number = [*data.split(".", 2), "", ""][:3]
        if not number.isdigit():
            return None, None, False
        group = _GROUP_CODES.get(action)
        engine = self._services.db.engine
        upload = await storage.rosters.take_roster_upload(
            engine, int(number), group.value if group is not None else "cancelled"
        )
        if upload is None:
            return None, None, False
        return upload, group, group is None
