"""Outreach (sosialisasi): employees who completed the internal survey may opt in, and admins
broadcast a text, optionally with a picture, to the opted-in people of all or some units,
each person once per broadcast.

The opt-in keeps the chat id encrypted in `contacts` (purpose `outreach`, see
`services.reach.contacts`); every broadcast message carries a button to opt out again. Sends go
through `Delivery`, the bulk path, like reminders.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final

import storage.broadcasts
import storage.contacts
import storage.units
from services import callbacks
from services.context import Services
from services.errors import AdminError
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.pushes.fanout import Outcomes, claim_in_chunks, fan_out
from services.reach import contacts
from services.reach.contacts import cipher_for
from services.reports import TEXT_LIMIT
from storage.broadcasts import Broadcast
from storage.contacts import Contact, ContactPurpose, ReminderStatus

__all__ = [
    "BUTTON_PATTERN",
    "OPT_OUT_DATA",
    "Broadcast",
    "BroadcastReport",
    "PhotoInfo",
    "broadcast_items",
    "caption_fits",
    "check_photo",
    "draft_broadcast",
    "opt_in",
    "opt_in_data",
    "opt_out",
    "recipients_count",
    "send_broadcast",
]

logger = logging.getLogger(__name__)

OPT_IN_PREFIX: Final = "out.in."  # the unsigned opt-in of old thank-you screens: refused
OPT_IN_ACTION: Final = "oi"  # the signed opt-in: services.callbacks, bound to the person
OPT_OUT_DATA: Final = "out.off"
BUTTON_PATTERN: Final = (
    r"^(out\.(in\.\d{1,9}|off)|\d{1,9}\." + OPT_IN_ACTION + r"\.\d{1,9}\.[A-Za-z0-9_-]+)$"
)
CONCURRENCY: Final = 16
PAGE: Final = 500
# Telegram's limits: captions (UTF-16 code units), and photos sent by upload.
CAPTION_LIMIT: Final = 1024
PHOTO_MAX_BYTES: Final = 10 * 1024 * 1024
PHOTO_MAX_SIDES: Final = 10_000
PHOTO_MAX_RATIO: Final = 20
PHOTO_FORMATS: Final = ("JPEG", "PNG", "WEBP")
_STATUS: Final = {
    DeliveryOutcome.SENT: ReminderStatus.SENT,
    DeliveryOutcome.GONE: ReminderStatus.GONE,
    DeliveryOutcome.FAILED: ReminderStatus.FAILED,
}


def opt_in_data(secret: bytes, pseudonym: str, unit_id: int) -> str:
    """Return the thank-you screen's opt-in button data, signed for this person like every
    button (`services.callbacks`); the unit lets admins target units."""
    return callbacks.encode(secret, pseudonym, 0, OPT_IN_ACTION, str(unit_id))


async def opt_in(services: Services, user_id: int, data: str, language: str) -> bool:
    """Keep this person's chat id for outreach; False for data the bot did not issue to them
    (forged, another person's, or an unsigned button of an old thank-you screen)."""
    pressed = callbacks.decode(services.secret, services.pseudonym(user_id), data)
    if pressed is None or pressed.action != OPT_IN_ACTION or not pressed.arg.isdigit():
        return False
    unit = await storage.units.get_unit_by_id(services.db.engine, int(pressed.arg))
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
    services: Services,
    text: str,
    unit_codes: Sequence[str] = (),
    *,
    author: str | None = None,
    photo: bytes | None = None,
    photo_file_id: str | None = None,
) -> Broadcast:
    """Store a broadcast to confirm; AdminError names what is wrong with the text or units.

    With a picture the text may be empty (the picture goes alone); `photo` bytes are checked
    against Telegram's limits for photos first.
    """
    body = text.strip()
    if photo is not None:
        check_photo(photo)
    if not body and photo is None and photo_file_id is None:
        raise AdminError("the broadcast text is empty")
    if len(body) > TEXT_LIMIT - 200:
        raise AdminError(
            f"the broadcast text is {len(body)} characters; at most {TEXT_LIMIT - 200}"
        )
    codes = [code.strip().upper() for code in unit_codes if code.strip()]
    known = {unit.code for unit in await storage.units.list_units(services.db.engine)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise AdminError(f"unknown unit code(s): {', '.join(unknown)}")
    return await storage.broadcasts.create_broadcast(
        services.db.engine,
        body,
        codes,
        services.clock(),
        author=author,
        photo=photo,
        photo_file_id=photo_file_id,
    )


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """What the picture of a broadcast is, for the preview."""

    width: int
    height: int
    kind: str  # JPEG, PNG, WEBP...
    size: int  # bytes


def check_photo(data: bytes) -> PhotoInfo:
    """Return what the picture is; AdminError when Telegram would refuse it as a photo."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise AdminError("the picture file is empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise AdminError(
            f"the picture is {len(data) / 1024**2:.1f} MB; Telegram takes photos up to "
            f"{PHOTO_MAX_BYTES // 1024**2} MB"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, kind = image.width, image.height, image.format or "?"
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise AdminError("the picture is not an image file (use a JPEG or PNG)") from exc
    if kind not in PHOTO_FORMATS:
        raise AdminError(f"the picture is {kind}; send a JPEG, PNG or WEBP")
    if width + height > PHOTO_MAX_SIDES or max(width, height) > PHOTO_MAX_RATIO * min(
        width, height
    ):
        raise AdminError(
            f"the picture is {width}x{height} px; Telegram wants width + height at most "
            f"{PHOTO_MAX_SIDES} and one side at most {PHOTO_MAX_RATIO} times the other"
        )
    return PhotoInfo(width, height, kind, len(data))


def caption_fits(text: str) -> bool:
    """Tell whether a text fits a photo's caption (Telegram counts UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2 <= CAPTION_LIMIT


def broadcast_items(
    broadcast: Broadcast, photo: bytes | str | None, stop: tuple[str, str] | None
) -> list[Outgoing]:
    """Return the message(s) a person receives: the text, the picture with the text as its
    caption, or (text longer than a caption) the picture and then the text.

    `stop` is the opt-out button (label, data) under the last message; None for a preview.
    """
    text = html.escape(broadcast.text)  # the admin's words, never markup
    buttons = ((stop,),) if stop is not None else ()
    if photo is None:
        return [Outgoing(text=text, buttons=buttons)]
    if not text:
        return [Outgoing(photo=photo, buttons=buttons)]
    if caption_fits(broadcast.text):
        return [Outgoing(photo=photo, caption=text, buttons=buttons)]
    return [Outgoing(photo=photo), Outgoing(text=text, buttons=buttons)]


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
        units = {unit.code: unit.id for unit in await storage.units.list_units(engine)}
        unit_ids = [units[code] for code in broadcast.unit_codes if code in units]
    after = ""
    while page := await storage.contacts.contacts_page(
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
        return await storage.broadcasts.claim_broadcasts(engine, broadcast.id, pseudonyms)

    async def write(batch: dict[str, ReminderStatus]) -> None:
        await storage.broadcasts.finish_broadcasts(engine, broadcast.id, batch)

    def taken(count: int) -> None:
        report.taken += count

    outcomes = Outcomes(write)
    # An uploaded picture is sent to the first person alone; Telegram's file id for it then
    # serves everyone else (and later runs), so the bytes go up once.
    photo: bytes | str | None = broadcast.photo_file_id or broadcast.photo
    upload = asyncio.Lock()

    async def deliver(chat_id: int, language: str) -> ReminderStatus:
        nonlocal photo
        stop = (services.messages.t(language, "btn_outreach_stop"), OPT_OUT_DATA)
        items = broadcast_items(broadcast, photo, stop)
        outcome, sent = await delivery.send_returning(chat_id, items[0])
        if isinstance(photo, bytes) and sent is not None and sent.photo:
            photo = sent.photo[-1].file_id
            await storage.broadcasts.remember_photo_file_id(engine, broadcast.id, photo)
        if outcome is DeliveryOutcome.SENT and len(items) > 1:
            outcome = await delivery.send_all(chat_id, items[1:])
        return _STATUS[outcome]

    async def one(contact: Contact) -> None:
        chat_id = cipher_for(services).decrypt(
            contact.pseudonym, ContactPurpose.OUTREACH, contact.chat
        )
        status = ReminderStatus.FAILED
        if chat_id is not None:
            language = contact.language or services.settings.default_language
            if isinstance(photo, bytes):
                async with upload:  # the others wait for the first upload's file id
                    status = await deliver(chat_id, language)
            else:
                status = await deliver(chat_id, language)
        if status is ReminderStatus.GONE:
            await storage.contacts.delete_contact(engine, contact.pseudonym)
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
