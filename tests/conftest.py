"""Shared fixtures: storage (SQLite and PostgreSQL) and the end-to-end sandbox harness."""

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Timing is for benchmarks, not tests: no per-example deadline on a busy CI machine.
settings.register_profile("spibot", deadline=None)
settings.load_profile("spibot")

# PTB 22 warns when RetryAfter.retry_after is read as seconds; opt in to timedelta values.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from tests.e2e_fixtures import *  # noqa: E402, F403
from tests.miniapp_fixtures import *  # noqa: E402, F403
from tests.storage_fixtures import *  # noqa: E402, F403


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each CLI call is its own process in real life: undo what a command did to logging."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
