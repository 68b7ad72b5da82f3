"""Due-date reminders of follow-up actions to the heads of the units responsible.

An open action (planned or in progress) reminds its unit's heads three times over: `SOON`
from three days before the due date, `DUE` from the due date, and `OVERDUE` every seven days
after it while it is still open. Each occasion is owed from the day it begins until the next
one begins, so a reminder that falls in quiet hours or on a quiet Sunday (the survey
reminders' policy, `services.reach.reminders.ReminderPolicy`) goes out at the first tick after
them, and an occasion that began before the action was created (an action added two days
before its due date, a matrix of late actions imported at once) is skipped, not sent late.

A unit head is reached through their `official` contact: their chat id, encrypted like every
contact, saved when they open a unit-head role link or use /tindaklanjut, deleted when the
role is revoked or Telegram answers 403. Every (action, occasion, day it began, head) is
claimed first (`storage.action_reminders`), so with several bot processes each reminder goes
out once; sends go through `Delivery`, the one bulk limiter.
"""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import storage.action_reminders
import storage.contacts
from services import callbacks
from services.actions.plans import SHOW_BUTTON
from services.actions.texts import status_word
from services.context import Services
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.reach import ReminderPolicy, cipher_for, remember
from storage.action_reminders import ActionRecipient, Occasion, ReminderKey
from storage.contacts import ContactPurpose, ReminderStatus

__all__ = [
    "LEAD_DAYS",
    "OVERDUE_EVERY_DAYS",
    "ActionReminderReport",
    "ActionReminders",
    "occasion_for",
    "remember_unit_head",
]

logger = logging.getLogger(__name__)

LEAD_DAYS: Final = 3  # the first reminder: this many days before the due date
OVERDUE_EVERY_DAYS: Final = 7  # then on the day, and every this many days while late
CONCURRENCY: Final = 8  # sends in flight: unit heads are few

_STATUS: Final = {
    DeliveryOutcome.SENT: ReminderStatus.SENT,
    DeliveryOutcome.GONE: ReminderStatus.GONE,
    DeliveryOutcome.FAILED: ReminderStatus.FAILED,
}


def occasion_for(due_on: date, created_on: date, today: date) -> tuple[Occasion, date] | None:
    """Return the occasion owed `today` for an open action and the day it began, or None.

    SOON runs from `LEAD_DAYS` before the due date to the day before it, DUE from the due
    date for a week, OVERDUE k from k weeks after it for a week. None before SOON, and when
    the occasion began before the action was created (nobody needs reminding of a date they
    have just set).
    """
    days = (due_on - today).days
    if days > LEAD_DAYS:
        return None
    if days > 0:
        occasion, began = Occasion.SOON, due_on - timedelta(days=LEAD_DAYS)
    elif -days < OVERDUE_EVERY_DAYS:
        occasion, began = Occasion.DUE, due_on
    else:
        weeks = -days // OVERDUE_EVERY_DAYS
        occasion, began = Occasion.OVERDUE, due_on + timedelta(days=weeks * OVERDUE_EVERY_DAYS)
    return None if created_on > began else (occasion, began)


async def remember_unit_head(services: Services, user_id: int, language: str) -> None:
    """Keep a unit head's chat id (encrypted) so due-date reminders can reach them."""
    await remember(services, user_id, ContactPurpose.OFFICIAL, language=language)


@dataclass
class ActionReminderReport:
    """What one run did."""

    quiet: bool = False
    due: int = 0  # reminders owed at this tick (before claiming)
    sent: int = 0
    gone: int = 0  # blocked the bot: the official contact was deleted
    failed: int = 0
    taken: int = 0  # claimed by another process first

    def add(self, outcome: ReminderStatus | None) -> None:
        """Count one reminder's outcome (None: another process had the claim)."""
        if outcome is None:
            self.taken += 1
        elif outcome is ReminderStatus.SENT:
            self.sent += 1
        elif outcome is ReminderStatus.GONE:
            self.gone += 1
        else:
            self.failed += 1


class ActionReminders:
    """Runs the due-date reminders from the scheduler's tick."""

    def __init__(
        self, services: Services, delivery: Delivery, *, concurrency: int = CONCURRENCY
    ) -> None:
        self._services = services
        self._delivery = delivery
        self._concurrency = concurrency

    async def run(self, now: datetime | None = None) -> ActionReminderReport:
        """Send every due-date reminder owed at `now` (nothing in quiet hours)."""
        services = self._services
        moment = now or services.clock()
        report = ActionReminderReport()
        if ReminderPolicy.from_settings(services.settings).is_quiet(moment):
            report.quiet = True
            return report
        engine = services.db.engine
        zone = services.settings.zone
        today = moment.astimezone(zone).date()
        await storage.action_reminders.prune_official_contacts(engine)
        candidates = await storage.action_reminders.action_reminder_recipients(
            engine, due_until=today + timedelta(days=LEAD_DAYS)
        )
        claimed = await storage.action_reminders.claimed_action_reminders(
            engine, [c.action.id for c in candidates]
        )
        owed: list[tuple[ReminderKey, ActionRecipient]] = []
        for candidate in candidates:
            created_on = candidate.action.created_at.astimezone(zone).date()
            found = occasion_for(candidate.action.due_on, created_on, today)
            if found is None:
                continue
            key = ReminderKey(candidate.action.id, found[0], found[1], candidate.pseudonym)
            if key not in claimed:
                owed.append((key, candidate))
        report.due = len(owed)
        gate = asyncio.Semaphore(self._concurrency)

        async def one(key: ReminderKey, recipient: ActionRecipient) -> None:
            async with gate:
                report.add(await self._remind(key, recipient, today, moment))

        await asyncio.gather(*(one(key, recipient) for key, recipient in owed))
        if owed:
            logger.info(
                "action reminders: %d sent, %d gone, %d failed, %d taken elsewhere",
                report.sent,
                report.gone,
                report.failed,
                report.taken,
            )
        return report

    async def _remind(
        self, key: ReminderKey, recipient: ActionRecipient, today: date, now: datetime
    ) -> ReminderStatus | None:
        """Claim one reminder and send it; None when another process claimed it."""
        engine = self._services.db.engine
        if not await storage.action_reminders.claim_action_reminder(engine, key, now):
            return None
        chat_id = cipher_for(self._services).decrypt(
            recipient.pseudonym, ContactPurpose.OFFICIAL, recipient.chat
        )
        if chat_id is None:
            status = ReminderStatus.FAILED
        else:
            outcome = await self._delivery.send(chat_id, self.message(recipient, today))
            status = _STATUS[outcome]
        if status is ReminderStatus.GONE:
            # Blocked or gone: the bot can never reach them, so it keeps nothing.
            await storage.contacts.delete_contact(
                engine, recipient.pseudonym, ContactPurpose.OFFICIAL
            )
        await storage.action_reminders.finish_action_reminder(engine, key, status)
        return status

    def message(self, recipient: ActionRecipient, today: date) -> Outgoing:
        """Return the reminder, worded by the days left (or late) today, with a button that
        opens the action (signed for this unit head)."""
        services = self._services
        language = recipient.language or services.settings.default_language
        action = recipient.action
        days = (action.due_on - today).days
        if days > 0:
            key = "action_reminder_soon"
        elif days == 0:
            key = "action_reminder_due"
        else:
            key = "action_reminder_overdue"
        text = services.messages.t(
            language,
            key,
            number=action.id,
            unit=html.escape(action.unit_name),
            what=html.escape(action.what),
            who=html.escape(action.who),
            due=action.due_on.isoformat(),
            days=abs(days),
            status=status_word(action.status, language),
        )
        data = callbacks.encode(
            services.secret, recipient.pseudonym, 0, SHOW_BUTTON, str(action.id)
        )
        label = services.messages.t(language, "action_reminder_button", number=action.id)
        return Outgoing(text=text, buttons=(((label, data),),))
