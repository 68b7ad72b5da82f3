"""The dashboard's API behind HTTP: who opened it (Telegram's launch data, then their role),
and each view's answer for that person.

Every data answer is built from the report `/skor` reads (`reports.current_bundle`), so the
dashboard and the bot agree on every number. Refusals are answers too, worded in the person's
language: 401 when the launch data does not prove who they are, 403 when they hold no role or
ask for something their role does not show (a unit head and another unit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from services import actions, reach, reports
from services.access import Asker, Decision, asker_for
from services.context import Services
from services.i18n import pick_language
from services.miniapp import board, views
from services.miniapp import whatif as panel
from services.miniapp.auth import Launch, LaunchRefused, check_launch, launch_key
from services.miniapp.auth import unverified_language as claimed_language
from services.miniapp.views import JSON, Words
from services.reach import uptake_for
from storage.db import AsyncEngine

__all__ = ["AUTH_SCHEME", "Answer", "Dashboard", "Kind", "Visitor"]

logger = logging.getLogger(__name__)

AUTH_SCHEME: Final = "tma"  # Authorization: tma <launch data>, as Telegram's docs suggest
_REFUSALS: Final = {
    Decision.NO_ROLE: "access_denied",
    Decision.OTHER_UNIT: "access_other_unit",
    Decision.INSTITUTION_ONLY: "access_institution_only",
}


class Kind(StrEnum):
    """What kind of answer: the handler turns it into an HTTP status."""

    OK = "ok"
    UNAUTHORIZED = "unauthorized"  # 401: no proof of who this is
    FORBIDDEN = "forbidden"  # 403: a valid person, but not for them
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer: its kind and the JSON body."""

    kind: Kind
    body: JSON


@dataclass(frozen=True, slots=True)
class Visitor:
    """A person Telegram vouched for, who holds a role."""

    asker: Asker
    words: Words
    launch: Launch


class Dashboard:
    """The dashboard's answers, for the bot whose token signs the launch data."""

    def __init__(self, services: Services, bot_token: str) -> None:
        self._services = services
        self._key = launch_key(bot_token)

    @property
    def _k(self) -> int:
        return self._services.settings.small_cell_k

    def words(self, language: str) -> Words:
        """Return the catalog and number formats of a language."""
        return Words(language, self._k, self._services.messages)

    def _refusal(self, kind: Kind, words: Words, title: str, message: str) -> Answer:
        return Answer(
            kind,
            {
                "error": kind.value,
                "title": words.t(title),
                "message": message,
                "language": words.lang,
            },
        )

    async def visit(self, authorization: str | None) -> Visitor | Answer:
        """Return who sent `Authorization: tma <launch data>`, or the refusal to send."""
        settings = self._services.settings
        scheme, _, raw = (authorization or "").strip().partition(" ")
        raw = raw.strip() if scheme.lower() == AUTH_SCHEME else ""
        try:
            launch = check_launch(
                raw,
                self._key,
                self._services.clock(),
                timedelta(seconds=settings.web_auth_max_age),
            )
        except LaunchRefused as refused:
            logger.info("dashboard: launch data refused (%s)", refused.problem.value)
            words = self.words(pick_language(claimed_language(raw), settings.default_language))
            return self._refusal(
                Kind.UNAUTHORIZED,
                words,
                "miniapp_unauthorized_title",
                words.t("miniapp_unauthorized"),
            )
        asker = await asker_for(self._services, launch.user_id, launch.language_code)
        words = self.words(asker.language)
        if not asker.viewer.has_role:
            logger.info("dashboard: refused a person without a role")
            return self._refusal(
                Kind.FORBIDDEN, words, "miniapp_forbidden_title", words.t("access_denied")
            )
        return Visitor(asker, words, launch)

    def _refuse(self, visitor: Visitor, decision: Decision) -> Answer:
        logger.info("dashboard: view refused (%s)", decision.value)
        viewer = visitor.asker.viewer
        unit = viewer.unit_name or viewer.unit_code or ""
        words = visitor.words
        message = words.t(_REFUSALS[decision], unit=unit)
        return self._refusal(Kind.FORBIDDEN, words, "miniapp_forbidden_title", message)

    def _may_open(self, visitor: Visitor, view: str) -> Answer | None:
        """Refuse a view the visitor's role does not show (None: they may)."""
        viewer = visitor.asker.viewer
        if view in views.views_of(viewer):
            return None
        decision = viewer.institution()
        if decision is Decision.ALLOWED:  # leadership, at a view for the inspectorate only
            logger.info("dashboard: view refused (admins only)")
            words = visitor.words
            message = words.t("miniapp_admins_only")
            return self._refusal(Kind.FORBIDDEN, words, "miniapp_forbidden_title", message)
        return self._refuse(visitor, decision)

    async def _bundle(self, visitor: Visitor) -> reports.ReportBundle | Answer:
        bundle = await reports.current_bundle(self._services)
        if bundle is None:
            return Answer(Kind.OK, {"wave": None, "message": visitor.words.t("scores_no_wave")})
        return bundle

    # -- views ------------------------------------------------------------------------------

    async def overview(self, visitor: Visitor) -> Answer:
        """Return who is looking, the interface words and the first screen."""
        viewer, words = visitor.asker.viewer, visitor.words
        institution = (await reports.our_institution(self._db, self._services.settings)).name
        allowed = views.views_of(viewer)
        start = visitor.launch.start_param
        body: JSON = {
            "me": views.me(visitor.asker, words, institution),
            "text": words.strings(),
            "start": start if start in allowed else views.OVERVIEW,
        }
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return Answer(Kind.OK, {**body, **bundle.body})
        try:
            return Answer(Kind.OK, {**body, **views.overview(bundle, viewer, words)})
        except KeyError:  # a unit head whose unit is no longer in the unit list
            return self._not_found(visitor, "miniapp_unit_not_found")

    @property
    def _db(self) -> AsyncEngine:
        return self._services.db.engine

    async def unit(self, visitor: Visitor, code: object) -> Answer:
        """Return one unit's scores, if the visitor may see that unit."""
        try:
            unit_code = panel.unit_code(code)
        except panel.BadLift as bad:
            return self._not_found(visitor, bad.key)
        if unit_code is None:
            return self._not_found(visitor, "miniapp_unit_not_found")
        decision = visitor.asker.viewer.unit(unit_code)
        if decision is not Decision.ALLOWED:
            return self._refuse(visitor, decision)
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        try:
            scope = bundle.report.unit(unit_code)
        except KeyError:
            return self._not_found(visitor, "miniapp_unit_not_found")
        words = visitor.words
        return Answer(
            Kind.OK,
            {
                "wave": views.wave_json(bundle, words),
                "scope": views.scope_json(bundle, scope, words),
            },
        )

    def _not_found(self, visitor: Visitor, key: str) -> Answer:
        words = visitor.words
        return self._refusal(Kind.NOT_FOUND, words, "miniapp_not_found_title", words.t(key))

    async def units(self, visitor: Visitor) -> Answer:
        """Return the unit ranking (those who see every unit)."""
        if refused := self._may_open(visitor, views.UNITS):
            return refused
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        return Answer(Kind.OK, views.ranking(bundle, visitor.words))

    async def trend(self, visitor: Visitor) -> Answer:
        """Return our waves and KPK's published results with our percentile."""
        if refused := self._may_open(visitor, views.TREND):
            return refused
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        _ours, found = await reports.load_standings(self._db, self._services.settings)
        name = reports.display_name(found[0].result.name) if found else None
        return Answer(Kind.OK, views.trend(bundle, found, name, visitor.words))

    async def whatif_form(self, visitor: Visitor, unit: object) -> Answer:
        """Return the what-if panel for the visitor's scope (or a unit they may see)."""
        if refused := self._may_open(visitor, views.WHATIF):
            return refused
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        try:
            found = panel.form(bundle, visitor.asker.viewer, visitor.words, panel.unit_code(unit))
        except panel.BadLift as bad:
            return self._not_found(visitor, bad.key)
        if isinstance(found, Decision):
            return self._refuse(visitor, found)
        return Answer(Kind.OK, found)

    async def whatif(self, visitor: Visitor, body: object) -> Answer:
        """Return the index and category after moving one dimension."""
        if refused := self._may_open(visitor, views.WHATIF):
            return refused
        words = visitor.words
        try:
            request = panel.parse_lift(body)
        except panel.BadLift as bad:
            return self._refusal(
                Kind.BAD_REQUEST, words, "miniapp_bad_request_title", words.t(bad.key)
            )
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        try:
            found = panel.simulate(bundle, visitor.asker.viewer, words, request)
        except panel.BadLift as bad:
            return self._not_found(visitor, bad.key)
        if isinstance(found, Decision):
            return self._refuse(visitor, found)
        return Answer(Kind.OK, found)

    async def progress(self, visitor: Visitor) -> Answer:
        """Return responses against targets and the funnel (a unit head: their unit)."""
        if refused := self._may_open(visitor, views.PROGRESS):
            return refused
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        viewer = visitor.asker.viewer
        found = await reach.load_funnel(self._services, bundle.wave)
        unit = None if viewer.sees_all else viewer.unit_code
        try:
            return Answer(Kind.OK, board.progress(bundle, found, visitor.words, unit))
        except KeyError:  # a unit head whose unit is no longer in the unit list
            return self._not_found(visitor, "miniapp_unit_not_found")

    async def actions(self, visitor: Visitor) -> Answer:
        """Return the follow-up actions board (a unit head: their unit's)."""
        if refused := self._may_open(visitor, views.ACTIONS):
            return refused
        viewer = visitor.asker.viewer
        found = await actions.list_for(self._db, None if viewer.sees_all else viewer.unit_code)
        today = self._services.clock().astimezone(self._services.settings.zone).date()
        return Answer(Kind.OK, board.actions_board(found, visitor.words, today))

    async def uptake(self, visitor: Visitor) -> Answer:
        """Return personal invitation links issued, opened and completed (admins)."""
        if refused := self._may_open(visitor, views.UPTAKE):
            return refused
        bundle = await self._bundle(visitor)
        if isinstance(bundle, Answer):
            return bundle
        wave, rows = await uptake_for(self._db, bundle.wave.name)
        return Answer(Kind.OK, board.uptake(wave.name, rows, visitor.words))
