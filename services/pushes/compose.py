"""What a push says: what one tick reads and renders once and shares between chats.

A digest is one text; a report is the chart pack (each chart with its caption), after a
heading for a wave's final report; the weekly report ends with the overdue follow-up
actions, the final report with each unit's dimension changes since the previous closed wave
beside the follow-up actions done there; a revision of a final report is what changed, from
what to what and why, then the revised index chart. Every push ends with the link that opens
the dashboard (when it is configured). Delivery sends what this module composes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
from datetime import date, datetime

import storage.actions
import storage.db
import storage.frames
import storage.waves
from scoring import Report
from services import reports
from services.actions import ActionStatus, outcomes_text, overdue_text
from services.context import Services
from services.links import mini_app_link
from services.pushes.delivery import Outgoing, chart_message
from services.reports import (
    ReportBundle,
    Revision,
    load_report,
    progress_digest,
    render_chart,
    report_pack,
    revision_notice,
    score_text,
)

__all__ = [
    "DIGEST_VIEW",
    "REPORT_VIEW",
    "TickData",
    "digest_text",
    "overdue_item",
    "pack_items",
    "revision_items",
]

# The dashboard view a push's link opens first (the Mini App's start parameter).
DIGEST_VIEW = "progress"
REPORT_VIEW = "overview"
_CAPTION_LIMIT = 1024


class TickData:
    """What one tick reads or renders once and shares between chats."""

    def __init__(self, services: Services, now: datetime) -> None:
        self.services = services
        self._now = now
        self._waves: list[storage.waves.Wave] | None = None
        self._bundles: dict[str, ReportBundle | None] = {}
        self._packs: dict[tuple[str, str], list[tuple[str, bytes, str]]] = {}
        self._overdue: tuple[storage.actions.Action, ...] | None = None
        self._outcomes: dict[str, tuple[Report | None, tuple[storage.actions.Action, ...]]] = {}
        self._revisions: dict[datetime, list[tuple[storage.waves.Wave, Revision, datetime]]] = {}

    @property
    def _engine(self) -> storage.db.AsyncEngine:
        return self.services.db.engine

    async def waves(self) -> list[storage.waves.Wave]:
        if self._waves is None:
            self._waves = await storage.waves.list_waves(self._engine)
        return self._waves

    async def open_wave(self) -> storage.waves.Wave | None:
        return next((w for w in await self.waves() if w.is_open), None)

    async def newest_closed_wave(self) -> storage.waves.Wave | None:
        closed = [w for w in await self.waves() if w.closed_at is not None and not w.is_open]
        return max(closed, key=lambda w: w.closed_at or w.opened_at, default=None)

    async def bundle(self, wave: storage.waves.Wave) -> ReportBundle | None:
        if wave.name not in self._bundles:
            today = self._now.astimezone(self.services.settings.zone).date()
            self._bundles[wave.name] = await load_report(
                self._engine,
                self.services.settings,
                wave_name=wave.name,
                today=today,
                now=self._now,
            )
        return self._bundles[wave.name]

    async def pack(self, bundle: ReportBundle, language: str) -> list[tuple[str, bytes, str]]:
        key = (bundle.wave.name, language)
        if key not in self._packs:
            # Six matplotlib drawings take about a second: keep the event loop serving updates.
            self._packs[key] = await asyncio.to_thread(report_pack, bundle, language)
        return self._packs[key]

    async def overdue_actions(self) -> tuple[storage.actions.Action, ...]:
        """Return the open follow-up actions due before today (read once per tick)."""
        if self._overdue is None:
            open_ones = [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]
            self._overdue = await storage.actions.list_actions(
                self._engine, statuses=open_ones, due_before=self.today
            )
        return self._overdue

    async def outcomes(
        self, wave: storage.waves.Wave
    ) -> tuple[Report | None, tuple[storage.actions.Action, ...]]:
        """Return the previous closed wave's report (None without one) and the actions done
        between its closing and `wave`'s (last changed in that time, status done)."""
        if wave.name not in self._outcomes:
            waves = await self.waves()  # newest first: the ones after `wave` came before it
            earlier = waves[[w.id for w in waves].index(wave.id) + 1 :]
            previous = next((w for w in earlier if w.closed_at is not None), None)
            report = None
            if previous is not None:
                found = await load_report(
                    self._engine,
                    self.services.settings,
                    wave_name=previous.name,
                    today=self.today,
                    now=self._now,
                )
                report = None if found is None else found.report
            done = await storage.actions.list_actions(self._engine, statuses=[ActionStatus.DONE])
            since = None if previous is None else previous.closed_at
            until = wave.closed_at or self._now
            between = tuple(
                a for a in done if (since is None or since < a.updated_at) and a.updated_at <= until
            )
            self._outcomes[wave.name] = (report, between)
        return self._outcomes[wave.name]

    @property
    def today(self) -> date:
        """Return the tick's date in the bot's time zone."""
        return self._now.astimezone(self.services.settings.zone).date()

    def dashboard_line(self, language: str, view: str) -> str | None:
        """Return the line with the link that opens the dashboard at `view` (None when the
        dashboard is not configured). A t.me link: web app buttons do not work in groups."""
        if self.services.settings.dashboard_url is None or not self.services.bot_username:
            return None
        url = mini_app_link(self.services.bot_username, view)
        return self.services.messages.t(language, "dashboard_push_link", url=html.escape(url))

    async def revisions_after(
        self, moment: datetime
    ) -> list[tuple[storage.waves.Wave, Revision, datetime]]:
        """Return the final reports' revisions written after `moment` (read once per moment)."""
        if moment not in self._revisions:
            self._revisions[moment] = await reports.revisions_after(
                self._engine, self.services.settings, moment
            )
        return self._revisions[moment]

    async def fingerprint(self, wave: storage.waves.Wave) -> str:
        counts = await storage.frames.response_counts(self._engine, wave.id)
        return f"{wave.id}:{sum(count.submitted for count in counts)}"


def digest_text(bundle: ReportBundle, language: str, link: str | None = None) -> str:
    """Return the progress digest of an open wave (ending with the dashboard `link` line)."""
    text = progress_digest(bundle, language)
    return text if link is None else f"{text}\n\n{link}"


def _with_link(items: list[Outgoing], link: str | None) -> list[Outgoing]:
    """Add the dashboard link to the last message: its text, else its caption if it fits,
    else as one more message."""
    if link is None or not items:
        return items
    last = items[-1]
    if last.text is not None:
        return [*items[:-1], dataclasses.replace(last, text=f"{last.text}\n\n{link}")]
    caption = f"{last.caption}\n\n{link}" if last.caption else link
    if len(caption) <= _CAPTION_LIMIT:
        return [*items[:-1], dataclasses.replace(last, caption=caption)]
    return [*items, Outgoing(text=link)]


async def pack_items(
    data: TickData, bundle: ReportBundle, language: str, *, final: bool
) -> list[Outgoing]:
    """Return the chart pack as messages, after the final report's heading when `final`."""
    items: list[Outgoing] = []
    if final:
        heading = data.services.messages.t(
            language, "sub_final_heading", wave=html.escape(bundle.wave.name)
        )
        items.append(Outgoing(text=heading))
    pack = await data.pack(bundle, language)
    items += [chart_message(png, caption, name) for name, png, caption in pack]
    if final:
        # What was done about it: each unit's dimension changes beside its actions done.
        previous, done = await data.outcomes(bundle.wave)
        items.append(Outgoing(text=outcomes_text(bundle.report, previous, done, language)))
    else:
        # The weekly report ends with the follow-up actions that are past their due date.
        late = await overdue_item(data, language)
        if late is not None:
            items.append(late)
    return _with_link(items, data.dashboard_line(language, REPORT_VIEW))


async def revision_items(
    data: TickData, bundle: ReportBundle, revision: Revision, language: str
) -> list[Outgoing]:
    """Return a revision of a final report as messages: what changed, from what to what and
    why; then the index chart of the report in force, its caption carrying the note."""
    names = {u.code: u.name for u in bundle.report.units if u.code is not None}
    notice = revision_notice(revision, language, names)
    png = await asyncio.to_thread(render_chart, bundle, "index", language)
    items = [Outgoing(text=notice), chart_message(png, score_text(bundle, language), "index")]
    return _with_link(items, data.dashboard_line(language, REPORT_VIEW))


async def overdue_item(data: TickData, language: str) -> Outgoing | None:
    """Return the follow-up actions past their due date as one message (None when none)."""
    late = overdue_text(await data.overdue_actions(), language, data.today)
    return None if late is None else Outgoing(text=late)
