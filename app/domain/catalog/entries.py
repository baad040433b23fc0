"""What the catalog holds per server (``ServerTools``) and shows of it (``ServerStatus``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ("ServerStatus", "ServerTools")


class ServerTools:
    """What the catalog knows about one server's tools, and how fresh that is."""

    __slots__ = (
        "error",
        "fetched_at",
        "prompts",
        "refreshed_at",
        "resources",
        "server",
        "templates",
        "tools",
        "waited",
    )

    def __init__(self, server: str) -> None:
        self.server = server
        self.tools: list[dict[str, Any]] | None = None
        """The last successful ``tools/list`` (``None`` until one succeeded)."""
        self.resources: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.prompts: list[dict[str, Any]] = []
        """Resources, resource templates and prompts (empty when the server offers none)."""
        self.fetched_at: float | None = None
        """Monotonic time of the last successful fetch."""
        self.refreshed_at: datetime | None = None
        """Wall-clock time of the last attempt, successful or not."""
        self.error: str | None = None
        """Why the last attempt failed (``None`` after a success)."""
        self.waited = False
        """A listing already waited for this server's first answer; later listings do not wait again."""

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error" if self.tools is None else "stale"
        return "ok" if self.tools is not None else "pending"


class ServerStatus(msgspec.Struct, kw_only=True):
    """Live state of one backend, as far as this replica knows it."""

    status: str
    """``ok``, ``stale`` (last refresh failed, older tools kept), ``error`` (never listed), ``pending``."""
    reachable: bool | None
    """Whether the last contact succeeded (``None``: never contacted)."""
    era: str | None
    protocol_version: str | None
    server_info: dict[str, Any] | None
    tool_count: int | None
    last_error: str | None
    last_refresh: datetime | None
    circuit: str | None = None
    """``closed``, ``open`` (calls fail fast) or ``half_open`` (one probe allowed); ``None``: never contacted."""
    in_flight: int = 0
    """Requests to this backend running now on this replica."""
