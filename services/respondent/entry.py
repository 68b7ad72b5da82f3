"""Ways into a survey: /start with a personal invitation, a unit's poster link, or nothing.

Every payload format is parsed by `services.links`; this module decides what opening one
means for this person (a new session, a resumed one, or a polite refusal).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Final

import storage.errors
import storage.invitations
import storage.respondents
import storage.sessions
import storage.turns
import storage.units
import storage.waves
from services import links
from services.dates import format_moment
from services.respondent.screens import Button, Screen, TapResult
from services.respondent.session import (
    CONSENT,
    ELIGIBILITY_RECENT,
    Actor,
    Live,
    Turns,
    retiring,
)
from services.security import token_hash
from surveys import Group

__all__ = ["PAGE_ACTION", "UNITS_PER_PAGE", "UNIT_ACTION", "Entry"]

logger = logging.getLogger(__name__)

UNITS_PER_PAGE: Final = 8  # one unit a row: long agency names stay readable on a phone
UNIT_ACTION: Final = "pu"  # a unit picked from the plain /start list; arg "<wave>-<unit id>"
PAGE_ACTION: Final = "pp"  # another page of that list; arg "<wave>-<page>"


class Entry:
    """Open invitations and unit links, and list the public units."""

    def __init__(self, turns: Turns) -> None:
        self.turns = turns

    async def start(self, live: Live, payload: str | None) -> list[Screen]:
        """Handle /start with or without a deep-link payload."""
        actor = live.actor
        await storage.respondents.ensure_respondent(self.turns.engine, actor.pseudonym)
        if payload is None:
            if live.session is not None:
                return await self._resume_or_refuse(live, same=True)
            return await self.plain_start(actor)
        link = links.parse_payload(self.turns.services.secret, payload)
        if isinstance(link, links.InvitationLink):
            return await self._open_invitation(live, link.token)
        if isinstance(link, links.UnitLink):
            return await self._open_unit_link(live, link)
        if payload.startswith((links.UNIT_PREFIX, links.WAVE_UNIT_PREFIX)):
            logger.warning("refused an open unit link with a bad signature")
        return [Screen(self.turns.t(actor.language, "link_invalid"))]

    async def plain_start(self, actor: Actor) -> list[Screen]:
        """Welcome someone without a link and list the open wave's public units."""
        wave = await storage.waves.current_wave(self.turns.engine)
        welcome = self.turns.t(
            actor.language,
            "welcome",
            institution=html.escape(self.turns.services.settings.institution_name),
        )
        if wave is None:
            return [Screen(welcome), Screen(self.turns.t(actor.language, "no_open_wave"))]
        return [Screen(welcome), await self.unit_page(actor, wave.id, 0)]

    async def unit_page(self, actor: Actor, wave_id: int, page: int) -> Screen:
        """Return one page of the open wave's public units as buttons (a phone-sized list)."""
        units = [u for u in await storage.units.list_units(self.turns.engine) if u.serves_public]
        text = self.turns.t(actor.language, "how_to_take_part")
        if not units:
            return Screen(text)
        pages = max(1, -(-len(units) // UNITS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        render = self.turns.renderer(actor, 0)
        shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
        rows: list[tuple[Button, ...]] = [
            (Button(u.name[:60], render.sign(UNIT_ACTION, f"{wave_id}-{u.id}")),) for u in shown
        ]
        nav = []
        if page > 0:
            nav.append(Button("‹", render.sign(PAGE_ACTION, f"{wave_id}-{page - 1}")))
        if page < pages - 1:
            nav.append(Button("›", render.sign(PAGE_ACTION, f"{wave_id}-{page + 1}")))
        if nav:
            rows.append(tuple(nav))
        text += "\n\n" + self.turns.t(actor.language, "pick_unit_page", page=page + 1, pages=pages)
        return Screen(text, tuple(rows))

    async def pick_unit(self, live: Live, arg: str) -> TapResult:
        """Open the survey of a unit picked from the list."""
        actor = live.actor
        wave_part, _, unit_part = arg.partition("-")
        if not (wave_part.isdigit() and unit_part.isdigit()):
            return TapResult(toast=self.turns.t(actor.language, "forged_button"))
        wave = await storage.waves.get_wave_by_id(self.turns.engine, int(wave_part))
        unit = await storage.units.get_unit_by_id(self.turns.engine, int(unit_part))
        if wave is None or unit is None:
            return TapResult(toast=self.turns.t(actor.language, "stale_button"))
        screens = await self._open_unit(live, wave, unit)
        return (
            TapResult(screen=screens[-1])
            if len(screens) == 1
            else TapResult(toast=_strip_tags(screens[0].text)[:190], follow_up=screens[-1])
        )

    async def _open_unit_link(self, live: Live, link: links.UnitLink) -> list[Screen]:
        """Open a unit's link: the wave it names, or whichever wave is open now."""
        engine, lang = self.turns.engine, live.actor.language
        unit = await storage.units.get_unit(engine, link.unit_code)
        if unit is None:
            return [Screen(self.turns.t(lang, "link_invalid"))]
        if link.wave_id is None:
            wave = await storage.waves.current_wave(engine)
            if wave is None:  # a poster between waves: nothing is wrong with it
                return [Screen(self.turns.t(lang, "no_open_wave"))]
        else:
            wave = await storage.waves.get_wave_by_id(engine, link.wave_id)
            if wave is None:
                return [Screen(self.turns.t(lang, "link_invalid"))]
        return await self._open_unit(live, wave, unit)

    async def _resume_or_refuse(self, live: Live, same: bool) -> list[Screen]:
        """Someone with a survey in progress opened a link: resume it (or say it is another)."""
        # One message: the note and the step together, so the live buttons come at once.
        note = self.turns.t(live.actor.language, "resume" if same else "other_in_progress")
        return [retiring(await self.turns.current(live, note), live.session)]

    async def _open_invitation(self, live: Live, token: str) -> list[Screen]:
        engine, actor, lang = self.turns.engine, live.actor, live.actor.language
        invitation = await storage.invitations.get_invitation(engine, token_hash(token))
        if invitation is None:
            # Issued for a planned wave: it works from the opening, and says when.
            opens = await storage.waves.plan_opening_for_token(engine, token_hash(token))
            if opens is not None:
                local = opens.astimezone(self.turns.services.settings.zone)
                when = format_moment(local, lang)
                return [Screen(self.turns.t(lang, "invitation_not_yet_open", when=when))]
            logger.warning("refused an unknown invitation link")
            return [Screen(self.turns.t(lang, "link_invalid"))]
        if live.session is not None:
            return await self._resume_or_refuse(live, live.session.invitation_id == invitation.id)
        if invitation.used:
            return [Screen(self.turns.t(lang, "link_used"))]
        wave = await storage.waves.get_wave_by_id(engine, invitation.wave_id)
        if wave is None or wave.status != "open":
            return [Screen(self.turns.t(lang, "wave_closed"))]
        group = Group(invitation.grp)
        if await storage.sessions.has_completed(engine, actor.pseudonym, wave.id, group):
            return [Screen(self.turns.t(lang, "already_done"))]
        try:
            # The survey in progress is the link's claim: a second person opening the same
            # link meanwhile is refused; the link is marked used when the survey is submitted.
            return await self._begin(
                actor, wave.id, group, invitation.unit_id, invitation.id, CONSENT
            )
        except storage.errors.InvitationTaken:
            return [Screen(self.turns.t(lang, "link_used"))]

    async def _open_unit(
        self, live: Live, wave: storage.waves.Wave, unit: storage.units.Unit
    ) -> list[Screen]:
        actor, lang, session = live.actor, live.actor.language, live.session
        if session is not None:
            same = (
                session.wave_id == wave.id
                and session.unit_id == unit.id
                and session.grp == Group.EXTERNAL
            )
            return await self._resume_or_refuse(live, same)
        if wave.status != "open":
            return [Screen(self.turns.t(lang, "wave_closed"))]
        if not unit.serves_public:
            return [Screen(self.turns.t(lang, "unit_not_public"))]
        engine = self.turns.engine
        # One survey per unit and wave: a citizen may rate every service they used (22.6).
        if await storage.sessions.has_completed(
            engine, actor.pseudonym, wave.id, Group.EXTERNAL, unit.id
        ):
            return [Screen(self.turns.t(lang, "already_done_unit", unit=html.escape(unit.name)))]
        return await self._begin(actor, wave.id, Group.EXTERNAL, unit.id, None, ELIGIBILITY_RECENT)

    async def _begin(
        self,
        actor: Actor,
        wave_id: int,
        group: Group,
        unit_id: int,
        invitation_id: int | None,
        step: str,
    ) -> list[Screen]:
        await storage.sessions.start_session(
            self.turns.engine,
            pseudonym=actor.pseudonym,
            wave_id=wave_id,
            grp=group,
            unit_id=unit_id,
            invitation_id=invitation_id,
            language=actor.language,
            step=step,
            now=self.turns.now(),
            expires_after_days=self.turns.services.settings.session_expiry_days,
        )
        turn = await storage.turns.load_turn(self.turns.engine, actor.pseudonym)
        questionnaire = (
            await self.turns.questionnaire(turn.session.questionnaire_id)
            if turn.session is not None
            else None
        )
        return [await self.turns.current(Live(actor, turn.session, questionnaire, turn.answers))]


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
