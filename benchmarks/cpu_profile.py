"""Where a bot process spends its CPU: a SIGPROF sampler around the real entry point.

`python -m benchmarks.cpu_profile OUT.json BOT-ARGS...` runs `spibot BOT-ARGS...` (the same
`bot.cli.main` as `python -m bot`) with a CPU-time sampler: `setitimer(ITIMER_PROF)` fires
every `SPIBOT_PROFILE_INTERVAL` seconds of CPU the process used (all threads, user and
system), and the handler records the Python stack the main thread is on. Wall-clock samplers
(py-spy's default) also count the time the loop waits for the network, which on a busy
2-core machine says more about the neighbours than about the bot; this one only ticks while
the process burns CPU. Time in C code (the JSON decoder, a driver's protocol, the kernel's
side of a socket call) is charged to the Python function that called it.

Samples are counted between `SIGUSR1` (start: after the warm-up) and `SIGUSR2` (stop), so the
benchmark decides the window; at the stop the stacks are written to OUT.json as
`{"interval": s, "samples": n, "stacks": [[count, [frame, ...]], ...]}`, each frame
`"path:function"`, outermost first. `buckets()` sorts them into the tables of
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Final

__all__ = ["SELF_BUCKETS", "TAP_BUCKETS", "buckets", "install"]

ROOT: Final = Path(__file__).resolve().parent.parent
INTERVAL_ENV: Final = "SPIBOT_PROFILE_INTERVAL"
DEFAULT_INTERVAL: Final = 0.001  # 1 ms of CPU: ~1,000 samples per busy second, ~3% overhead
_MAX_DEPTH: Final = 80

_stacks: Counter[tuple[CodeType, ...]] = Counter()


def _sample(_signum: int, frame: FrameType | None) -> None:
    codes: list[CodeType] = []
    while frame is not None and len(codes) < _MAX_DEPTH:
        codes.append(frame.f_code)
        frame = frame.f_back
    _stacks[tuple(codes)] += 1


def _name(code: CodeType) -> str:
    path = code.co_filename
    try:
        path = str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        for prefix in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"]):
            if path.startswith(prefix):
                path = path[len(prefix) :].lstrip("/")
                break
    return f"{path}:{code.co_qualname}"


def _dump(out: Path, interval: float) -> None:
    names: dict[CodeType, str] = {}
    stacks = [
        [count, [names.setdefault(c, _name(c)) for c in reversed(codes)]]
        for codes, count in _stacks.most_common()
    ]
    payload = {"interval": interval, "samples": sum(_stacks.values()), "stacks": stacks}
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(payload), encoding="utf-8")
    partial.rename(out)  # whole or not at all: the benchmark waits for this name


def install(out: Path, interval: float = DEFAULT_INTERVAL) -> None:
    """Sample from SIGUSR1 to SIGUSR2, then write `out`.

    The timer runs only inside that window: each signal also wakes the event loop (asyncio's
    wakeup fd), which is overhead the profile should not carry outside the window.
    """

    def switch(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            _stacks.clear()
            signal.setitimer(signal.ITIMER_PROF, interval, interval)
        else:
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
            _dump(out, interval)

    signal.signal(signal.SIGPROF, _sample)
    signal.signal(signal.SIGUSR1, switch)
    signal.signal(signal.SIGUSR2, switch)


# -- sorting samples into buckets ---------------------------------------------------------------

# Self time: the innermost frame's file decides (first match wins).
SELF_BUCKETS: Final[Sequence[tuple[str, tuple[str, ...]]]] = (
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("DB driver (asyncpg, sqlite3, aiosqlite)", ("asyncpg/", "sqlite3/", "aiosqlite/")),
    ("HTTP client (aiohttp, yarl, multidict)", ("aiohttp/", "yarl/", "multidict/")),
    ("HTTP server (uvicorn, starlette, h11)", ("uvicorn/", "starlette/", "h11/", "httptools/")),
    ("PTB (telegram)", ("telegram/",)),
    ("JSON", ("json/",)),
    # Includes C code called back from the loop: asyncpg's protocol, aiohttp's parser.
    ("event loop (asyncio, and C callbacks it runs)", ("asyncio/", "selectors.py")),
    ("logging", ("logging/",)),
    ("storage/ (our SQL code)", ("storage/",)),
    ("services/, handlers/, surveys/", ("services/", "handlers/", "surveys/", "scoring/")),
    ("bot/ (transport, processor, webhook)", ("bot/",)),
)

# Inclusive: a sample counts for a step when its stack holds a frame matching each of the
# step's patterns ("path:function" substrings; a tuple of alternatives matches any of them),
# so steps overlap; each says what the step costs with everything under it.
TAP_BUCKETS: Final[Sequence[tuple[str, tuple[str | tuple[str, ...], ...]]]] = (
    (
        "tap path in storage (turns.py, sessions.py, with SQLAlchemy and driver)",
        (("storage/turns.py:", "storage/sessions.py:"),),
    ),
    ("webhook ledger (storage/updates.py)", ("storage/updates.py:",)),
    ("all of storage/ (the tap path included)", ("storage/",)),
    ("SQLAlchemy's pool: checkout and return", ("sqlalchemy/pool/",)),
    ("Bot API calls (PTB request, bot/http.py, aiohttp)", ("telegram/_bot.py:Bot._do_post",)),
    ("decoding updates (Update.de_json)", ("telegram/_update.py:Update.de_json",)),
    (
        "decoding sent messages (sendMessage's answer)",
        ("telegram/_bot.py:Bot._send_message", "telegram/_message.py:Message.de_json"),
    ),
    ("webhook endpoint (bot/webhook.py, with the handling)", ("bot/webhook.py:",)),
    ("respondent logic (services/respondent)", ("services/respondent/",)),
    ("survey handlers (handlers/respondent.py)", ("handlers/respondent.py:",)),
)


def _matches(frame: str, prefixes: Iterable[str]) -> bool:
    return any(p in frame for p in prefixes)


def _on_stack(frames: Sequence[str], pattern: str | tuple[str, ...]) -> bool:
    alternatives = (pattern,) if isinstance(pattern, str) else pattern
    return any(_matches(frame, alternatives) for frame in frames)


def buckets(profile: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Return each bucket's share of the samples: {"self": {...}, "inclusive": {...}}."""
    total = profile["samples"] or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for count, frames in profile["stacks"]:
        inner = frames[-1] if frames else ""
        name = next(
            (label for label, prefixes in SELF_BUCKETS if _matches(inner, prefixes)),
            "other (stdlib, PTB's internals, ...)",
        )
        own[name] += count
        for label, patterns in TAP_BUCKETS:
            if all(_on_stack(frames, pattern) for pattern in patterns):
                inclusive[label] += count
    return {
        "self": {k: round(v / total, 3) for k, v in own.most_common()},
        "inclusive": {k: round(inclusive[k] / total, 3) for k, _ in TAP_BUCKETS},
    }


def main(argv: list[str]) -> int:
    """Run the bot's CLI under the sampler."""
    out, bot_args = Path(argv[0]), argv[1:]
    install(out, float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)))
    from bot.cli import main as spibot

    return spibot(bot_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
