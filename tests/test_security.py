"""Pseudonyms, tokens and signed links."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.links import PAYLOAD_RE
from services.security import (
    new_token,
    pseudonym_for,
    sign_payload,
    token_hash,
    verify_signed_payload,
)

SECRET = b"k" * 32


def test_pseudonym_is_stable_keyed_and_hides_the_id() -> None:
    a = pseudonym_for(SECRET, 123456789)
    assert a == pseudonym_for(SECRET, 123456789)
    assert a != pseudonym_for(b"other-secret-0000", 123456789)
    assert a != pseudonym_for(SECRET, 123456790)
    assert "123456789" not in a
    assert len(a) == 64


def test_tokens_are_unguessable_and_fit_a_deep_link() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = tokens.pop()
    assert len(token) >= 22  # 16 random bytes = 128 bits
    assert PAYLOAD_RE.match(f"i{token}")
    assert token_hash(token) != token
    assert len(token_hash(token)) == 64


@given(st.from_regex(r"[A-Za-z0-9-]{1,40}", fullmatch=True))
def test_signed_payload_round_trip(body: str) -> None:
    payload = sign_payload(SECRET, body)
    assert PAYLOAD_RE.match(payload)
    assert verify_signed_payload(SECRET, payload) == body


def test_forged_or_edited_payload_is_refused() -> None:
    payload = sign_payload(SECRET, "u-DINKES-3")
    assert verify_signed_payload(SECRET, payload.replace("DINKES", "DISDIK")) is None
    assert verify_signed_payload(b"another-secret-000", payload) is None
    assert (
        verify_signed_payload(SECRET, payload[:-1] + ("A" if payload[-1] != "A" else "B")) is None
    )
    assert verify_signed_payload(SECRET, "no-signature") is None
    assert verify_signed_payload(SECRET, "") is None
