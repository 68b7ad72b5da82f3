"""Outreach (sosialisasi): employees who completed the internal survey may opt in, and admins
broadcast a text to the opted-in people of all or some units, each person once per broadcast.

The opt-in keeps the chat id encrypted in `contacts` (purpose `outreach`, see
`services.contacts`); every broadcast message carries a button to opt out again. Sends go
through `Delivery`, the bulk path, like reminders.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final

import storage
from services import contacts
from services.contacts import cipher_for
from services.context import Services
from services.errors import AdminError
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.pushes.fanout import Outcomes, claim_in_chunks, fan_out
from services.report_texts import TEXT_LIMIT
from storage.models import Broadcast, Contact, ContactPurpose, ReminderStatus

__all__ = [
    "BUTTON_PATTERN",
    "OPT_OUT_DATA",
    "Broadcast",
    "BroadcastReport",
    "draft_broadcast",
    "opt_in",
    "opt_in_data",
    "opt_out",
    "recipients_count",
    "send_broadcast",
]

logger = logging.getLogger(__name__)

OPT_IN_PREFIX: Final = "out.in."
OPT_OUT_DATA: Final = "out.off"
BUTTON_PATTERN: Final = r"^out\.(in\.\d{1,9}|off)$"
CONCURRENCY: Final = 16
PAGE: Final = 500
_STATUS: Final = {
    DeliveryOutcome.SENT: ReminderStatus.SENT,
    DeliveryOutcome.GONE: ReminderStatus.GONE,
    DeliveryOutcome.FAILED: ReminderStatus.FAILED,
}


def opt_in_data(unit_id: int) -> str:
    """Return the thank-you screen's opt-in button data (the unit lets admins target units)."""
    return f"{OPT_IN_PREFIX}{unit_id}"


async def opt_in(services: Services, user_id: int, data: str, language: str) -> bool:
    """Keep this person's chat id for outreach; False for data the bot did not issue."""
    unit_part = data.removeprefix(OPT_IN_PREFIX)
    if not unit_part.isdigit():
        return False
    unit = await storage.get_unit_by_id(services.db.engine, int(unit_part))
    if unit is None:
        return False
    await contacts.remember(
        services, user_id, ContactPurpose.OUTREACH, language=language, unit_id=unit.id
    )
    return True


async def opt_out(services: Services, user_id: int) -> bool:
    """Stop outreach messages to this person."""
    return await contacts.forget(services, user_id, ContactPurpose.OUTREACH)


async def draft_broadcast(
    services: Services, text: str, unit_codes: Sequence[str] = ()
) -> Broadcast:
    """Store a broadcast to confirm; AdminError names what is wrong with the text or units."""
    body = text.strip()
    if not body:
        raise AdminError("the broadcast text is empty")
    if len(body) > TEXT_LIMIT - 200:
        raise AdminError(
            f"the broadcast text is {len(body)} characters; at most {TEXT_LIMIT - 200}"
        )
    codes = [code.strip().upper() for code in unit_codes if code.strip()]
    known = {unit.code for unit in await storage.list_units(services.db.engine)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise AdminError(f"unknown unit code(s): {', '.join(unknown)}")
    return await storage.create_broadcast(services.db.engine, body, codes, services.clock())


@dataclass
class BroadcastReport:
    """What sending one broadcast did."""

    sent: int = 0
    gone: int = 0
    failed: int = 0
    taken: int = 0  # already sent (an earlier run, or another process)

    def add(self, status: ReminderStatus) -> None:
        """Count one person's outcome."""
        if status is ReminderStatus.SENT:
            self.sent += 1
        elif status is ReminderStatus.GONE:
            self.gone += 1
        else:
            self.failed += 1


async def recipients_count(services: Services, broadcast: Broadcast) -> int:
    """Return how many opted-in people the broadcast would reach."""
    count = 0
    async for page in _pages(services, broadcast):
        count += len(page)
    return count


async def _pages(services: Services, broadcast: Broadcast) -> AsyncIterator[list[Contact]]:
    """Yield the broadcast's opted-in contacts a page at a time (memory stays flat)."""
    engine = services.db.engine
    unit_ids: list[int] | None = None
    if broadcast.unit_codes:
        units = {unit.code: unit.id for unit in await storage.list_units(engine)}
        unit_ids = [units[code] for code in broadcast.unit_codes if code in units]
    after = ""
    while page := await storage.contacts_page(
        engine, ContactPurpose.OUTREACH, after=after, limit=PAGE, unit_ids=unit_ids
    ):
        yield page
        after = page[-1].pseudonym


async def send_broadcast(
    services: Services, delivery: Delivery, broadcast: Broadcast
) -> BroadcastReport:
    """Send a confirmed broadcast to every opted-in person it targets, each once."""
    if not broadcast.confirmed:
        raise AdminError("the broadcast is not confirmed")
    engine = services.db.engine
    report = BroadcastReport()

    async def claim(pseudonyms: list[str]) -> set[str]:
        return await storage.claim_broadcasts(engine, broadcast.id, pseudonyms)

    async def write(batch: dict[str, ReminderStatus]) -> None:
        await storage.finish_broadcasts(engine, broadcast.id, batch)

    def taken(count: int) -> None:
        report.taken += count

    outcomes = Outcomes(write)

    async def one(contact: Contact) -> None:
        chat_id = cipher_for(services).decrypt(
            contact.pseudonym, ContactPurpose.OUTREACH, contact.chat
        )
        status = ReminderStatus.FAILED
        if chat_id is not None:
            language = contact.language or services.settings.default_language
            stop = services.messages.t(language, "btn_outreach_stop")
            text = html.escape(broadcast.text)  # the admin's words, never markup
            item = Outgoing(text=text, buttons=(((stop, OPT_OUT_DATA),),))
            status = _STATUS[await delivery.send(chat_id, item)]
        if status is ReminderStatus.GONE:
            await storage.delete_contact(engine, contact.pseudonym)
        report.add(status)
        await outcomes.add(contact.pseudonym, status)

    try:
        people = claim_in_chunks(_pages(services, broadcast), _pseudonym, claim, taken=taken)
        await fan_out(people, one, concurrency=CONCURRENCY)
    finally:
        await outcomes.flush()
    logger.info(
        "broadcast %d: %d sent, %d gone, %d failed, %d already sent",
        broadcast.id,
        report.sent,
        report.gone,
        report.failed,
        report.taken,
    )
    return report


def _pseudonym(contact: Contact) -> str:
    return contact.pseudonym
