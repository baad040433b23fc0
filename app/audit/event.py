"""The audit event: one structured record per operation (and per broadcast leg)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ("AuditEvent", "AuditStatus", "level_for")

AuditStatus = Literal["success", "error", "denied"]
"""``success``; ``error`` (the operation failed); ``denied`` (authentication or authorization refused it)."""


class AuditEvent(msgspec.Struct, kw_only=True):
    """The seed's audit fields plus request id, trace id, client address and error text.

    Encoded as one JSON object per line in the file and on stdout; stored as one ``audit_logs`` row.
    """

    timestamp: datetime
    """When the operation began (UTC; encoded ISO-8601 with ``Z``)."""
    level: str = "INFO"
    """``INFO`` for success, ``WARNING`` for denied, ``ERROR`` for error."""
    logger: str = "audit"
    event_type: str
    """``mcp_request`` (listings and calls), ``registry_change``, ``auth`` or ``admin``."""
    user: str | None
    """The caller (``Principal.name``); ``None`` when authentication failed before anyone was known."""
    action: str
    """What was done: ``list_tools``, ``invoke_tool``, ``broadcast``, ``broadcast_leg``, ``register_server`` …"""
    mcp_server: str | None = None
    tool_name: str | None = None
    parameters: dict[str, Any] | None = None
    """The call's arguments with secret-looking values redacted, size-capped."""
    status: AuditStatus
    duration_ms: float | None = None
    response_status: int | None = None
    """HTTP status of the answer (for a broadcast leg: the status that leg's error maps to, else 200)."""
    request_id: str | None = None
    trace_id: str | None = None
    """W3C trace id (32 hex digits) of the span the operation ran in."""
    client: str | None = None
    """The caller's network address."""
    error: str | None = None
    """Why the operation did not succeed (never a secret value)."""


def level_for(status: AuditStatus) -> str:
    """The log level an event of ``status`` carries."""
    return {"success": "INFO", "denied": "WARNING"}.get(status, "ERROR")
