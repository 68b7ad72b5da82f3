"""Run the bot with the respondent's SQL through the SQLAlchemy Core reference, for an A/B.

`python -m benchmarks.tap_core BOT-ARGS...` is `python -m bot BOT-ARGS...` with every start,
tap, typed answer and submission on the Core statements of `storage.turns` and
`storage.sessions` instead of `storage.tap_sqlite` / `storage.tap_postgres` (as the bot ran
before issue 23): `benchmarks.bench_tap_driver` runs it beside the bot as shipped.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run the bot's CLI with the driver-level respondent SQL switched off."""
    from storage import sessions, turns

    # Both modules ask `driver(engine)` which database module to use; None means Core.
    sessions.driver = turns.driver = lambda engine: None  # type: ignore[assignment]
    from bot.cli import main as spibot

    return spibot(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
