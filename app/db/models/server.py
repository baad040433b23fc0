"""The ``servers`` table: backend MCP servers from the servers file and from the API/CLI."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import JsonB
from sqlalchemy import Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ("ServerRecord",)


class ServerRecord(UUIDv7AuditBase):
    """One registered server. Credentials are stored only as references (``auth.credential_ref``)."""

    __tablename__ = "servers"

    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    source: Mapped[str] = mapped_column(String(8), index=True)
    """``file`` (synced from the servers file at start) or ``api`` (registered through API/CLI)."""
    url: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64))
    timeout: Mapped[float] = mapped_column(Float)
    enabled: Mapped[bool] = mapped_column(Boolean, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    tools: Mapped[list[str] | None] = mapped_column(JsonB, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JsonB, default=dict)
    """The server's free-form ``metadata`` (``metadata`` itself is reserved by SQLAlchemy)."""
    auth: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    access: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
