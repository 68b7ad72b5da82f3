"""Physical row order that tells nothing: PostgreSQL heaps rewritten in random-key order.

PostgreSQL appends every new row version to its table's heap, so the physical order of
`responses` (each submission is an UPDATE, a new version), `answers`, `completions` (one row
per submitter, keyed by pseudonym) and `respondents` (first contact) follows time, and
someone holding a copy of the data files could rank-match who submitted when against which
response. SQLite does not have this
problem: those tables are WITHOUT ROWID, stored in primary-key order (see storage.schema).

`reshuffle_heaps` rewrites these heaps in the order of their primary keys (CLUSTER
... USING the primary key), which are random: response ids are random hex, pseudonyms keyed
hashes. After it, physical order holds no submission order; rows written since the last run
still do, so it runs regularly (see docs/deploy.md). CLUSTER holds an exclusive lock on each
table while it rewrites it: bot processes wait for it, briefly on a normal wave.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import write_transaction

__all__ = ["RESHUFFLED_TABLES", "reshuffle_heaps"]

logger = logging.getLogger(__name__)

# Table -> its primary key index (storage.schema's naming convention).
RESHUFFLED_TABLES: Final = {
    "respondents": "pk_respondents",
    "responses": "pk_responses",
    "answers": "pk_answers",
    "completions": "pk_completions",
}
# Any constant: one process at a time rewrites the heaps; the others skip their turn.
_RESHUFFLE_LOCK_KEY: Final = 0x5B1B11


async def reshuffle_heaps(engine: AsyncEngine) -> bool:
    """Rewrite the answer tables in random-key order; False when nothing was done.

    Nothing to do on SQLite (already in key order); on PostgreSQL False too when another
    process is rewriting them right now.
    """
    if engine.dialect.name != "postgresql":
        return False
    async with write_transaction(engine) as conn:
        locked = (
            await conn.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RESHUFFLE_LOCK_KEY}
            )
        ).scalar()
        if not locked:
            return False
        for table, index in RESHUFFLED_TABLES.items():
            # Names come from the constant above, never from input.
            await conn.execute(text(f'CLUSTER "{table}" USING "{index}"'))
    logger.info("answer tables rewritten in random-key order")
    return True
