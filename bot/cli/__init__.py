"""The `spibot` command line. Parses arguments and calls the library; heavy imports are lazy
so that `spibot --help` stays fast."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bot.cli.common import configure_logging, settings_from

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]

# Exit codes: 0 done, 2 an expected error told in one line (like argparse's own usage errors),
# 130 interrupted, 141 the reader of our output went away (128 + SIGPIPE, as a shell reports).
EXIT_ERROR: Final = 2
EXIT_INTERRUPTED: Final = 130
EXIT_BROKEN_PIPE: Final = 141


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_ERROR


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot with long polling, or behind a webhook with `--webhook`."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.runner import run_polling, tune_malloc
    from services.errors import AdminError
    from services.settings import ConfigError
    from storage.db import upgrade

    tune_malloc()  # before any thread runs (docs/benchmarks.md: memory)
    settings = settings_from(args)
    configure_logging(settings.log_level, settings.log_format)
    settings.require_token()
    settings.secret_bytes()
    if args.webhook:
        settings.require_webhook_secret()  # before touching the database: fail fast
    asyncio.run(upgrade(settings.database_url))
    # One getMe first: a refused token or an unreachable Bot API is then one line, not PTB's
    # logged traceback from inside run_polling. Once polling runs, PTB retries by itself.
    try:
        asyncio.run(_check_bot_api(settings))
        if args.webhook:
            from bot.webhook import run_webhook

            run_webhook(build_application(settings, webhook=True), settings)
        else:
            run_polling(build_application(settings))
    except InvalidToken as exc:
        raise ConfigError(f"TELEGRAM_BOT_TOKEN: the Bot API refused it ({exc})") from None
    except NetworkError as exc:
        where = settings.telegram_api_base_url
        raise AdminError(f"cannot reach the Bot API at {where}: {exc}") from None
    return 0


async def _check_bot_api(settings: Settings) -> None:
    """Ask the Bot API who we are (getMe); raises InvalidToken or NetworkError."""
    from telegram import Bot

    bot = Bot(
        settings.require_token(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.file_base_url,
    )
    async with bot:  # initialize() calls getMe
        pass


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the offline demo against the sandbox Bot API."""
    from bot.runner import sandbox_bot
    from sandbox.demo import DemoOptions, run_demo

    configure_logging("WARNING")
    options = DemoOptions(
        out=Path(args.out),
        respondents=args.respondents,
        seed=args.seed,
        as_json=args.json,
        serve=args.serve,
    )
    return asyncio.run(run_demo(options, sandbox_bot))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply database migrations."""
    from storage.db import upgrade

    settings = settings_from(args)
    asyncio.run(upgrade(settings.database_url))
    print(f"database is up to date ({_redact(settings.database_url)})")
    return 0


def cmd_db_reshuffle(args: argparse.Namespace) -> int:
    """Rewrite the answer tables in random-key order (PostgreSQL)."""
    from storage.anonymity import reshuffle_heaps
    from storage.db import Database

    settings = settings_from(args)

    async def work() -> bool:
        async with Database(settings.database_url) as db:
            return await reshuffle_heaps(db.engine)

    if asyncio.run(work()):
        print("answer tables rewritten in random-key order")
    else:
        print("nothing to do (SQLite keeps them in key order, or another process is on it)")
    return 0


def cmd_survey_validate(args: argparse.Namespace) -> int:
    """Validate questionnaire files."""
    from surveys import QuestionnaireError, load_questionnaire

    failed = 0
    for name in args.files:
        try:
            q = load_questionnaire(Path(name))
        except QuestionnaireError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
        except OSError as exc:
            print(f"error: {name}: cannot read: {exc.strerror}", file=sys.stderr)
            failed += 1
        else:
            from bot.cli.surveys import print_warnings

            print_warnings(q, name)
            print(f"{name}: ok ({q.id} v{q.version}, {q.group}, {len(q.questions)} questions)")
    return EXIT_ERROR if failed else 0


def cmd_survey_load(args: argparse.Namespace) -> int:
    """Validate a questionnaire file and store it as a new version."""
    from surveys import QuestionnaireError, load_questionnaire

    try:
        q = load_questionnaire(Path(args.file))
    except QuestionnaireError as exc:
        return _error(f"error: {exc}")
    except OSError as exc:
        return _error(f"error: {args.file}: cannot read: {exc.strerror}")
    from bot.cli.surveys import print_warnings

    print_warnings(q, args.file)
    settings = settings_from(args)

    async def store() -> int:
        from services.admin import store_questionnaire
        from services.context import utc_now
        from storage.db import Database

        async with Database(settings.database_url) as db:
            origin = f"yaml: {Path(args.file).name}"
            stored = await store_questionnaire(db.engine, q, utc_now(), origin)
            return stored.id

    qid = asyncio.run(store())
    print(f"stored {q.id} v{q.version} ({q.group}) as questionnaire #{qid}")
    return 0


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


def _positive_int(text: str) -> int:
    """Parse a whole number of at least 1 (argparse turns the error into a usage line)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="spibot", description="Integrity survey (SPI) bot for Telegram."
    )
    parser.add_argument("--env-file", help="settings file (default: .env in this folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the bot (long polling, or --webhook)")
    p.add_argument(
        "--webhook",
        action="store_true",
        help="serve the Bot API webhook on WEBHOOK_LISTEN instead of polling "
        "(needs WEBHOOK_SECRET; several processes may share one PostgreSQL)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="simulate a survey wave offline, against the sandbox Bot API")
    p.add_argument("--out", default="demo-out", help="folder for the demo database and outputs")
    p.add_argument(
        "--respondents",
        type=_positive_int,
        default=300,
        help="simulated respondents (default 300)",
    )
    p.add_argument("--seed", type=int, default=2024, help="random seed (repeatable runs)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--serve",
        action="store_true",
        help="after the wave, keep the sandbox, bot and Mini App dashboard running and print a "
        "127.0.0.1 address that opens the dashboard as the demo's Bupati, until Ctrl-C",
    )
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    p = db.add_parser("upgrade", help="apply migrations")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser(
        "reshuffle",
        help="PostgreSQL: rewrite the answer tables so physical order hides submission order",
    )
    p.set_defaults(func=cmd_db_reshuffle)
    from bot.cli.backups import add_backup_commands

    add_backup_commands(db)

    survey = sub.add_parser("survey", help="questionnaires").add_subparsers(
        dest="survey_command", required=True, metavar="ACTION"
    )
    p = survey.add_parser("validate", help="check questionnaire YAML files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_survey_validate)
    p = survey.add_parser("load", help="store a questionnaire version in the database")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_survey_load)
    from bot.cli.actions import add_action_commands
    from bot.cli.admin import add_admin_commands
    from bot.cli.comments import add_comment_commands
    from bot.cli.exports import add_export_commands
    from bot.cli.grants import add_grant_commands
    from bot.cli.insight import add_insight_commands
    from bot.cli.integrity import add_quality_commands
    from bot.cli.reach import add_reach_commands
    from bot.cli.scores import add_score_commands
    from bot.cli.surveys import add_survey_commands

    add_survey_commands(survey)
    add_export_commands(sub)
    add_comment_commands(sub)

    add_admin_commands(sub)
    add_reach_commands(sub)
    add_score_commands(sub)
    add_grant_commands(sub)
    add_insight_commands(sub)
    add_action_commands(sub)
    add_quality_commands(sub)
    return parser


def _os_error(exc: OSError) -> str:
    """One line for a file that cannot be read or written."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"error: {where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `spibot` console script."""
    args = build_parser().parse_args(argv)
    from services.errors import AdminError
    from services.settings import ConfigError
    from storage.errors import StorageError
    from surveys import QuestionnaireError

    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
    except ConfigError as exc:
        return _error(f"configuration error: {exc}")
    except (AdminError, StorageError, QuestionnaireError) as exc:
        return _error(f"error: {exc}")
    except BrokenPipeError:
        # `spibot score --json | head`: the reader is gone. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not complain about the pipe too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        return _error(_os_error(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
