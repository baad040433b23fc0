"""The ``audit_logs`` table: one row per audited operation (and per broadcast leg)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advanced_alchemy.base import BigIntBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ("AuditRecord",)


class AuditRecord(BigIntBase):
    """The seed's audit fields plus request id, trace id, client address and error text."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_user_timestamp", "user", "timestamp"),
        Index("ix_audit_logs_server_timestamp", "mcp_server", "timestamp"),
    )

    timestamp: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    level: Mapped[str] = mapped_column(String(16))
    logger: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    user: Mapped[str | None] = mapped_column(String(320), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    mcp_server: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tool_name: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """``success``, ``error`` or ``denied``."""
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    """``X-Request-ID`` (the caller's when sane: up to 128 characters)."""
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
