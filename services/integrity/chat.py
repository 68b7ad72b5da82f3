"""/kualitas in a private chat (issue 24): the findings per unit for the inspectorate and
leadership, and the admins' dialogue to exclude a flagged set or restore it.

Who: admins (the inspectorate that runs the bot) and leadership see the findings; only
admins decide. Leadership oversees every unit and the Inspektur holds a leadership role,
so they may read what the inspectorate sees; but a decision changes published numbers,
so it stays with the inspectorate's officers, as corrections do. A unit head (the one being
assessed) and respondents are refused.

The dialogue keeps its state in the database (a pending exclusion), so it survives a
restart: a tap on "Kecualikan" starts it, the officer's next text is its reason, and a
confirmation puts it in force (`services.integrity.confirm`, which checks the set is still
the one shown). Buttons carry `kua.<action>.<args>`; every tap is checked again.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import storage.db
import storage.units
import storage.waves
from services.access import Viewer
from services.context import Services
from services.integrity import quality
from services.integrity import texts as texts
from services.integrity.quality import DecisionTaken, FlaggedSet, QualityReport, SetChanged
from services.numbers import format_count
from services.release import today_for
from services.untrusted import clean_typed
from storage import integrity as stored
from storage.integrity import ExclusionStatus, StoredExclusion
from surveys import Group

__all__ = ["BUTTON_PATTERN", "DRAFT_LIFETIME", "ChatReply", "Kualitas", "decider"]

BUTTON_PATTERN: Final = r"^kua\."
DRAFT_LIFETIME: Final = timedelta(minutes=30)  # a reason typed later starts nothing
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ITEM_WORDS: Final = ("butir", "items")
_GROUP_CODES: Final = {Group.INTERNAL: "i", Group.EXTERNAL: "e", Group.EXPERT: "x"}
_KIND_CODES: Final = {"burst": "b", "uniform": "u", "rushing": "r", "contradiction": "c"}
_MAX_CELLS: Final = 8  # messages of flagged cells in one /kualitas; `spibot quality` has all
_MAX_DECISIONS: Final = 15
_TEXT_BUDGET: Final = 3800  # of a message's 4,096 characters

Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True, slots=True)
class ChatReply:
    """A text (HTML) with buttons; `edit` replaces the tapped message, else a new one."""

    text: str
    buttons: Buttons = ()
    edit: bool = True


def decider(pseudonym: str) -> str:
    """Return how an admin is recorded as the decider: their pseudonym's 12-character code."""
    return f"admin:{pseudonym[:12]}"


def _fit(lines: list[str]) -> str:
    text = "\n".join(lines)
    return text if len(text) <= _TEXT_BUDGET else text[: _TEXT_BUDGET - 1] + "…"


class Kualitas:
    """The /kualitas command and its buttons for one asker."""

    def __init__(self, services: Services, viewer: Viewer, pseudonym: str, language: str) -> None:
        self._services = services
        self._viewer = viewer
        self._by = decider(pseudonym)
        self._lang = language

    @property
    def _engine(self) -> storage.db.AsyncEngine:
        return self._services.db.engine

    def _t(self, key: str, /, **values: object) -> str:
        return self._services.messages.t(self._lang, key, **values)

    @property
    def allowed(self) -> bool:
        """Tell whether the asker may read the findings (admins and leadership)."""
        return self._viewer.admin or self._viewer.leadership

    async def _report(self, wave: storage.waves.Wave, *, effects: bool) -> QualityReport:
        now = self._services.clock()
        return await quality.quality_report(
            self._engine,
            self._services.settings,
            wave,
            today=today_for(self._services),
            now=now,
            with_effects=effects,
        )

    # -- the command -----------------------------------------------------------------------

    async def command(self, args: list[str]) -> list[ChatReply]:
        """Handle /kualitas [WAVE] and /kualitas butir [WAVE]."""
        if not self.allowed:
            return [ChatReply(self._t("kua_only"))]
        items = bool(args) and args[0].lower() in _ITEM_WORDS
        rest = args[1:] if items else args
        if len(rest) > 1 or (rest and not _NAME_RE.match(rest[0])):
            return [ChatReply(self._t("kua_usage"))]
        waves = await storage.waves.list_waves(self._engine)  # newest first
        if not waves:
            return [ChatReply(self._t("kua_no_wave"))]
        if rest:
            wave = next((w for w in waves if w.name == rest[0]), None)
            if wave is None:
                known = ", ".join(html.escape(w.name) for w in waves[:10])
                return [
                    ChatReply(self._t("kua_unknown_wave", wave=html.escape(rest[0]), waves=known))
                ]
        else:
            wave = next((w for w in waves if w.is_open), waves[0])
        return [await self._items(wave)] if items else await self._findings(wave)

    async def _items(self, wave: storage.waves.Wave) -> ChatReply:
        found = await quality.items(self._engine, wave)
        title = texts.items_title(wave.name, self._lang)
        if found is None:
            return ChatReply(f"{title}\n{texts.items_open_text(self._lang)}")
        rows, questionnaires = found
        lines = texts.items_lines(
            rows, questionnaires, self._services.settings.small_cell_k, self._lang
        )
        if not lines:
            return ChatReply(f"{title}\n{texts.items_none(self._lang)}")
        shown = [title]
        for index, line in enumerate(lines):
            if sum(len(x) + 1 for x in shown) + len(line) > _TEXT_BUDGET - 200:
                more = sum(1 for x in lines[index:] if x and not x.startswith("<b>"))
                shown.append(self._t("kua_items_more", count=more))
                break
            shown.append(line)
        return ChatReply("\n".join(shown))

    async def _findings(self, wave: storage.waves.Wave) -> list[ChatReply]:
        report = await self._report(wave, effects=True)
        zone = self._services.settings.zone
        # The newest decisions (the ones most likely to be restored); the CLI lists them all.
        lines = texts.header_lines(report, self._lang, zone, max_decisions=_MAX_DECISIONS)
        restore_buttons: list[tuple[tuple[str, str], ...]] = []
        if self._viewer.admin:
            for decision in report.decisions[-_MAX_DECISIONS:]:
                if decision.status is ExclusionStatus.ACTIVE:
                    label = self._t("btn_kua_restore", number=decision.id)
                    restore_buttons.append(((label, f"kua.r.{decision.id}"),))
        elif report.findings.flagged:
            lines += ["", self._t("kua_admin_only_decides")]
        replies = [ChatReply(_fit(lines), tuple(restore_buttons), edit=False)]
        unit_ids = {u.code: u.id for u in await storage.units.list_units(self._engine)}
        flagged = report.findings.flagged
        for cell in flagged[:_MAX_CELLS]:
            body = texts.cell_lines(report, cell.unit_code, cell.group, self._lang)
            buttons: list[tuple[tuple[str, str], ...]] = []
            if self._viewer.admin and cell.unit_code in unit_ids:
                for flagged_set in report.sets:
                    if flagged_set.cell is cell:
                        buttons.append(
                            (
                                (
                                    self._exclude_label(flagged_set),
                                    self._exclude_data(wave, unit_ids[cell.unit_code], flagged_set),
                                ),
                            )
                        )
            replies.append(ChatReply(_fit(body), tuple(buttons), edit=False))
        if len(flagged) > _MAX_CELLS:
            more = self._t("kua_more_cells", count=len(flagged) - _MAX_CELLS)
            replies.append(ChatReply(more, edit=False))
        return replies

    def _exclude_label(self, flagged: FlaggedSet) -> str:
        return self._t(
            "btn_kua_exclude",
            kind=texts.kind_name(flagged.signal.kind, self._lang),
            count=format_count(flagged.signal.responses, self._lang),
        )

    @staticmethod
    def _exclude_data(wave: storage.waves.Wave, unit_id: int, flagged: FlaggedSet) -> str:
        group = _GROUP_CODES[flagged.cell.group]
        kind = _KIND_CODES[flagged.signal.kind.value]
        return f"kua.x.{wave.id}.{unit_id}.{group}.{kind}.{flagged.fingerprint}"

    # -- buttons -----------------------------------------------------------------------------

    async def tap(self, data: str) -> ChatReply:
        """Act on a button; a stale, forged or double-tapped one is explained."""
        parts = data.split(".")
        action, args = (parts[1], parts[2:]) if len(parts) >= 2 else ("", [])
        if action == "x" and len(args) == 5:
            return await self._start(args)
        if len(args) == 1 and args[0].isdigit():
            number = int(args[0])
            if action == "y":
                return await self._confirm(number)
            if action == "n":
                return await self._cancel(number)
            if action == "r":
                return await self._ask_restore(number)
            if action == "ry":
                return await self._restore(number)
            if action == "rn":
                return ChatReply(self._t("kua_cancelled"))
        return ChatReply(self._t("kua_stale"))

    async def _start(self, args: list[str]) -> ChatReply:
        wave_arg, unit_arg, group_code, kind_code, fingerprint = args
        group = next((g for g, c in _GROUP_CODES.items() if c == group_code), None)
        kind = next((k for k, c in _KIND_CODES.items() if c == kind_code), None)
        if not (wave_arg.isdigit() and unit_arg.isdigit()) or group is None or kind is None:
            return ChatReply(self._t("kua_stale"), edit=False)
        wave = await storage.waves.get_wave_by_id(self._engine, int(wave_arg))
        unit = await storage.units.get_unit_by_id(self._engine, int(unit_arg))
        if wave is None or unit is None:
            return ChatReply(self._t("kua_stale"), edit=False)
        report = await self._report(wave, effects=False)
        flagged = report.find(unit.code, group, kind)
        if flagged is None or flagged.fingerprint != fingerprint:
            return ChatReply(self._t("kua_changed"), edit=False)
        pending = await quality.draft(
            self._engine, wave, flagged, by=self._by, now=self._services.clock()
        )
        text = self._t(
            "kua_ask_reason",
            count=format_count(flagged.signal.responses, self._lang),
            unit=html.escape(unit.name),
            group=texts.group_name(group, self._lang),
            kind=texts.kind_name(kind, self._lang),
            limit=quality.REASON_LIMIT,
        )
        return ChatReply(text, ((self._no(pending.id),),), edit=False)

    def _no(self, exclusion_id: int) -> tuple[str, str]:
        return (self._t("btn_kua_no"), f"kua.n.{exclusion_id}")

    async def _pending(self) -> StoredExclusion | None:
        since = self._services.clock() - DRAFT_LIFETIME
        return await stored.pending_for(self._engine, self._by, since)

    async def reason(self, text: str) -> ChatReply | None:
        """Take a typed message as the reason of the asker's exclusion dialogue, then ask to
        confirm; None when no dialogue waits for a reason (the message is someone else's)."""
        pending = await self._pending()
        if pending is None or pending.reason:
            return None
        reason = clean_typed(text).strip()
        if not reason:
            return ChatReply(self._t("kua_reason_text_only"), ((self._no(pending.id),),))
        if len(reason) > quality.REASON_LIMIT:
            return ChatReply(
                self._t("kua_reason_too_long", length=len(reason), limit=quality.REASON_LIMIT),
                ((self._no(pending.id),),),
            )
        wave = await storage.waves.get_wave_by_id(self._engine, pending.wave_id)
        if wave is None:
            await stored.discard(self._engine, pending.id)
            return ChatReply(self._t("kua_stale"))
        report = await self._report(wave, effects=False)
        flagged = report.find(pending.unit_code, Group(pending.grp), pending.kind)
        if flagged is None or flagged.fingerprint != pending.fingerprint:
            await stored.discard(self._engine, pending.id)
            return ChatReply(self._t("kua_changed"))
        if not await stored.set_reason(self._engine, pending.id, reason):
            return ChatReply(self._t("kua_already"))
        effect = await quality.set_effect(
            self._engine,
            self._services.settings,
            wave,
            flagged,
            today=today_for(self._services),
            now=self._services.clock(),
        )
        lines = [
            self._t(
                "kua_confirm",
                count=format_count(flagged.signal.responses, self._lang),
                unit=html.escape(report.names.get(pending.unit_code, pending.unit_code)),
                group=texts.group_name(flagged.cell.group, self._lang),
                kind=texts.kind_name(flagged.signal.kind, self._lang),
                reason=html.escape(reason),
                effect=texts.effect_text(effect, flagged.cell.group, self._lang),
            )
        ]
        if not wave.is_open:
            lines.append(self._t("kua_confirm_closed"))
        yes = (self._t("btn_kua_yes"), f"kua.y.{pending.id}")
        return ChatReply("\n\n".join(lines), ((yes, self._no(pending.id)),))

    async def not_text(self) -> ChatReply | None:
        """Answer a sticker, photo or file sent while a reason is awaited (None: none is)."""
        pending = await self._pending()
        if pending is None or pending.reason:
            return None
        return ChatReply(self._t("kua_reason_text_only"), ((self._no(pending.id),),))

    async def _confirm(self, exclusion_id: int) -> ChatReply:
        current = await stored.get_exclusion(self._engine, exclusion_id)
        if current is None or current.created_by != self._by:
            # Someone else's draft (a forwarded button) or one that is gone.
            key = (
                "kua_stale"
                if current is None or current.status is ExclusionStatus.PENDING
                else "kua_already"
            )
            return ChatReply(self._t(key))
        try:
            done, revision = await quality.confirm(
                self._engine,
                self._services.settings,
                exclusion_id,
                today=today_for(self._services),
                now=self._services.clock(),
            )
        except DecisionTaken:
            return ChatReply(self._t("kua_already"))
        except SetChanged:
            await stored.discard(self._engine, exclusion_id)
            return ChatReply(self._t("kua_changed"))
        lines = [self._decided("kua_excluded", done)]
        if revision is not None:
            lines.append(self._t("kua_revised", number=revision.number))
        return ChatReply("\n".join(lines))

    def _decided(self, key: str, done: StoredExclusion) -> str:
        return self._t(
            key,
            number=done.id,
            count=format_count(done.count, self._lang),
            unit=html.escape(done.unit_code),
            group=texts.group_name(Group(done.grp), self._lang),
            reason=html.escape(done.reason),
        )

    async def _cancel(self, exclusion_id: int) -> ChatReply:
        current = await stored.get_exclusion(self._engine, exclusion_id)
        if current is not None and current.created_by == self._by:
            if await stored.discard(self._engine, exclusion_id):
                return ChatReply(self._t("kua_cancelled"))
            return ChatReply(self._t("kua_already"))
        return ChatReply(self._t("kua_stale"))

    async def _ask_restore(self, exclusion_id: int) -> ChatReply:
        current = await stored.get_exclusion(self._engine, exclusion_id)
        if current is None or current.status is not ExclusionStatus.ACTIVE:
            return ChatReply(self._t("kua_already" if current else "kua_stale"), edit=False)
        effect = await quality.restore_effect(
            self._engine,
            self._services.settings,
            current,
            today=today_for(self._services),
            now=self._services.clock(),
        )
        text = self._t(
            "kua_restore_confirm",
            number=current.id,
            count=format_count(current.count, self._lang),
            unit=html.escape(current.unit_code),
            group=texts.group_name(Group(current.grp), self._lang),
            kind=texts.kind_name(current.kind, self._lang),
            effect=texts.effect_text(effect, Group(current.grp), self._lang),
        )
        yes = (self._t("btn_kua_restore_yes"), f"kua.ry.{current.id}")
        no = (self._t("btn_kua_no"), f"kua.rn.{current.id}")
        return ChatReply(text, ((yes, no),), edit=False)

    async def _restore(self, exclusion_id: int) -> ChatReply:
        try:
            done, revision = await quality.restore(
                self._engine,
                self._services.settings,
                exclusion_id,
                by=self._by,
                reason="",
                now=self._services.clock(),
            )
        except DecisionTaken:
            return ChatReply(self._t("kua_already"))
        lines = [self._decided("kua_restored", done)]
        if revision is not None:
            lines.append(self._t("kua_revised", number=revision.number))
        return ChatReply("\n".join(lines))
