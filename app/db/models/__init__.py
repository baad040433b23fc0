"""ORM models; importing this package registers every table on the shared metadata."""

from __future__ import annotations

from app.db.models.audit import AuditRecord
from app.db.models.server import ServerRecord
from app.db.models.session import EndedSessionRecord

__all__ = ("AuditRecord", "EndedSessionRecord", "ServerRecord")
