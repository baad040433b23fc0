"""The ``ended_sessions`` table: handshake-era ``/mcp`` sessions a client ended with DELETE.

Session ids are self-contained (signed), so ending one means remembering it until it would have expired
anyway; every replica reads this table to refuse ended sessions.
"""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.base import BigIntBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ("EndedSessionRecord",)


class EndedSessionRecord(BigIntBase):
    """One ended session, by the random nonce inside its id."""

    __tablename__ = "ended_sessions"

    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    """When the session id would have expired on its own; the row can go after that."""
