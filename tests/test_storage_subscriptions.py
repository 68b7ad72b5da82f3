"""Chat subscriptions: subscribe, re-subscribe, pause and unsubscribe."""

from __future__ import annotations

from datetime import timedelta

from storage.subscriptions import (
    get_subscription,
    list_subscriptions,
    pause_subscription,
    subscribe,
    unsubscribe,
)
from tests.storage_fixtures import NOW

ALICE = "a" * 64
BOB = "b" * 64


async def test_subscriptions(db):
    group_chat = -1001234567890  # supergroup ids need BIGINT
    first = await subscribe(db.engine, group_chat, "id", NOW)
    assert (first.chat_id, first.language, first.active, first.created_at) == (
        group_chat,
        "id",
        True,
        NOW,
    )
    await subscribe(db.engine, 42, "en", NOW)
    assert [s.chat_id for s in await list_subscriptions(db.engine)] == [group_chat, 42]

    assert await pause_subscription(db.engine, group_chat, "bot was removed from the chat")
    assert [s.chat_id for s in await list_subscriptions(db.engine)] == [42]
    paused = await get_subscription(db.engine, group_chat)
    assert paused is not None
    assert (paused.active, paused.paused_reason) == (False, "bot was removed from the chat")
    assert len(await list_subscriptions(db.engine, active_only=False)) == 2

    again = await subscribe(db.engine, group_chat, "en", NOW + timedelta(days=1))
    assert (again.id, again.active, again.paused_reason, again.language) == (
        first.id,
        True,
        None,
        "en",
    )
    assert again.created_at == NOW

    assert await unsubscribe(db.engine, 42)
    assert not await unsubscribe(db.engine, 42)
    assert not await pause_subscription(db.engine, 42, "gone")
    assert await get_subscription(db.engine, 42) is None
