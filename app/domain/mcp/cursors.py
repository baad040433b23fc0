"""List cursors of the gateway's MCP endpoint: opaque to agents, an offset into the aggregated list inside."""

from __future__ import annotations

import base64
from typing import Any

__all__ = ("cursor_at", "offset_of")


def cursor_at(offset: int) -> str:
    """The cursor of the page starting at ``offset``."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii")


def offset_of(cursor: Any) -> int | None:
    """Where the page of ``cursor`` starts (0 without one); ``None`` for a cursor the gateway did not issue."""
    if cursor is None or cursor == "":
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(str(cursor).encode("ascii")).decode("ascii").partition(":")
        offset = int(value)
    except (ValueError, UnicodeError):
        return None
    if kind != "offset" or offset < 0:
        return None
    return offset
