"""services.links: every deep-link payload format, built and parsed in one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.errors import AdminError
from services.links import (
    PAYLOAD_RE,
    GrantLink,
    InvitationLink,
    UnitLink,
    deep_link,
    grant_payload,
    invitation_payload,
    parse_payload,
    unit_payload,
)
from services.security import sign_payload

SECRET = b"k" * 32
UNIT_CODE = st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,39}", fullmatch=True)


@given(UNIT_CODE, st.one_of(st.none(), st.integers(min_value=1, max_value=999_999_999)))
def test_unit_links_round_trip(code: str, wave_id: int | None) -> None:
    payload = unit_payload(SECRET, code, wave_id)
    assert PAYLOAD_RE.match(payload)
    assert parse_payload(SECRET, payload) == UnitLink(code, wave_id)


def test_new_unit_links_name_no_wave() -> None:
    payload = unit_payload(SECRET, "DINKES")
    assert payload.startswith("pDINKES_")
    assert parse_payload(SECRET, payload) == UnitLink("DINKES", None)


def test_old_posters_with_a_wave_still_parse() -> None:
    old = sign_payload(SECRET, "u7-DISPENDUKCAPIL")  # what round-one posters carry
    assert parse_payload(SECRET, old) == UnitLink("DISPENDUKCAPIL", 7)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "x" * 65,
        "bad payload!",
        "u7-DINKES_AAAAAAAAAAAAAAAA",  # forged signature
        "pDINKES",  # unsigned
        "g",  # a prefix without a token
        "i",
        "zSomething",
    ],
)
def test_malformed_or_forged_payloads_are_refused(payload: str) -> None:
    assert parse_payload(SECRET, payload) is None


def test_edited_or_foreign_unit_links_are_refused() -> None:
    payload = unit_payload(SECRET, "DINKES")
    assert parse_payload(SECRET, payload.replace("DINKES", "DINSOS")) is None
    assert parse_payload(b"another-secret-000", payload) is None


def test_tokens() -> None:
    assert parse_payload(SECRET, grant_payload("Abc_-1")) == GrantLink("Abc_-1")
    assert parse_payload(SECRET, invitation_payload("Xyz")) == InvitationLink("Xyz")


def test_deep_link_needs_the_bot_username() -> None:
    assert deep_link("@spi_bot", "gAbc") == "https://t.me/spi_bot?start=gAbc"
    with pytest.raises(AdminError, match="BOT_USERNAME"):
        deep_link("", "gAbc")
