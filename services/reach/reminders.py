"""Reminders to people who started a survey of the open wave and stopped.

Round n goes to someone whose session has been idle for the n-th configured delay (default
24 h and 72 h, at most `REMINDER_MAX_ROUNDS`), never in quiet hours (default 20:00-07:00
local) nor on Sundays. Every (person, wave, round) is first *claimed* with a row whose primary
key admits one INSERT, so with several bot processes each reminder goes out once. People are
read a page at a time (keyset by pseudonym), so a round over many thousands of people keeps
memory flat; claims, sends and outcomes run as one stream (`services.pushes.fanout`). Every
send goes through `services.pushes.delivery.Delivery` (the bulk limiter).
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import storage.contacts
import storage.waves
from services.context import Services
from services.errors import AdminError
from services.metrics import REMINDER_OUTCOMES
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.pushes.fanout import Outcomes, claim_in_chunks, fan_out
from services.reach.contacts import cipher_for
from services.settings import Settings
from storage.contacts import ContactPurpose, DueReminder, ReminderStatus
from storage.waves import Wave

__all__ = [
    "BUTTON_PATTERN",
    "CONTINUE_DATA",
    "OPT_OUT_DATA",
    "ReminderPolicy",
    "ReminderReport",
    "Reminders",
]

logger = logging.getLogger(__name__)

# Button data of a reminder: not signed, because both act only on the tapper's own pseudonym.
CONTINUE_DATA: Final = "rem.go"
OPT_OUT_DATA: Final = "rem.off"
BUTTON_PATTERN: Final = r"^rem\.(go|off)$"
# Sends in flight at once: keeps the bulk limiter busy while some sends wait out a 429.
CONCURRENCY: Final = 16
PAGE: Final = 500
_SUNDAY: Final = 6


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders may go: delays per round, how many rounds, and the quiet times."""

    delays: tuple[timedelta, ...]
    zone: ZoneInfo
    quiet_start_hour: int = 20
    quiet_end_hour: int = 7
    quiet_sunday: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        """Return the policy the settings describe."""
        hours = settings.reminder_delays_hours[: settings.reminder_max_rounds]
        return cls(
            delays=tuple(timedelta(hours=h) for h in hours),
            zone=settings.zone,
            quiet_start_hour=settings.reminder_quiet_start_hour,
            quiet_end_hour=settings.reminder_quiet_end_hour,
            quiet_sunday=settings.reminder_quiet_sunday,
        )

    def is_quiet(self, now: datetime) -> bool:
        """Tell whether `now` is in quiet hours (local time) or on a quiet Sunday."""
        local = now.astimezone(self.zone)
        if self.quiet_sunday and local.weekday() == _SUNDAY:
            return True
        start, end = self.quiet_start_hour, self.quiet_end_hour
        if start == end:
            return False
        if start < end:
            return start <= local.hour < end
        return local.hour >= start or local.hour < end  # across midnight (the default)


@dataclass
class ReminderReport:
    """What one run did (or, dry, would do), per round."""

    wave: str | None = None
    quiet: bool = False
    due: dict[int, int] = field(default_factory=dict)  # round -> people owed it
    sent: int = 0
    gone: int = 0  # blocked the bot: contact deleted
    failed: int = 0
    taken: int = 0  # claimed by another process first

    def add(self, outcome: ReminderStatus) -> None:
        """Count one person's outcome."""
        if outcome is ReminderStatus.SENT:
            self.sent += 1
        elif outcome is ReminderStatus.GONE:
            self.gone += 1
        else:
            self.failed += 1


def _pseudonym(person: DueReminder) -> str:
    return person.pseudonym


_STATUS: Final = {
    DeliveryOutcome.SENT: ReminderStatus.SENT,
    DeliveryOutcome.GONE: ReminderStatus.GONE,
    DeliveryOutcome.FAILED: ReminderStatus.FAILED,
}


class Reminders:
    """Runs reminder rounds: from the scheduler's tick, or `spibot remind`."""

    def __init__(
        self, services: Services, delivery: Delivery, *, concurrency: int = CONCURRENCY
    ) -> None:
        self._services = services
        self._delivery = delivery
        self._concurrency = concurrency

    @property
    def policy(self) -> ReminderPolicy:
        """Return the policy from the settings."""
        return ReminderPolicy.from_settings(self._services.settings)

    async def _wave(self, wave_name: str | None) -> Wave | None:
        engine = self._services.db.engine
        if wave_name is None:
            return await storage.waves.current_wave(engine)
        wave = await storage.waves.get_wave(engine, wave_name)
        if wave is None:
            raise AdminError(f"no wave named {wave_name!r}")
        if not wave.is_open:
            raise AdminError(f"wave {wave_name!r} is closed: nobody is reminded of a closed wave")
        return wave

    async def run(
        self, now: datetime | None = None, *, wave_name: str | None = None, dry_run: bool = False
    ) -> ReminderReport:
        """Send every reminder due at `now` for the open (or named, open) wave."""
        moment = now or self._services.clock()
        report = ReminderReport()
        wave = await self._wave(wave_name)
        if wave is None:
            return report
        report.wave = wave.name
        policy = self.policy
        if policy.is_quiet(moment):
            report.quiet = True
            return report
        engine = self._services.db.engine
        if not dry_run:
            await storage.contacts.prune_survey_contacts(engine)
        for index, delay in enumerate(policy.delays):
            number = index + 1
            previous_before = None if index == 0 else moment - (delay - policy.delays[index - 1])
            report.due[number] = 0
            pages = self._pages(wave, number, moment - delay, previous_before, report)
            if dry_run:
                async for _page in pages:
                    pass
            else:
                await self._send_round(wave, number, pages, moment, report)
        if not dry_run and any(report.due.values()):
            logger.info(
                "reminders for wave %s: %d sent, %d gone, %d failed, %d taken elsewhere",
                wave.name,
                report.sent,
                report.gone,
                report.failed,
                report.taken,
            )
        return report

    async def _pages(
        self,
        wave: Wave,
        number: int,
        idle_since: datetime,
        previous_before: datetime | None,
        report: ReminderReport,
    ) -> AsyncIterator[list[DueReminder]]:
        """Yield the people owed round `number`, a page at a time, counting them as due."""
        after = ""
        while page := await storage.contacts.due_reminders(
            self._services.db.engine,
            wave.id,
            number,
            idle_since=idle_since,
            previous_before=previous_before,
            after=after,
            limit=PAGE,
        ):
            after = page[-1].pseudonym
            report.due[number] += len(page)
            yield page

    async def _send_round(
        self,
        wave: Wave,
        number: int,
        pages: AsyncIterator[list[DueReminder]],
        now: datetime,
        report: ReminderReport,
    ) -> None:
        """Claim and send one round: streamed, claimed in chunks, a bounded number in flight."""
        engine = self._services.db.engine

        async def claim(pseudonyms: list[str]) -> set[str]:
            return await storage.contacts.claim_reminders(engine, wave.id, number, pseudonyms, now)

        async def write(batch: dict[str, ReminderStatus]) -> None:
            await storage.contacts.finish_reminders(engine, wave.id, number, batch)

        def taken(count: int) -> None:
            report.taken += count
            REMINDER_OUTCOMES.labels("taken").inc(count)

        outcomes = Outcomes(write)

        async def one(person: DueReminder) -> None:
            status = await self._remind(number, person)
            report.add(status)
            REMINDER_OUTCOMES.labels(status.value).inc()
            await outcomes.add(person.pseudonym, status)

        try:
            people = claim_in_chunks(pages, _pseudonym, claim, taken=taken)
            await fan_out(people, one, concurrency=self._concurrency)
        finally:
            await outcomes.flush()

    async def _remind(self, number: int, person: DueReminder) -> ReminderStatus:
        """Send one claimed person their reminder; a blocked chat loses its contact."""
        chat_id = cipher_for(self._services).decrypt(
            person.pseudonym, ContactPurpose.SURVEY, person.chat
        )
        if chat_id is None:
            return ReminderStatus.FAILED
        outcome = await self._delivery.send(chat_id, self.message(person.language, number))
        status = _STATUS[outcome]
        if status is ReminderStatus.GONE:
            # Blocked or deleted: the bot can never reach them, so it keeps nothing.
            await storage.contacts.delete_contact(self._services.db.engine, person.pseudonym)
        return status

    def message(self, language: str, number: int) -> Outgoing:
        """Return the reminder text with its two buttons: continue, and no more reminders."""
        messages = self._services.messages
        institution = html.escape(self._services.settings.institution_name)
        key = "reminder_first" if number == 1 else "reminder_again"
        return Outgoing(
            text=messages.t(language, key, institution=institution),
            buttons=(
                ((messages.t(language, "btn_reminder_continue"), CONTINUE_DATA),),
                ((messages.t(language, "btn_reminder_stop"), OPT_OUT_DATA),),
            ),
        )
