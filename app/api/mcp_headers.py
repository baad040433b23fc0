"""Header rules of the ``/mcp`` endpoint: ``Origin`` allow-list and ``Mcp-Name`` decoding."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.adapters.mcp_client.param_headers import ParamHeaders, param_header_values

__all__ = ("decode_header_value", "origin_allowed", "param_header_problem")

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


def param_header_problem(headers: Mapping[str, str], rules: ParamHeaders, arguments: Any) -> str | None:
    """Why the ``Mcp-Param-*`` headers disagree with ``arguments`` under ``rules``, or ``None`` if they agree.

    A header without its argument, an argument without its header, or a different value is a mismatch;
    integers compare numerically. Headers for tokens the schema does not annotate are ignored.
    """
    expected = param_header_values(rules, arguments if isinstance(arguments, Mapping) else None)
    for _, token in rules:
        name = f"mcp-param-{token}".lower()
        sent = headers.get(name)
        wanted = next((value for key, value in expected.items() if key.lower() == name), None)
        if sent is None and wanted is None:
            continue
        if sent is None or wanted is None:
            return f"Mcp-Param-{token} and the argument it mirrors must come together"
        if not _same(decode_header_value(sent), decode_header_value(wanted)):
            return f"Mcp-Param-{token} differs from its argument"
    return None


def _same(sent: str | None, wanted: str | None) -> bool:
    if sent is None or wanted is None:
        return False
    if sent == wanted:
        return True
    try:
        return float(sent) == float(wanted)
    except ValueError:
        return False
