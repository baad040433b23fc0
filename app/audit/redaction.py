"""Redaction of audit parameters: secret-looking keys and values are replaced, the result is size-capped.

Keys are judged by name (``password``, ``api_key``, ``Authorization``, ``client_secret`` …, any case and
separator); values by shape wherever they appear (``Bearer …``/``Basic …`` credentials, JWTs, well-known
key prefixes, passwords inside URLs, long hex or base64 runs). The original object is never changed.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ("REDACTED", "TRUNCATED_KEY", "bounded_parameters", "encodable", "redact", "redact_text")

REDACTED = "[REDACTED]"
"""What replaces a secret value (or the secret part of a string)."""
TRUNCATED_KEY = "_truncated"
"""Present (``true``) in a parameters object that was too large to keep whole."""

_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "credential",
    "cookie",
    "privatekey",
    "accesskey",
    "sessionid",
    "signature",
    "bearer",
    "jwt",
)
_SECRET_KEYS = frozenset({"auth", "pwd", "pass", "pin", "otp", "key", "sig"})
"""Short names that are secrets only when they are the whole key."""
_SEPARATORS = re.compile(r"[\s_\-.]")
_MAX_DEPTH = 32
_PREVIEW_CHARS = 1024

_SECRET_VALUE = re.compile(
    r"""
      (?P<scheme>\b(?:bearer|basic|digest))\s+[A-Za-z0-9._~+/=\-]{6,}         # an Authorization header value
    | (?P<word>\b(?:token|bot))\s+(?=[A-Za-z0-9._~+/=\-]*\d)[A-Za-z0-9._~+/=\-]{16,}
    | \beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*          # a JWT (header.payload.signature)
    | \b(?:sk|pk|rk)[-_](?:live_|test_|proj-|ant-)?[A-Za-z0-9_\-]{16,}       # provider API keys (sk-…, sk_live_…)
    | \b(?:ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abprs]|figd|hvs|hvb)[-_.][A-Za-z0-9_\-]{10,}
    | \bAKIA[0-9A-Z]{16}\b                                                  # AWS access key id
    | \bAIza[0-9A-Za-z_\-]{30,}                                            # Google API key
    | (?<=://)[^/\s:@]+:[^/\s@]+(?=@)                                       # user:password@ in a URL
    | \b[0-9a-fA-F]{32,}\b                                                  # long hex (keys, digests)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_BASE64_RUN = re.compile(
    r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]*[0-9])(?=[A-Za-z0-9+/_\-]*[a-z])(?=[A-Za-z0-9+/_\-]*[A-Z])"
    r"[A-Za-z0-9+/_\-]{40,}={0,2}"
)
"""40+ characters of base64 mixing digits, lower and upper case: a key, not a word or a path."""


def _is_secret_key(key: str) -> bool:
    normal = _SEPARATORS.sub("", key).lower()
    return normal in _SECRET_KEYS or any(word in normal for word in _SECRET_WORDS)


def _keeps_value(key: str, value: Any) -> bool:
    """Flags and counts under a secret-looking key are not secrets (``max_tokens: 100``, ``use_password: false``)."""
    if value is None or isinstance(value, bool):
        return True
    return isinstance(value, int | float) and key.lower().rstrip("_").endswith("tokens")


def encodable(text: str) -> str:
    """``text`` as valid UTF-8 (lone surrogates a caller sent become ``?``), so the event can be encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def redact_text(text: str) -> str:
    """``text`` with every secret-looking part replaced by ``[REDACTED]`` (and made encodable)."""
    text = encodable(text)
    if len(text) < 6:
        return text
    return _BASE64_RUN.sub(_replace_run, _SECRET_VALUE.sub(_replace, text))


def _replace_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return run if run.count("/") > 3 else REDACTED  # many slashes: a path (/Users/Alice/Repo2/…), not a key


def _replace(match: re.Match[str]) -> str:
    scheme = match.group("scheme") or match.group("word")
    return f"{scheme} {REDACTED}" if scheme else REDACTED


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` (JSON-like) with secret-looking keys' values and secret-looking strings replaced."""
    if isinstance(value, str):
        return redact_text(value)
    if _depth >= _MAX_DEPTH:
        return "[TRUNCATED: nested too deep]"
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            name = encodable(str(key))
            if _is_secret_key(name) and not _keeps_value(name, item):
                cleaned[name] = REDACTED
            else:
                cleaned[name] = redact(item, _depth + 1)
        return cleaned
    if isinstance(value, list | tuple):
        return [redact(item, _depth + 1) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def bounded_parameters(parameters: dict[str, Any] | None, max_bytes: int) -> dict[str, Any] | None:
    """``parameters`` redacted; if their JSON is larger than ``max_bytes``, a truncation marker instead.

    The marker keeps the original size, the top-level keys and a preview of the redacted JSON.
    """
    if parameters is None:
        return None
    cleaned: dict[str, Any] = redact(parameters)
    encoded = msgspec.json.encode(cleaned)
    if len(encoded) <= max_bytes:
        return cleaned
    preview = encoded[: min(_PREVIEW_CHARS, max_bytes // 2)].decode("utf-8", errors="ignore")
    return {
        TRUNCATED_KEY: True,
        "size_bytes": len(encoded),
        "keys": list(cleaned)[:50],
        "preview": preview,
    }
