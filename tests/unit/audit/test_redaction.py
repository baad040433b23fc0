"""Audit parameters: secret-looking keys and values are redacted at any depth; big parameters are capped."""

from __future__ import annotations

import msgspec
import pytest

from app.audit.redaction import REDACTED, TRUNCATED_KEY, bounded_parameters, redact, redact_text

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db_password",
        "Password",
        "token",
        "access_token",
        "refreshToken",
        "secret",
        "client_secret",
        "api_key",
        "apiKey",
        "API-KEY",
        "x-api-key",
        "Authorization",
        "credentials",
        "cookie",
        "Set-Cookie",
        "private_key",
        "aws_access_key_id",
        "session_id",
        "auth",
        "pwd",
    ],
)
def test_secret_looking_keys_are_redacted(key: str) -> None:
    assert redact({key: "hunter2", "query": "kept"}) == {key: REDACTED, "query": "kept"}


def test_redaction_reaches_nested_objects_and_lists() -> None:
    parameters = {
        "query": "errors",
        "connection": {"host": "db", "auth": {"user": "svc", "password": "pw"}},
        "headers": [{"name": "Authorization", "Authorization": "Bearer abc"}],
    }
    cleaned = redact(parameters)
    assert cleaned["connection"] == {"host": "db", "auth": REDACTED}
    assert cleaned["headers"] == [{"name": "Authorization", "Authorization": REDACTED}]
    assert parameters["connection"]["auth"]["password"] == "pw"  # the caller's object is untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bearer abcdef123456", f"Bearer {REDACTED}"),
        ("basic dXNlcjpwYXNz", f"basic {REDACTED}"),
        (f"use {JWT} to call", f"use {REDACTED} to call"),
        ("sk-proj-ABCDEFGHIJKLMNOP1234", REDACTED),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", REDACTED),
        ("AKIAIOSFODNN7EXAMPLE", REDACTED),
        ("postgresql://app:s3cret@db:5432/prod", f"postgresql://{REDACTED}@db:5432/prod"),
        ("key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", f"key {REDACTED}"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", REDACTED),
    ],
)
def test_secret_looking_values_are_redacted_wherever_they_are(text: str, expected: str) -> None:
    assert redact_text(text) == expected
    assert redact({"note": text}) == {"note": expected}
    assert redact({"list": [text]}) == {"list": [expected]}


@pytest.mark.parametrize(
    "text",
    [
        "error rate in the last hour",
        "token expired yesterday",
        "/Users/Alice/Projects2024/gateway/src/app/audit/Redaction",
        "SELECT name FROM users WHERE id = 42",
        "https://example.com/path?page=2",
        "a1b2c3",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_text(text) == text


def test_flags_and_token_counts_under_secret_words_are_kept() -> None:
    parameters = {"max_tokens": 256, "use_password": False, "token": None, "password": 1234}
    assert redact(parameters) == {"max_tokens": 256, "use_password": False, "token": None, "password": REDACTED}


def test_small_parameters_are_kept_whole() -> None:
    assert bounded_parameters({"query": "x", "api_key": "k"}, 8192) == {"query": "x", "api_key": REDACTED}
    assert bounded_parameters(None, 8192) is None


def test_large_parameters_become_a_marker_within_the_cap() -> None:
    parameters = {"document": "x" * 20_000, "api_key": "k-" + "9" * 40, "mode": "fast"}
    bounded = bounded_parameters(parameters, 8192)
    assert bounded is not None
    assert bounded[TRUNCATED_KEY] is True
    assert bounded["size_bytes"] > 20_000
    assert bounded["keys"] == ["document", "api_key", "mode"]
    assert len(msgspec.json.encode(bounded)) <= 8192
    assert "k-9999" not in msgspec.json.encode(bounded).decode()


def test_very_deep_nesting_is_cut() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100):
        node["child"] = {}
        node = node["child"]  # type: ignore[assignment]
    assert "nested too deep" in msgspec.json.encode(redact(deep)).decode()
