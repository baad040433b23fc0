from __future__ import annotations

import pytest

from app.domain.mcp import SessionCodec


def test_a_session_id_round_trips_what_the_gateway_needs() -> None:
    codec = SessionCodec("secret")
    session_id = codec.issue("2025-06-18", {"elicitation": {}}, "claude-desktop")
    state = codec.open(session_id)
    assert state is not None
    assert (state.protocol_version, state.capabilities, state.client) == (
        "2025-06-18",
        {"elicitation": {}},
        "claude-desktop",
    )
    assert all(0x21 <= ord(ch) <= 0x7E for ch in session_id)
    assert codec.issue("2025-06-18", {}, "x") != codec.issue("2025-06-18", {}, "x")  # unguessable, never reused


def test_another_replica_with_the_same_secret_accepts_it_and_others_do_not() -> None:
    session_id = SessionCodec("shared").issue("2025-11-25", {}, "c")
    assert SessionCodec("shared").open(session_id) is not None
    assert SessionCodec("different").open(session_id) is None


@pytest.mark.parametrize(
    "mangle", [lambda s: s[:-2] + "AA", lambda s: "x" + s, lambda s: s.split(".")[0], lambda s: "", lambda s: "a.b.c"]
)
def test_tampered_or_malformed_ids_are_refused(mangle: object) -> None:
    codec = SessionCodec("secret")
    assert codec.open(mangle(codec.issue("2025-11-25", {}, "c"))) is None  # type: ignore[operator]


def test_expired_sessions_are_refused() -> None:
    codec = SessionCodec("secret", max_age_seconds=-1)
    assert codec.open(codec.issue("2025-11-25", {}, "c")) is None
