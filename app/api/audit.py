"""``GET /audit``: the audit trail from the ``audit_logs`` table, filtered and paginated (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.guards import require_admin
from app.audit import audited
from app.audit.event import AuditStatus
from app.audit.queries import AuditQuery, search_audit
from app.db.models import AuditRecord

__all__ = ("AuditController", "AuditEntry", "AuditPage")

MAX_LIMIT = 500


class AuditEntry(msgspec.Struct, kw_only=True):
    """One stored audit event (the JSON-lines fields, plus the row id)."""

    id: int
    timestamp: datetime
    level: str
    logger: str
    event_type: str
    user: str | None
    action: str
    mcp_server: str | None
    tool_name: str | None
    parameters: dict[str, Any] | None
    """Redacted and size-capped when recorded."""
    status: str
    duration_ms: float | None
    response_status: int | None
    request_id: str | None
    trace_id: str | None
    client: str | None
    error: str | None

    @classmethod
    def of(cls, row: AuditRecord) -> AuditEntry:
        return cls(
            id=row.id,
            timestamp=row.timestamp,
            level=row.level,
            logger=row.logger,
            event_type=row.event_type,
            user=row.user,
            action=row.action,
            mcp_server=row.mcp_server,
            tool_name=row.tool_name,
            parameters=row.parameters,
            status=row.status,
            duration_ms=row.duration_ms,
            response_status=row.response_status,
            request_id=row.request_id,
            trace_id=row.trace_id,
            client=row.client_address,
            error=row.error,
        )


class AuditPage(msgspec.Struct, kw_only=True):
    """One page of matching events, newest first."""

    items: list[AuditEntry]
    total: int
    """How many events match the filters in all."""
    limit: int
    offset: int
    next_offset: int | None
    """``offset`` of the next page (``None`` on the last one)."""


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "/",
        summary="Search the audit trail",
        description="Events recorded in the `audit_logs` table, newest first. Every filter given must match; "
        "`since`/`until` bound the event time (ISO-8601, inclusive). Events reach the table a moment after the "
        "operation (they are written in batches). Needs the admin role when authentication is on.",
        guards=[require_admin],
        opt={"action": "read the audit trail"},
    )
    async def search(
        self,
        db_session: NamedDependency[AsyncSession],
        user: Annotated[str | None, QueryParameter(description="Caller (email, username or subject).")] = None,
        server: Annotated[str | None, QueryParameter(name="server", description="MCP server name.")] = None,
        tool: Annotated[str | None, QueryParameter(name="tool", description="Tool name.")] = None,
        status: Annotated[AuditStatus | None, QueryParameter(description="success, error or denied.")] = None,
        action: Annotated[str | None, QueryParameter(description="e.g. invoke_tool, broadcast, list_tools.")] = None,
        event_type: Annotated[str | None, QueryParameter(description="mcp_request, registry_change, auth …")] = None,
        request_id: Annotated[str | None, QueryParameter(description="X-Request-ID of one request.")] = None,
        since: Annotated[datetime | None, QueryParameter(description="Earliest event time (UTC if no zone).")] = None,
        until: Annotated[datetime | None, QueryParameter(description="Latest event time (UTC if no zone).")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=2**62, description="Events to skip.")] = 0,
    ) -> AuditPage:
        query = AuditQuery(
            user=user,
            mcp_server=server,
            tool_name=tool,
            status=status,
            action=action,
            event_type=event_type,
            request_id=request_id,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        filters = {k: v for k, v in msgspec.structs.asdict(query).items() if v is not None}
        async with audited("read_audit", event_type="admin", parameters=msgspec.to_builtins(filters)):
            rows, total = await search_audit(db_session, query)
        following = offset + len(rows)
        return AuditPage(
            items=[AuditEntry.of(row) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
            next_offset=following if following < total else None,
        )
