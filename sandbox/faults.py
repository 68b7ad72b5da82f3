"""Injected Bot API failures: which call is hit (seeded, so a run repeats) and how it fails."""

from __future__ import annotations

import asyncio
import contextlib
import random

from sandbox.models import Drop, Fault
from sandbox.rules import fault_error
from sandbox.world import World

__all__ = ["FaultPlan"]


class FaultPlan:
    """The faults in force, checked in the order they were injected."""

    def __init__(self, seed: int | None = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        """Restart the random choices from `seed` (None: unpredictable)."""
        self._rng = random.Random(seed)

    def add(
        self,
        method: str | tuple[str, ...] | None,
        status: int | None,
        *,
        retry_after: int | None,
        times: int | None,
        delay: float,
        chat_id: int | None,
        probability: float,
        drop: Drop | None,
    ) -> Fault:
        """Add a fault (see `SandboxServer.inject_fault`)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability is between 0 and 1")
        fault = Fault(
            method,
            status,
            retry_after,
            times,
            delay,
            chat_id,
            probability=probability,
            drop=drop,
        )
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def take(self, method: str, chat_id: int | str | None) -> Fault | None:
        """Return the fault that hits this call, if any, and count the hit."""
        self._faults = [f for f in self._faults if not f.exhausted]
        for fault in self._faults:
            if fault.method is None and method.lower() == "getupdates":
                continue  # Faulting every long poll would stop the bot; name it to mean it.
            if not fault.matches(method, chat_id):
                continue
            # One draw per matching fault and call: the sequence depends only on the calls.
            if self._rng.random() < fault.probability:
                fault.hits += 1
                return fault
        return None


async def hold_request(world: World, fault: Fault) -> None:
    """Wait out a fault's delay (cut short when the server stops)."""
    if fault.delay <= 0:
        return
    with contextlib.suppress(TimeoutError):  # not wait_for: see SandboxChat.wait_bot_activity
        async with asyncio.timeout(fault.delay):
            await world.stopped.wait()


def raise_for(fault: Fault) -> None:
    """Raise the API error a fault answers with, if it has a status."""
    if fault.status is not None:
        raise fault_error(fault.status, fault.retry_after)
