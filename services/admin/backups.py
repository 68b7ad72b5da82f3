"""The bot's own nightly backup: once a night after BACKUP_TIME, with retention.

The backup folder is the state: a night is done when a dated backup taken after that
night's BACKUP_TIME is there, so a restart (or a night the bot was down) makes it up at the
next tick, and a second process sharing the folder sees the file and does nothing (two
processes racing both write a complete, consistent copy; the rename keeps one per name).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from pathlib import Path

from services.settings import Settings
from storage.backup import backup_database, backup_moment, backup_name, prune_backups
from storage.errors import StorageError

__all__ = ["NightlyBackup"]

logger = logging.getLogger(__name__)


class NightlyBackup:
    """Decides whether tonight's backup is due and takes it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def enabled(self) -> bool:
        """Tell whether BACKUP_DIR turns nightly backups on."""
        return self._settings.backup_dir is not None

    def last_due(self, now: datetime) -> datetime:
        """Return the latest BACKUP_TIME (local) at or before `now`."""
        local = now.astimezone(self._settings.zone)
        hours, minutes = (int(part) for part in self._settings.backup_time.split(":"))
        moment = datetime.combine(local.date(), time(hours, minutes), tzinfo=local.tzinfo)
        return moment if moment <= local else moment - timedelta(days=1)

    def _newest(self, folder: Path) -> datetime | None:
        moments = [m for p in folder.iterdir() if (m := backup_moment(p)) is not None]
        return max(moments, default=None)

    async def tick(self, now: datetime) -> Path | None:
        """Take tonight's backup if it is due; return its path (None: nothing to do)."""
        folder = self._settings.backup_dir
        if folder is None:
            return None
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        newest = await asyncio.to_thread(self._newest, folder)
        if newest is not None and newest >= self.last_due(now):
            return None
        url = self._settings.database_url
        target = folder / backup_name(url, now)
        try:
            result = await asyncio.to_thread(backup_database, url, target)
        except StorageError as exc:
            logger.error("nightly backup failed: %s", exc)
            return None
        if not result.done:
            logger.error("nightly backup needs %s, which is not installed", result.command[0])
            return None
        removed = await asyncio.to_thread(prune_backups, folder, self._settings.backup_keep)
        logger.info(
            "nightly backup written (%d bytes); %d older removed", result.size_bytes, len(removed)
        )
        return result.path
