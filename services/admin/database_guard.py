"""What the running bot does for its database's privacy and safety beside answering people.

Two things, for the bot's lifetime: it holds the database (`storage.backup.DatabaseHold`), so
`spibot db restore` refuses to replace it underneath a running bot; and it runs the scrubber
(`storage.anonymity.Scrubber`) that wipes deleted survey state (a submitted, cancelled or
expired survey's session and drafts) from the database files within SCRUB_DELAY_SECONDS
plus retries, well inside the minute docs/privacy.md promises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from services.context import Services
from storage.anonymity import Scrubber
from storage.backup import DatabaseHold
from storage.errors import StorageError

__all__ = ["DatabaseGuard"]

logger = logging.getLogger(__name__)

# How often the bot checks that it still holds the database (a PostgreSQL restart drops a
# session lock with its connection): a restore started in that gap is the risk it closes.
HOLD_CHECK_SECONDS: Final = 30.0


class DatabaseGuard:
    """Holds the database and scrubs its files while the bot runs."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._hold: DatabaseHold | None = None
        self._keeper: asyncio.Task[None] | None = None
        self.scrubber: Scrubber | None = None

    async def start(self) -> None:
        """Hold the database (StorageError while a restore replaces it) and start scrubbing."""
        engine = self._services.db.engine
        if self._hold is None:
            self._hold = await DatabaseHold.take(engine)
            self._keeper = asyncio.get_running_loop().create_task(self._keep(), name="db-hold")
        if self.scrubber is None:
            self.scrubber = Scrubber(engine, delay=self._services.settings.scrub_delay_seconds)
            self.scrubber.start()

    async def stop(self) -> None:
        """Stop scrubbing and let go of the database (at shutdown)."""
        if self.scrubber is not None:
            scrubber, self.scrubber = self.scrubber, None
            await scrubber.stop()
        if self._keeper is not None:
            keeper, self._keeper = self._keeper, None
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if self._hold is not None:
            hold, self._hold = self._hold, None
            await hold.release()

    async def check_hold(self) -> None:
        """Take the database hold again if it was lost (tests call this instead of waiting)."""
        if self._hold is None:
            return
        try:
            if await self._hold.keep(self._services.db.engine):
                logger.warning("the database hold was lost (a server restart?) and taken again")
        except StorageError:
            logger.error("the database hold was lost and a restore holds the database now")
        except Exception:  # the next round tries again; the bot keeps answering meanwhile
            logger.exception("could not check the database hold")

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(HOLD_CHECK_SECONDS)
            await self.check_hold()

    async def clean(self) -> None:
        """Return once every survey deleted so far is wiped from the files (tests wait here)."""
        if self.scrubber is not None:
            await self.scrubber.clean()
