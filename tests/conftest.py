"""Shared fixtures: storage (SQLite and PostgreSQL) and the end-to-end sandbox harness."""

import os

# PTB 22 warns when RetryAfter.retry_after is read as seconds; opt in to timedelta values.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from tests.e2e_fixtures import *  # noqa: F403
from tests.storage_fixtures import *  # noqa: F403
