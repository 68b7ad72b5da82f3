"""What the inspectorate's admins run from Telegram: waves, role links and holders, uptake.

Every function here assumes the caller checked that the asker is an admin (the handlers do,
on every command and every tap). Replies are texts with optional buttons; a button's data is
`adm.<action>.<arg>` and is re-checked when tapped, so a stale or forged one does no harm.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import storage.broadcasts
import storage.db
import storage.frames
import storage.waves
from services import access, reach, reports
from services.admin import roles, survey
from services.context import Services
from services.errors import AdminError
from services.links import deep_link
from services.pushes.delivery import Outgoing
from services.reach import uptake_for, uptake_text
from storage.broadcasts import Broadcast
from storage.roles import Role

__all__ = ["BUTTON_PATTERN", "Inspectorate", "Reply"]

BUTTON_PATTERN: Final = r"^adm\.[a-z]{1,4}\."
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # wave names that fit in button data
_PENDING_SHOWN: Final = 10  # unopened links listed by /akses (spibot grant --list has all)
# One Telegram message holds 4,096 characters: holders first, then links, then the usage
# line (~300); `spibot grant --list` lists everything.
_HOLDERS_BUDGET: Final = 2400
_TEXT_BUDGET: Final = 3600
_BUTTON_LABEL: Final = 24  # characters of a label on a button
_ROLE_CODES: Final = {Role.LEADERSHIP: "l", Role.UNIT_HEAD: "u"}
_OPEN_WORDS: Final = ("buka", "open")
_CLOSE_WORDS: Final = ("tutup", "close")
_LEADERSHIP_WORDS: Final = ("pimpinan", "leadership")
_UNIT_WORDS: Final = ("unit",)
# A photo sent within this time of /siaran TEXT attaches to that draft.
DRAFT_LIFETIME: Final = timedelta(minutes=30)

Buttons = tuple[tuple[tuple[str, str], ...], ...]


def _short(text: str) -> str:
    """Shorten a label for a button."""
    return text if len(text) <= _BUTTON_LABEL else text[: _BUTTON_LABEL - 1] + "…"


@dataclass(frozen=True, slots=True)
class Reply:
    """A text to show (HTML) and the buttons under it."""

    text: str
    buttons: Buttons = ()
    start_broadcast: Broadcast | None = None  # confirmed: the handler sends it in the background
    preview: tuple[Outgoing, ...] = ()  # sent before the text (a broadcast's picture)
    reset_menus: tuple[int, ...] = ()  # private chats whose command menu the handler resets


class Inspectorate:
    """Admin actions behind /gelombang, /akses and /undangan."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def _engine(self) -> storage.db.AsyncEngine:
        return self._services.db.engine

    def _t(self, language: str, key: str, /, **values: object) -> str:
        return self._services.messages.t(language, key, **values)

    # -- waves ---------------------------------------------------------------------------------

    async def waves(self, language: str, args: list[str]) -> Reply:
        """Handle /gelombang [buka NAME | tutup]: the status, or a confirmation to answer."""
        if not args:
            return await self._wave_status(language)
        word = args[0].lower()
        if word in _OPEN_WORDS and len(args) == 2:
            name = args[1]
            if not _NAME_RE.match(name):
                return Reply(self._t(language, "adm_wave_bad_name"))
            if await storage.waves.current_wave(self._engine) is not None:
                return Reply(self._t(language, "adm_wave_already_open"))
            if await storage.waves.get_wave(self._engine, name) is not None:
                return Reply(self._t(language, "adm_wave_name_taken", wave=html.escape(name)))
            return self._confirm(language, "adm_wave_confirm_open", f"adm.wo.{name}", name)
        if word in _CLOSE_WORDS and len(args) == 1:
            wave = await storage.waves.current_wave(self._engine)
            if wave is None:
                return Reply(self._t(language, "adm_wave_none_open"))
            return self._confirm(language, "adm_wave_confirm_close", f"adm.wc.{wave.id}", wave.name)
        return Reply(self._t(language, "adm_wave_usage"))

    def _confirm(self, language: str, key: str, data: str, wave_name: str) -> Reply:
        return self._confirm_with(
            language, self._t(language, key, wave=html.escape(wave_name)), data
        )

    async def _wave_status(self, language: str) -> Reply:
        waves = await storage.waves.list_waves(self._engine)
        if not waves:
            return Reply(self._t(language, "adm_wave_none"))
        lines = [self._t(language, "adm_wave_title")]
        for wave in waves[:8]:
            key = "adm_wave_line_open" if wave.is_open else "adm_wave_line_closed"
            lines.append(self._t(language, key, wave=html.escape(wave.name)))
        open_wave = next((w for w in waves if w.is_open), None)
        if open_wave is not None:
            counts = await storage.frames.response_counts(self._engine, open_wave.id)
            lines += [
                "",
                self._t(language, "adm_wave_submitted", n=sum(c.submitted for c in counts)),
            ]
        lines += ["", self._t(language, "adm_wave_usage")]
        return Reply("\n".join(lines))

    async def tap(self, language: str, data: str) -> Reply:
        """Act on a confirmed (or cancelled) button; a stale or forged one is explained."""
        _prefix, action, arg = [*data.split(".", 2), "", ""][:3]
        if action == "no":
            return Reply(self._t(language, "adm_cancelled"))
        if action == "wo" and _NAME_RE.match(arg):
            return await self._open(language, arg)
        if action == "wc" and arg.isdigit():
            return await self._close(language, int(arg))
        if action == "rv":
            return await self._revoke(language, arg)
        if action == "wd" and arg.isdigit():
            return await self._withdraw(language, int(arg))
        if action == "bc" and arg.isdigit():
            return await self._confirm_broadcast(language, int(arg))
        if action == "bx" and arg.isdigit():
            return await self._cancel_broadcast(language, int(arg))
        return Reply(self._t(language, "adm_stale"))

    async def _open(self, language: str, name: str) -> Reply:
        try:
            wave = await survey.open_wave(self._engine, name, self._services.clock())
        except AdminError:
            return Reply(self._t(language, "adm_wave_already_open"))
        await reports.fix_opening_targets(self._engine, self._services.settings, wave)
        return Reply(self._t(language, "adm_wave_opened", wave=html.escape(wave.name)))

    async def _close(self, language: str, wave_id: int) -> Reply:
        wave = await storage.waves.get_wave_by_id(self._engine, wave_id)
        if wave is None or not await reports.close_wave(
            self._engine, self._services.settings, wave, self._services.clock()
        ):
            return Reply(self._t(language, "adm_stale"))
        return Reply(self._t(language, "adm_wave_closed", wave=html.escape(wave.name)))

    # -- roles ---------------------------------------------------------------------------------

    async def access(self, language: str, args: list[str]) -> Reply:
        """Handle /akses [pimpinan LABEL… | unit CODE LABEL…]: list holders and unopened
        links, or create a one-time role link labelled with who it is for."""
        if not args:
            return await self._holders(language)
        word = args[0].lower()
        if word in _LEADERSHIP_WORDS:
            return await self._grant(language, Role.LEADERSHIP, None, args[1:])
        if word in _UNIT_WORDS and len(args) >= 2:
            return await self._grant(language, Role.UNIT_HEAD, args[1].upper(), args[2:])
        return Reply(self._usage(language))

    def _usage(self, language: str) -> str:
        return self._t(
            language, "adm_access_usage", days=self._services.settings.role_link_ttl_days
        )

    async def _grant(
        self, language: str, role: Role, unit_code: str | None, words: list[str]
    ) -> Reply:
        try:
            label = roles.clean_label(" ".join(words))
        except roles.LabelError:
            return Reply(self._t(language, "adm_access_label_too_long", limit=roles.LABEL_MAX))
        try:
            payload, grant = await access.create_grant(
                self._engine, role, unit_code, self._services.clock(), label=label
            )
        except ValueError:
            return Reply(
                self._t(language, "adm_access_unknown_unit", unit=html.escape(unit_code or ""))
            )
        link = deep_link(
            self._services.bot_username or self._services.settings.bot_username, payload
        )
        expires = grant.created_at + self._services.settings.role_link_ttl
        lines = [
            self._t(
                language,
                f"adm_access_link_{role.value}",
                link=html.escape(link),
            ),
            self._t(
                language,
                "adm_access_link_details",
                label=self._label(language, label),
                id=grant.id,
                until=self._day(expires),
            ),
        ]
        if label is None:
            lines.append(self._t(language, "adm_access_label_hint"))
        return Reply("\n".join(lines))

    def _label(self, language: str, label: str | None) -> str:
        if label is None:
            return self._t(language, "adm_access_no_label")
        return f"<b>{html.escape(label)}</b>"

    def _day(self, moment: datetime) -> str:
        return moment.astimezone(self._services.settings.zone).date().isoformat()

    def _role(self, language: str, role: Role, unit_name: str | None) -> str:
        text = self._t(language, f"adm_role_{role.value}")
        return f"{text} {html.escape(unit_name)}" if unit_name else text

    async def _holders(self, language: str) -> Reply:
        now = self._services.clock()
        held = await roles.holders(self._engine)
        pending = await roles.pending_links(self._engine, self._services.settings.role_link_ttl)
        lines: list[str] = []
        buttons: list[tuple[tuple[str, str], ...]] = []
        if held:
            lines.append(self._t(language, "adm_access_title"))
            for shown, holder in enumerate(held):
                role = self._role(language, holder.role, holder.unit_name)
                line = self._t(
                    language,
                    "adm_access_holder",
                    label=self._label(language, holder.label),
                    role=role,
                    code=holder.code,
                )
                if sum(len(x) + 1 for x in lines) + len(line) > _HOLDERS_BUDGET:
                    more = len(held) - shown
                    lines.append(self._t(language, "adm_access_holders_more", n=more))
                    break
                lines.append(line)
                data = f"adm.rv.{holder.code}{_ROLE_CODES[holder.role]}"
                who = _short(holder.label or holder.code)
                text = self._t(language, "btn_adm_revoke", who=who, role=role)
                buttons.append(((text, data),))
        else:
            lines.append(self._t(language, "adm_access_none"))
        if pending:
            lines += ["", self._t(language, "adm_access_pending_title")]
            listed = 0
            for link in pending[:_PENDING_SHOWN]:
                key = "adm_access_expired" if link.expired(now) else "adm_access_until"
                line = self._t(
                    language,
                    "adm_access_pending",
                    id=link.id,
                    label=self._label(language, link.label),
                    role=self._role(language, link.role, link.unit_name),
                    when=self._t(language, key, day=self._day(link.expires_at)),
                )
                if sum(len(x) + 1 for x in lines) + len(line) > _TEXT_BUDGET:
                    break
                lines.append(line)
                listed += 1
                who = _short(link.label or f"#{link.id}")
                text = self._t(language, "btn_adm_withdraw", id=link.id, who=who)
                buttons.append(((text, f"adm.wd.{link.id}"),))
            if len(pending) > listed:
                more = len(pending) - listed
                lines.append(self._t(language, "adm_access_pending_more", n=more))
        lines += ["", self._usage(language)]
        return Reply("\n".join(lines), tuple(buttons))

    async def _revoke(self, language: str, arg: str) -> Reply:
        shown, code = arg[:-1], arg[-1:]
        role = next((r for r, c in _ROLE_CODES.items() if c == code), None)
        matches = [
            h
            for h in await roles.holders(self._engine)
            if role is not None and h.role is role and h.pseudonym.startswith(shown)
        ]
        if len(shown) != roles.CODE_LENGTH or len(matches) != 1:
            return Reply(self._t(language, "adm_stale"))
        done = await roles.revoke(self._services, matches[0])
        holder = done.holder
        lines = [
            self._t(
                language,
                "adm_access_revoked",
                who=self._label(language, holder.label),
                code=holder.code,
                role=self._role(language, holder.role, holder.unit_name),
            )
        ]
        if done.paused_chats:
            lines.append(self._t(language, "adm_access_paused", n=len(done.paused_chats)))
        if not done.still_official:
            key = "adm_access_menu_now" if done.menu_chats else "adm_access_menu_later"
            lines.append(self._t(language, key))
        return Reply("\n".join(lines), reset_menus=done.menu_chats)

    async def _withdraw(self, language: str, grant_id: int) -> Reply:
        if await roles.withdraw_link(self._engine, grant_id):
            return Reply(self._t(language, "adm_access_withdrawn", id=grant_id))
        return Reply(self._t(language, "adm_stale"))

    # -- outreach broadcasts --------------------------------------------------------------

    async def broadcast(
        self, language: str, body: str, *, author: str, photo_file_id: str | None = None
    ) -> Reply:
        """Handle /siaran [unit=A,B] TEXT (typed, or as a photo's caption): store a draft and
        show its preview to confirm."""
        body = body.strip()
        codes: list[str] = []
        if body.lower().startswith("unit="):
            first, _, body = body.partition(" ")
            codes = [c for c in first[len("unit=") :].split(",") if c]
        if not body.strip() and photo_file_id is None:
            return Reply(self._t(language, "adm_broadcast_usage"))
        try:
            draft = await reach.draft_broadcast(
                self._services, body, codes, author=author, photo_file_id=photo_file_id
            )
        except AdminError as exc:
            return Reply(self._t(language, "adm_broadcast_problem", problem=html.escape(str(exc))))
        return await self._broadcast_preview(language, draft)

    async def broadcast_photo(
        self, language: str, author: str, photo_file_id: str, caption: str | None
    ) -> Reply:
        """A photo sent after /siaran: the draft gets the picture (a caption replaces its text)
        and a new preview; without a recent draft, say how to send a picture."""
        since = self._services.clock() - DRAFT_LIFETIME
        draft = await storage.broadcasts.latest_draft(self._engine, author, since)
        if draft is None:
            return Reply(self._t(language, "adm_broadcast_photo_hint"))
        text = caption.strip() if caption and caption.strip() else draft.text
        try:
            new = await reach.draft_broadcast(
                self._services, text, draft.unit_codes, author=author, photo_file_id=photo_file_id
            )
        except AdminError as exc:
            return Reply(self._t(language, "adm_broadcast_problem", problem=html.escape(str(exc))))
        # The old preview's buttons now find no draft: only the newest preview can be sent.
        await storage.broadcasts.delete_draft(self._engine, draft.id)
        return await self._broadcast_preview(language, new)

    async def _broadcast_preview(self, language: str, draft: Broadcast) -> Reply:
        count = await reach.recipients_count(self._services, draft)
        units = ", ".join(draft.unit_codes) or self._t(language, "adm_broadcast_all_units")
        buttons = self._broadcast_buttons(language, draft.id)
        if not draft.has_photo:
            preview = self._t(
                language,
                "adm_broadcast_preview",
                n=count,
                units=html.escape(units),
                text=html.escape(draft.text),
            )
            return Reply(preview, buttons)
        # The picture as each person will see it, then the question.
        items = reach.broadcast_items(draft, draft.photo_file_id, None)
        lines = [
            self._t(language, "adm_broadcast_photo_confirm", n=count, units=html.escape(units))
        ]
        if len(items) > 1:
            lines.append(self._t(language, "adm_broadcast_split"))
        return Reply("\n\n".join(lines), buttons, preview=tuple(items))

    def _broadcast_buttons(self, language: str, broadcast_id: int) -> Buttons:
        yes = (self._t(language, "btn_adm_yes"), f"adm.bc.{broadcast_id}")
        no = (self._t(language, "btn_adm_no"), f"adm.bx.{broadcast_id}")
        return ((yes, no),)

    def _confirm_with(self, language: str, text: str, data: str) -> Reply:
        no = (self._t(language, "btn_adm_no"), "adm.no.")
        return Reply(text, (((self._t(language, "btn_adm_yes"), data), no),))

    async def _confirm_broadcast(self, language: str, broadcast_id: int) -> Reply:
        draft = await storage.broadcasts.get_broadcast(self._engine, broadcast_id)
        if draft is None:  # replaced by a newer preview, cancelled, or forged
            return Reply(self._t(language, "adm_stale"))
        if not await storage.broadcasts.confirm_broadcast(self._engine, broadcast_id):
            return Reply(self._t(language, "adm_broadcast_already"))
        confirmed = await storage.broadcasts.get_broadcast(self._engine, broadcast_id)
        if confirmed is None:  # pragma: no cover - deleted between the two statements
            return Reply(self._t(language, "adm_stale"))
        count = await reach.recipients_count(self._services, confirmed)
        return Reply(self._t(language, "adm_broadcast_sending", n=count), start_broadcast=confirmed)

    async def _cancel_broadcast(self, language: str, broadcast_id: int) -> Reply:
        if await storage.broadcasts.delete_draft(self._engine, broadcast_id):
            return Reply(self._t(language, "adm_cancelled"))
        draft = await storage.broadcasts.get_broadcast(self._engine, broadcast_id)
        key = "adm_broadcast_already" if draft is not None else "adm_stale"
        return Reply(self._t(language, key))

    # -- invitation uptake ---------------------------------------------------------------------

    async def uptake(self, language: str) -> list[str]:
        """Handle /undangan: the uptake of the open (else newest) wave's personal links."""
        try:
            wave, rows = await uptake_for(self._engine)
        except AdminError:
            return [self._t(language, "adm_wave_none")]
        return uptake_text(self._services.messages, language, wave, rows)
