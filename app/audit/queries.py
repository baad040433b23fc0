"""Reading the audit trail back from ``audit_logs``: filters, newest first, offset pagination with a total."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.event import AuditStatus
from app.db.models import AuditRecord

__all__ = ("AuditQuery", "search_audit")


class AuditQuery(msgspec.Struct, kw_only=True, frozen=True):
    """Which records to return; every filter given must match (exact values, time range inclusive)."""

    user: str | None = None
    mcp_server: str | None = None
    tool_name: str | None = None
    status: AuditStatus | None = None
    action: str | None = None
    event_type: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    """Earliest ``timestamp`` (a time without zone is taken as UTC)."""
    until: datetime | None = None
    """Latest ``timestamp``."""
    limit: int = 50
    offset: int = 0


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    equal: dict[str, Any] = {
        "user": query.user,
        "mcp_server": query.mcp_server,
        "tool_name": query.tool_name,
        "status": query.status,
        "action": query.action,
        "event_type": query.event_type,
        "request_id": query.request_id,
    }
    conditions = [getattr(AuditRecord, name) == value for name, value in equal.items() if value is not None]
    if query.since is not None:
        conditions.append(AuditRecord.timestamp >= _utc(query.since))
    if query.until is not None:
        conditions.append(AuditRecord.timestamp <= _utc(query.until))
    return conditions


async def search_audit(session: AsyncSession, query: AuditQuery) -> tuple[list[AuditRecord], int]:
    """The page of records ``query`` asks for (newest first, ties by id) and how many match in all."""
    conditions = _conditions(query)
    total = await session.scalar(select(func.count()).select_from(AuditRecord).where(*conditions))
    page = await session.scalars(
        select(AuditRecord)
        .where(*conditions)
        .order_by(AuditRecord.timestamp.desc(), AuditRecord.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    return list(page), int(total or 0)
