"""Prometheus metrics and JSON logs, through the real bot against the sandbox."""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from bot.cli.common import LIBRARIES_WITH_CONTENT_IN_DEBUG, configure_logging
from sandbox.simulation import Outcome, Persona, simulate_respondent
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_reminders import START, reminders_in, stopped_respondent, tick
from tests.test_e2e_subscriptions import TUESDAY_7_WIB, _data, _settle, _subscribed_group, _tick

pytestmark = pytest.mark.e2e


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_bot_api_errors_are_counted_by_code_and_handler_errors_by_type(
    harness: Harness,
) -> None:
    api_before = _sample("spibot_bot_api_errors_total", method="sendMessage", code="400")
    handler_before = _sample("spibot_handler_errors_total", error="BadRequest")
    harness.sandbox.inject_fault("sendMessage", 400, times=1)
    user = harness.user()
    await user.command("start")
    answer = await reply(user)  # the error handler's apology, once the fault is used up
    assert answer.plain_text
    assert _sample("spibot_bot_api_errors_total", method="sendMessage", code="400") == (
        api_before + 1
    )
    assert _sample("spibot_handler_errors_total", error="BadRequest") == handler_before + 1


async def test_push_outcomes_are_counted(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = _sample("spibot_push_outcomes_total", kind="digest", status="sent")
    await _tick(harness, TUESDAY_7_WIB)
    await _settle(group)
    assert _sample("spibot_push_outcomes_total", kind="digest", status="sent") == before + 1


async def test_reminder_outcomes_are_counted(harness: Harness) -> None:
    sent = _sample("spibot_reminder_outcomes_total", status="sent")
    gone = _sample("spibot_reminder_outcomes_total", status="gone")
    user = await stopped_respondent(harness)
    blocked = await stopped_respondent(harness)
    blocked.block_bot()
    await tick(harness, START + timedelta(hours=25))
    assert len(reminders_in(user)) == 1
    assert _sample("spibot_reminder_outcomes_total", status="sent") == sent + 1
    assert _sample("spibot_reminder_outcomes_total", status="gone") == gone + 1


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log as `LOG_FORMAT=json LOG_LEVEL=DEBUG` would, into a string."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", "json")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in LIBRARIES_WITH_CONTENT_IN_DEBUG:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_json_lines_have_the_fields_and_a_traceback(json_log: io.StringIO) -> None:
    log = logging.getLogger("spibot.test")
    log.info("pruned %d rows", 3, extra={"chat_id": 12345678})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in json_log.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message"}  # no `extra` fields copied
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "spibot.test",
        "pruned 3 rows",
    )
    assert first["time"].endswith("+00:00")
    assert second["error"] == "ValueError"
    assert "boom" in second["traceback"]


async def test_logs_of_a_whole_survey_hold_no_ids_or_answers(
    harness: Harness, json_log: io.StringIO
) -> None:
    user = harness.user(user_id=73_519_284)
    persona = Persona(0.5, random.Random(7))
    outcome, _ = await simulate_respondent(user, harness.unit_payload("DINKES"), persona)
    assert outcome is Outcome.COMPLETED
    harness.sandbox.inject_fault("sendMessage", 400, times=1)  # a failure is logged too
    await user.send("jawaban rahasia saya tentang pungli")
    await reply(user)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert any(line["level"] == "ERROR" for line in lines)  # the failure was logged
    text = json_log.getvalue()
    assert "73519284" not in text
    assert "rahasia" not in text
    assert harness.settings.require_token() not in text
