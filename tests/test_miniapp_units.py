"""The dashboard's pure parts: Telegram's launch-data check against an independent signer,
and the server-made SVG charts (valid, escaped, no inline style)."""

from __future__ import annotations

import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.miniapp import charts
from services.miniapp.auth import (
    Launch,
    LaunchRefused,
    Problem,
    check_launch,
    launch_key,
    sign_launch,
    unverified_language,
)
from services.pushes.compose import _with_link
from services.pushes.delivery import Outgoing

TOKEN = "123456:ABC-test-token"
KEY = launch_key(TOKEN)
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _telegram_signed(fields: dict[str, str], token: str = TOKEN) -> str:
    """Sign as core.telegram.org describes it, written out here rather than imported."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def _fields(**extra: str) -> dict[str, str]:
    user = {"id": 279058397, "first_name": "Vladislav + - ? \\/", "language_code": "ru"}
    return {
        "auth_date": str(int(NOW.timestamp())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        **extra,
    }


def test_launch_data_signed_as_telegram_describes_is_accepted() -> None:
    raw = _telegram_signed(_fields(start_param="progress", signature="abc_-DEF"))

    launch = check_launch(raw, KEY, NOW + timedelta(minutes=5), DAY)

    assert launch == Launch(279058397, "ru", "progress", NOW)


def test_sign_launch_agrees_with_the_description() -> None:
    raw = sign_launch(KEY, {"id": 7, "first_name": "Sari"}, NOW, chat_type="private")
    fields = dict(parse_qsl(raw))
    given_hash = fields.pop("hash")

    assert dict(parse_qsl(_telegram_signed(fields)))["hash"] == given_hash
    assert check_launch(raw, KEY, NOW, DAY).user_id == 7


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", Problem.MISSING),
        ("auth_date=1&user=%7B%7D", Problem.MISSING),
        ("hash=xyz&auth_date=1", Problem.MALFORMED),
        ("a=1&&&", Problem.MALFORMED),
        ("x" * 5000, Problem.MALFORMED),
    ],
)
def test_malformed_launch_data_is_refused(raw: str, problem: Problem) -> None:
    with pytest.raises(LaunchRefused) as refused:
        check_launch(raw, KEY, NOW, DAY)
    assert refused.value.problem is problem


def test_every_field_is_covered_by_the_hash() -> None:
    fields = _fields(start_param="overview")
    raw = _telegram_signed(fields)
    signed = dict(parse_qsl(raw))
    for name in fields:
        changed = {**signed, name: signed[name] + "1"}
        with pytest.raises(LaunchRefused) as refused:
            check_launch(urlencode(changed, quote_via=quote), KEY, NOW, DAY)
        assert refused.value.problem is Problem.FORGED, name
    added = urlencode({**signed, "chat_type": "group"}, quote_via=quote)
    with pytest.raises(LaunchRefused):
        check_launch(added, KEY, NOW, DAY)


def test_age_and_clock_skew() -> None:
    raw = _telegram_signed(_fields())
    assert check_launch(raw, KEY, NOW + DAY, DAY).user_id == 279058397
    for now in (NOW + DAY + timedelta(seconds=1), NOW - timedelta(minutes=6)):
        with pytest.raises(LaunchRefused) as refused:
            check_launch(raw, KEY, now, DAY)
        assert refused.value.problem is Problem.STALE


@pytest.mark.parametrize("user", ['{"id": "7"}', '{"id": true}', '{"id": -1}', "[]", "not json"])
def test_a_signed_launch_without_a_real_user_is_malformed(user: str) -> None:
    raw = _telegram_signed({**_fields(), "user": user})
    with pytest.raises(LaunchRefused) as refused:
        check_launch(raw, KEY, NOW, DAY)
    assert refused.value.problem is Problem.MALFORMED


@given(st.text(max_size=300))
def test_nothing_typed_passes_for_launch_data(raw: str) -> None:
    with pytest.raises(LaunchRefused):
        check_launch(raw, KEY, NOW, DAY)
    unverified_language(raw)  # never raises


def test_the_claimed_language_is_read_without_trusting_it() -> None:
    assert unverified_language(_telegram_signed(_fields(), token="9:other")) == "ru"
    assert unverified_language("user=%7B%22language_code%22%3A5%7D") is None


# -- charts ---------------------------------------------------------------------------------


def _parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for element in root.iter():
        assert "style" not in element.attrib  # the page's CSP allows no inline style
        assert not any(name.startswith("on") for name in element.attrib)
    return root


def test_charts_are_valid_svg_with_labels_escaped() -> None:
    bands = [
        charts.Band("rentan", 0, 73, "Rentan"),
        charts.Band("waspada", 73, 78, "Waspada"),
        charts.Band("terjaga", 78, 100, "Terjaga"),
    ]
    hostile = '<script>alert("x")</script> & "Dinas"'
    drawn = [
        charts.scale(bands, [charts.Marker(74.0, "74,00", 1.2)], label=hostile),
        charts.bars([charts.Bar(hostile, 61.5, "61,50", "bar", 2.0)], label=hostile),
        charts.meter(74.0, low=50, ticks=[73, 78]),
        charts.trend(
            ["2024", hostile],
            [charts.Series("ours", (None, 74.0), (None, "74,00"), (False, True))],
            bands,
            label=hostile,
        ),
    ]
    for svg in drawn:
        root = _parsed(svg)
        assert "<script" not in svg
        titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
        if titles:
            assert titles == [hostile]  # escaped in the markup, whole in the document


def test_the_scale_starts_low_enough_for_every_value() -> None:
    assert charts.scale_floor([74.0]) == 50
    assert charts.scale_floor([48.2]) == 40
    assert charts.scale_floor([3.0]) == 0
    assert charts.scale_floor([]) == 50


# -- the dashboard link in pushes -------------------------------------------------------------


def test_the_dashboard_link_goes_to_the_last_message_that_can_take_it() -> None:
    link = '📊 <a href="https://t.me/bot?startapp=overview">Buka dasbor</a>'
    text = [Outgoing(text="heading"), Outgoing(text="last")]
    assert _with_link(text, link)[-1].text == f"last\n\n{link}"
    chart = [Outgoing(photo=b"png", caption="caption")]
    assert _with_link(chart, link)[-1].caption == f"caption\n\n{link}"
    full = [Outgoing(photo=b"png", caption="x" * 1020)]
    assert _with_link(full, link) == [*full, Outgoing(text=link)]
    assert _with_link(text, None) == text
