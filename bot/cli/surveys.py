"""`spibot survey import/export/list/show`: questionnaires as XLSForm spreadsheets, which
ones are stored and which waves used them, and one questionnaire as respondents meet it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db

if TYPE_CHECKING:
    from services.settings import Settings
    from storage.db import AsyncEngine
    from surveys import Questionnaire

__all__ = ["add_survey_commands", "print_warnings"]


def print_warnings(questionnaire: Questionnaire, source: str) -> None:
    """Print what a valid questionnaire misses (no scored item, long labels) to stderr."""
    from surveys import style_problems

    for problem in style_problems(questionnaire, source):
        print(f"warning: {problem}", file=sys.stderr)


def cmd_survey_import(args: argparse.Namespace) -> int:
    """Read an XLSForm, validate it and store it as a questionnaire version."""
    from surveys import QuestionnaireError
    from surveys.xlsform_import import load_xlsform

    path = Path(args.file)
    try:
        questionnaire = load_xlsform(path)
    except QuestionnaireError as exc:
        print(exc, file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    except OSError as exc:
        print(f"error: {path}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    summary = (
        f"{questionnaire.id} v{questionnaire.version} ({questionnaire.group}, "
        f"{len(questionnaire.questions)} questions)"
    )
    print_warnings(questionnaire, str(path))
    if args.check:
        print(f"{path}: ok: {summary}")
        return 0

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        from services.admin import store_questionnaire

        origin = f"xlsform: {path.name}"
        stored = await store_questionnaire(engine, questionnaire, now(), origin)
        return f"stored {summary} as questionnaire #{stored.id}" + _use_hint(questionnaire)

    print(run_with_db(args, work))
    return 0


def _use_hint(questionnaire: Questionnaire) -> str:
    """Tell how a stored questionnaire reaches respondents (only the default is automatic)."""
    from surveys import bundled_questionnaires

    if questionnaire.id == bundled_questionnaires()[questionnaire.group].id:
        return f"; the next wave uses it for the {questionnaire.group} group"
    return (
        f"; no wave uses it until one chooses it: spibot wave open NAME --questionnaire "
        f"{questionnaire.group}={questionnaire.id}"
    )


def cmd_survey_list(args: argparse.Namespace) -> int:
    """List every questionnaire version: group, source, and the waves that used it."""
    from services.admin import CatalogueEntry, catalogue

    async def work(engine: AsyncEngine, settings: Settings) -> list[CatalogueEntry]:
        return await catalogue(engine)

    entries = run_with_db(args, work)
    print(f"{'name':<20} {'group':<9} {'version':>7}  {'source':<34} waves")
    for e in entries:
        if e.waves or e.plans:
            used = ", ".join([*e.waves, *(f"{p} (planned)" for p in e.plans)])
        elif e.default:
            used = "none yet; the next wave uses it by default"
        else:
            used = f"none: no wave used it (choose it with --questionnaire {e.group}={e.key})"
        if e.waves and e.default:
            used += "; the next wave's default"
        print(f"{e.key:<20} {e.group.value:<9} {e.version:>7}  {e.origin[:34]:<34} {used}")
    return 0


def cmd_survey_show(args: argparse.Namespace) -> int:
    """Print a questionnaire as respondents meet it, in both languages, skip logic in words."""
    from surveys.describe import describe_questionnaire

    async def work(engine: AsyncEngine, settings: Settings) -> Questionnaire:
        from services.admin import questionnaire_named

        return await questionnaire_named(engine, args.name)

    print("\n".join(describe_questionnaire(run_with_db(args, work))))
    return 0


def cmd_survey_export(args: argparse.Namespace) -> int:
    """Write a questionnaire (newest stored version, else bundled) as XLSForm or YAML."""
    if not args.xlsx and not args.yaml:
        print("error: give --xlsx OUT and/or --yaml OUT", file=sys.stderr)
        return 2

    from surveys.writer import questionnaire_data, questionnaire_yaml
    from surveys.xlsform_export import questionnaire_workbook

    async def work(engine: AsyncEngine, settings: Settings) -> Questionnaire:
        from services.admin import questionnaire_named

        return await questionnaire_named(engine, args.name)

    questionnaire = run_with_db(args, work)
    written: list[str] = []
    try:
        if args.xlsx:
            questionnaire_workbook(questionnaire).save(args.xlsx)
            written.append(args.xlsx)
        if args.yaml:
            text = questionnaire_yaml(questionnaire_data(questionnaire))
            Path(args.yaml).write_text(text, encoding="utf-8")
            written.append(args.yaml)
    except OSError as exc:
        print(f"cannot write: {exc}", file=sys.stderr)
        return 2  # an expected error: one line, exit 2 (as every spibot command)
    print(f"wrote {questionnaire.id} v{questionnaire.version} to {', '.join(written)}")
    return 0


def add_survey_commands(survey: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import` and `export` under `spibot survey`."""
    p = survey.add_parser(
        "import", help="store an XLSForm (Kobo/ODK spreadsheet) as a questionnaire version"
    )
    p.add_argument("file", metavar="FORM.xlsx")
    p.add_argument("--check", action="store_true", help="only validate; store nothing")
    p.set_defaults(func=cmd_survey_import)
    p = survey.add_parser("export", help="write a questionnaire as XLSForm (and/or YAML)")
    p.add_argument("name", metavar="NAME", help="questionnaire id, e.g. external (or NAME@VERSION)")
    p.add_argument("--xlsx", metavar="OUT", help="XLSForm workbook to write")
    p.add_argument("--yaml", metavar="OUT", help="YAML file to write")
    p.set_defaults(func=cmd_survey_export)
    p = survey.add_parser(
        "list", help="every stored questionnaire: group, version, source and waves that used it"
    )
    p.set_defaults(func=cmd_survey_list)
    p = survey.add_parser(
        "show", help="a questionnaire as respondents meet it (both languages, skip logic)"
    )
    p.add_argument("name", metavar="NAME", help="questionnaire name, or NAME@VERSION")
    p.set_defaults(func=cmd_survey_show)
