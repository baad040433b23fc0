"""Header rules of the ``/mcp`` endpoint: ``Origin`` allow-list and ``Mcp-Name`` decoding."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

__all__ = ("decode_header_value", "origin_allowed")

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def origin_allowed(origin: str | None, allowed: str) -> bool:
    """No ``Origin`` (non-browser clients), a loopback origin, or one listed in ``allowed`` (comma-separated, ``*``)."""
    if origin is None:
        return True
    listed = {item.strip() for item in allowed.split(",") if item.strip()}
    if "*" in listed or origin in listed:
        return True
    try:
        host = urlsplit(origin).hostname
    except ValueError:
        return False
    return host in _LOOPBACK


def decode_header_value(value: str) -> str | None:
    """Undo ``=?base64?…?=`` wrapping; ``None`` for invalid or non-canonical base64 (a mismatch)."""
    if not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    encoded = value[len("=?base64?") : -2]
    try:
        raw = base64.b64decode(encoded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if base64.b64encode(raw).decode("ascii") != encoded:
        return None
    return decoded
