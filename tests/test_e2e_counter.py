"""End to end: what a respondent is told about the survey's length agrees with itself, and the
question counter never jumps up when skip logic adds questions (issue 22.8)."""

from __future__ import annotations

import re

import pytest

from services.i18n import catalog
from services.respondent.screens import Renderer, question_counter
from surveys import bundled_questionnaires, load_questionnaire_text
from surveys.model import Group
from tests.e2e_fixtures import Harness, action_buttons, reply
from tests.test_e2e_survey import PROGRESS, answer, tap_action
from tests.test_e2e_xlsform import kobo  # noqa: F401  (the fixture: an imported XLSForm wave)

pytestmark = pytest.mark.e2e

LENGTH = re.compile(r"(\d+) pertanyaan, sekitar (\d+) menit|(\d+) questions, about (\d+) minutes")


def _counter(text: str) -> tuple[int, int]:
    match = PROGRESS.search(text)
    assert match, text
    return int(match.group(1) or match.group(3)), int(match.group(2) or match.group(4))


async def test_the_service_users_consent_states_one_length(harness: Harness) -> None:
    user = harness.user()
    await user.open_deep_link(harness.unit_payload())
    message = await reply(user)
    while action_buttons(message, "el"):
        message = await tap_action(user, "el", 0)
    consent = message.plain_text
    # Some questions follow an earlier answer: the most it can be, once, in minutes too.
    assert "Ada paling banyak 17 pertanyaan, sekitar 6 menit." in consent
    assert len(re.findall(r"\d+ menit", consent)) == 1  # the intro no longer says "5 menit"
    message = await tap_action(user, "ok", 0)
    message = await tap_action(user, "lg", 0)
    assert _counter(message.plain_text) == (1, 17)


async def test_the_counter_only_counts_down_when_skip_logic_decides(kobo: Harness) -> None:  # noqa: F811
    user = kobo.user()
    await user.open_deep_link(kobo.unit_payload())
    message = await reply(user)
    while action_buttons(message, "el"):
        message = await tap_action(user, "el", 0)
    assert "Ada paling banyak" in message.plain_text  # the form has skip logic
    (most,) = [int(m.group(1)) for m in [LENGTH.search(message.plain_text)] if m]
    message = await tap_action(user, "ok", 0)
    message = await tap_action(user, "lg", 0)
    seen = [_counter(message.plain_text)]
    assert seen[0] == (1, most)
    await user.send("30")
    message = await reply(user)
    seen.append(_counter(message.plain_text))
    message = await tap_action(user, "a", 1)  # a supplier: the service questions are skipped
    seen.append(_counter(message.plain_text))
    assert [n for n, _ in seen] == [1, 2, 3]
    totals = [total for _, total in seen]
    assert totals == sorted(totals, reverse=True)  # never up going forward
    assert totals[-1] == 3  # the suggestion is the last question for a supplier
    review = await answer(user, message)
    assert "Hampir selesai" in review.plain_text


def test_the_counter_of_a_branching_questionnaire_never_jumps_up() -> None:
    source = """
id: branching
version: 1
group: external
title: {id: Uji, en: Test}
intro: {id: Uji, en: Test}
questions:
  - id: a
    type: single
    text: {id: A, en: A}
    options:
      - {value: y, label: {id: Ya, en: Yes}}
      - {value: n, label: {id: Tidak, en: No}}
  - {id: b, type: text, text: {id: B, en: B}}
  - {id: c, type: text, text: {id: C, en: C}, show_if: "${a} = 'y'"}
  - {id: d, type: text, text: {id: D, en: D}, show_if: "${a} = 'y'"}
  - {id: e, type: text, text: {id: E, en: E}}
"""
    questionnaire = load_questionnaire_text(source)
    q = {x.id: x for x in questionnaire.questions}
    assert question_counter(questionnaire, q["a"], {}) == (1, 5)
    # "yes" keeps c and d: 2 of 5, 3 of 5, 4 of 5, 5 of 5.
    yes = {"a": "y", "b": "x", "c": "x", "d": "x"}
    assert [question_counter(questionnaire, q[i], yes)[0] for i in "bcde"] == [2, 3, 4, 5]
    assert {question_counter(questionnaire, q[i], yes)[1] for i in "bcde"} == {5}
    # "no" rules them out once answered: 2 of 3, then 3 of 3 — down, never up.
    assert question_counter(questionnaire, q["b"], {"a": "n"}) == (2, 3)
    assert question_counter(questionnaire, q["e"], {"a": "n", "b": "x"}) == (3, 3)

    rendered = Renderer(catalog(), "id", lambda action, arg: f"0.{action}.{arg}.x")
    consent = rendered.consent(questionnaire, 5).text
    assert "Ada paling banyak 5 pertanyaan, sekitar 2 menit." in consent
    english = Renderer(catalog(), "en", lambda action, arg: "x").consent(questionnaire, 5).text
    assert "There are up to 5 questions, about 2 minutes." in english


@pytest.mark.parametrize("group", list(Group))
def test_bundled_intros_leave_the_length_to_the_consent_line(group: Group) -> None:
    questionnaire = bundled_questionnaires()[group]
    assert "menit" not in questionnaire.intro.id
    assert "minute" not in questionnaire.intro.en
