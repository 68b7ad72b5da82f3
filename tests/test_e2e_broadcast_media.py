"""End to end through the sandbox: broadcasts with a picture, from chat and from the CLI.

An admin on a phone either sends a photo captioned `/siaran TEXT`, or types `/siaran TEXT`
and then sends the photo; the preview shows the picture as people will get it, then asks.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from sandbox import SandboxUser
from sandbox.demo import SANDBOX_TOKEN
from sandbox.models import ApiCall, SentMessage
from services.reach.outreach import OPT_OUT_DATA
from services.settings import Settings
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_inspectorate import ADMIN, say, tap
from tests.test_e2e_outreach import completed, opt_in

pytestmark = pytest.mark.e2e

NEWS = "Sosialisasi gratifikasi"
LONG = f"{NEWS}: " + "Hindari gratifikasi dalam layanan publik. " * 40  # ~1,700 characters


def png(width: int = 320, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def two_opted_in(h: Harness) -> tuple[SandboxUser, SandboxUser]:
    dinkes = await completed(h, Group.INTERNAL, "DINKES", 11)
    other = await completed(h, Group.INTERNAL, "BAPPEDA", 12)
    await opt_in(h, dinkes)
    await opt_in(h, other)
    return dinkes, other


def uploaded(call: ApiCall) -> bool:
    """Tell whether a sendPhoto call uploaded bytes (rather than naming a file id)."""
    return str(call.params.get("photo", "")).startswith("<upload")


def received(user: SandboxUser) -> list[SentMessage]:
    """What the broadcasts brought: messages after the opt-in confirmation."""
    messages = user.chat.messages
    start = next(i for i, m in enumerate(messages) if "info sosialisasi" in m.plain_text)
    return messages[start + 1 :]


async def send_photo(h: Harness, user: SandboxUser, caption: str | None = None) -> SentMessage:
    await user.send_photo(caption=caption)
    return await reply(user)


async def confirm(h: Harness, admin: SandboxUser, preview: SentMessage, people: list[SandboxUser]):
    """Tap the preview's Yes and wait until each person got something."""
    assert "sedang dikirim" in await tap(h, admin, preview, 0)
    await h.sandbox.wait_for(lambda: all(received(p) for p in people), timeout=10)
    await h.sandbox.wait_for(lambda: "Siaran selesai" in admin.chat.messages[-1].plain_text)
    await asyncio.sleep(0.1)


async def test_photo_with_caption_goes_once_to_each_with_the_opt_out(harness: Harness) -> None:
    dinkes, other = await two_opted_in(harness)
    admin = harness.user(user_id=ADMIN)
    question = await send_photo(harness, admin, f"/siaran {NEWS} minggu ini")
    picture = admin.chat.messages[-2]
    # The preview is the picture as people will see it (no opt-out button), then the question.
    assert picture.photo is not None
    assert picture.plain_text == f"{NEWS} minggu ini"
    assert picture.flat_buttons == []
    assert "untuk 2 orang (semua unit)" in question.plain_text
    await confirm(harness, admin, question, [dinkes, other])
    for person in (dinkes, other):
        (message,) = received(person)
        assert message.photo is not None
        assert message.plain_text == f"{NEWS} minggu ini"
        assert [b.data for b in message.flat_buttons] == [OPT_OUT_DATA]
    # Telegram's file id of the admin's photo is sent: no bytes uploaded per person.
    assert not any(uploaded(call) for call in harness.sandbox.calls("sendPhoto"))
    # A double tap on Yes sends nothing more.
    await admin.tap_raw(question.message_id, question.flat_buttons[0].data or "")
    await reply(admin)
    assert [len(received(p)) for p in (dinkes, other)] == [1, 1]


async def test_text_then_photo_replaces_the_preview_and_only_the_new_one_sends(
    harness: Harness,
) -> None:
    dinkes, other = await two_opted_in(harness)
    admin = harness.user(user_id=ADMIN)
    first = await say(admin, "siaran", f"unit=DINKES {NEWS}")
    assert "kirim fotonya sekarang" in first.plain_text
    second = await send_photo(harness, admin)
    assert admin.chat.messages[-2].photo is not None
    assert admin.chat.messages[-2].plain_text == NEWS  # the typed text became the caption
    assert "untuk 1 orang (DINKES)" in second.plain_text
    # The first preview's Yes now does nothing.
    assert "tidak berlaku" in await tap(harness, admin, first, 0)
    assert received(dinkes) == []
    await confirm(harness, admin, second, [dinkes])
    assert [len(received(dinkes)), len(received(other))] == [1, 0]
    assert received(dinkes)[0].photo is not None


async def test_a_caption_on_the_later_photo_replaces_the_text(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    await say(admin, "siaran", "teks lama")
    await send_photo(harness, admin, "teks baru")
    assert admin.chat.messages[-2].plain_text == "teks baru"


async def test_text_longer_than_a_caption_goes_as_photo_then_text(harness: Harness) -> None:
    dinkes, other = await two_opted_in(harness)
    admin = harness.user(user_id=ADMIN)
    await say(admin, "siaran", LONG)
    question = await send_photo(harness, admin)
    picture, text = admin.chat.messages[-3], admin.chat.messages[-2]
    assert picture.photo is not None
    assert picture.plain_text == ""
    assert text.plain_text == LONG.strip()
    assert "lebih dari 1.024 karakter" in question.plain_text
    await confirm(harness, admin, question, [dinkes, other])
    await harness.sandbox.wait_for(lambda: all(len(received(p)) == 2 for p in (dinkes, other)))
    for person in (dinkes, other):
        photo, words = received(person)
        assert photo.photo is not None
        assert photo.flat_buttons == []
        assert words.plain_text == LONG.strip()
        assert [b.data for b in words.flat_buttons] == [OPT_OUT_DATA]


async def test_cancel_drops_the_draft_and_a_stray_photo_gets_a_hint(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    assert "keterangan /siaran TEKS" in (await send_photo(harness, admin)).plain_text
    preview = await say(admin, "siaran", NEWS)
    yes = preview.flat_buttons[0].data or ""
    assert "Dibatalkan" in await tap(harness, admin, preview, 1)
    # Cancelled: a photo now starts nothing, and the old Yes (a replayed tap) is dead.
    assert "keterangan /siaran TEKS" in (await send_photo(harness, admin)).plain_text
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(preview.message_id, yes)
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    await reply(admin)
    assert "tidak berlaku" in admin.chat.message(preview.message_id).plain_text
    # A photo captioned with only the command: the picture goes alone.
    question = await send_photo(harness, admin, "/broadcast")
    assert admin.chat.messages[-2].photo is not None
    assert "untuk 0 orang" in question.plain_text
    # A draft older than 30 minutes takes no photo.
    await say(admin, "siaran", NEWS)
    harness.clock.advance(minutes=31)
    assert "keterangan /siaran TEKS" in (await send_photo(harness, admin)).plain_text


async def test_others_photos_are_refused_or_left_to_the_survey(harness: Harness) -> None:
    stranger = harness.user()
    answer = await send_photo(harness, stranger, f"/siaran {NEWS}")
    assert "hanya untuk admin" in answer.plain_text
    plain = await send_photo(harness, stranger)
    assert "hanya untuk admin" not in plain.plain_text
    assert "keterangan /siaran" not in plain.plain_text
    # In a group, the captioned command is refused like the typed one.
    admin = harness.user(user_id=ADMIN)
    group = harness.sandbox.group(-100_777, "Inspektorat", privacy_mode=False)
    await admin.send_photo(caption=f"/siaran {NEWS}", chat=group)
    await harness.sandbox.wait_for(lambda: group.messages)
    assert "pesan pribadi" in group.messages[-1].plain_text


async def test_spibot_broadcast_with_a_photo_uploads_it_once(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dinkes, other = await two_opted_in(harness)
    settings = harness.settings
    assert settings.spibot_secret is not None
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "SPIBOT_SECRET": settings.spibot_secret.get_secret_value(),
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
    }.items():
        monkeypatch.setenv(name, value)
    text, picture = tmp_path / "msg.md", tmp_path / "poster.png"
    text.write_text(f"{NEWS}: Senin 09.00 di aula.\n", encoding="utf-8")
    picture.write_bytes(png())
    argv = ["broadcast", "--file", str(text), "--photo", str(picture), "--yes"]
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "[picture: " in out
    assert "PNG 320x200 px" in out
    assert "with the text below as its caption" in out
    assert "sent 2," in out
    await harness.sandbox.wait_for(lambda: all(received(p) for p in (dinkes, other)))
    for person in (dinkes, other):
        (message,) = received(person)
        assert message.photo is not None
        assert message.plain_text == f"{NEWS}: Senin 09.00 di aula."
    uploads = [call for call in harness.sandbox.calls("sendPhoto") if uploaded(call)]
    assert len(uploads) == 1  # the second person got Telegram's file id of the first upload
