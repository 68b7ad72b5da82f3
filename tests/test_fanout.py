"""The shared send pipeline of reminder rounds and broadcasts: no barrier between pages, a
bounded number in flight, claims a chunk at a time, outcomes written in batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.pushes.fanout import Outcomes, claim_in_chunks, fan_out
from storage.contacts import ReminderStatus


async def pages_of(*pages: list[str]) -> AsyncIterator[list[str]]:
    for page in pages:
        yield page


async def claim_all(keys: list[str]) -> set[str]:
    return set(keys)


def people(*pages: list[str]) -> AsyncIterator[str]:
    """The stream a round sends to: pages of people, each claimed (here: all won)."""
    return claim_in_chunks(pages_of(*pages), lambda p: p, claim_all, taken=lambda _n: None)


async def test_a_slow_send_does_not_hold_up_the_next_page() -> None:
    """The first page's slow send (a 429 being waited out) finishes only after the second
    page has started: with a barrier at the end of each page this would never happen."""
    second_page_started = asyncio.Event()
    done: list[str] = []

    async def work(item: str) -> None:
        if item == "a1":
            await second_page_started.wait()
        if item.startswith("b"):
            second_page_started.set()
        done.append(item)

    run = fan_out(people(["a1", "a2"], ["b1", "b2"]), work, concurrency=3)
    await asyncio.wait_for(run, timeout=5)
    assert sorted(done) == ["a1", "a2", "b1", "b2"]
    assert done.index("b1") < done.index("a1")


async def test_never_more_in_flight_than_the_concurrency() -> None:
    in_flight = 0
    peak = 0

    async def work(_item: str) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1

    items = [f"p{i}" for i in range(50)]
    await fan_out(people(items[:20], items[20:]), work, concurrency=4)
    assert peak == 4
    assert in_flight == 0


async def test_an_error_in_one_send_is_raised_and_stops_the_rest() -> None:
    started: list[str] = []

    async def work(item: str) -> None:
        started.append(item)
        if item == "p2":
            raise RuntimeError("database gone")
        await asyncio.sleep(0)

    with pytest.raises(ExceptionGroup) as raised:
        await fan_out(people([f"p{i}" for i in range(100)]), work, concurrency=2)
    assert raised.group_contains(RuntimeError, match="database gone")
    assert len(started) < 100


async def test_claims_go_a_chunk_at_a_time_and_others_claims_are_counted() -> None:
    claimed: list[list[str]] = []
    taken: list[int] = []

    async def claim(keys: list[str]) -> set[str]:
        claimed.append(keys)
        return {k for k in keys if k != "p3"}  # another process has p3

    page = [f"p{i}" for i in range(10)]
    stream = claim_in_chunks(pages_of(page), lambda p: p, claim, taken=taken.append, chunk=4)
    first = await anext(stream)
    # Only the chunk being sent is claimed: a crash now leaves four claimed, not the page.
    assert (first, claimed) == ("p0", [["p0", "p1", "p2", "p3"]])
    rest = [item async for item in stream]
    assert [first, *rest] == [p for p in page if p != "p3"]
    assert [len(c) for c in claimed] == [4, 4, 2]
    assert taken == [1]


async def test_outcomes_are_written_in_batches_and_flushed_at_the_end() -> None:
    written: list[dict[str, ReminderStatus]] = []

    async def write(batch: dict[str, ReminderStatus]) -> None:
        written.append(batch)

    outcomes = Outcomes(write, size=3)
    for i in range(7):
        await outcomes.add(f"p{i}", ReminderStatus.SENT if i % 2 else ReminderStatus.GONE)
    assert [len(b) for b in written] == [3, 3]
    await outcomes.flush()
    await outcomes.flush()  # nothing pending: no empty write
    assert [len(b) for b in written] == [3, 3, 1]
    assert written[0]["p0"] is ReminderStatus.GONE
