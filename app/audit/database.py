"""The ``audit_logs`` sink: batched inserts (one ``executemany`` per batch) on an engine of its own.

The sink's engine is separate from the request engine so audit writes never hold connections that
requests wait for, and a broken connection is replaced on the next batch. On SQLite the sink keeps one
connection and re-opens it when the path no longer names the file it has open (moved away, deleted,
replaced): rows are never written into a file nobody can find. A batch the database
refuses for its content (not for being unreachable) is retried row by row, so one bad row cannot
sink its neighbours; rows still refused are reported as rejected.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.audit.event import AuditEvent
from app.audit.sinks import PartlyWritten, RowsRejected
from app.db.engine import sqlite_file
from app.db.models import AuditRecord

__all__ = ("DatabaseSink", "event_row")

logger = logging.getLogger("mcp_gateway.audit")
_TABLE: Table = AuditRecord.__table__  # type: ignore[assignment]  # declarative tables are Tables
_LIMITS = {
    column.name: column.type.length
    for column in _TABLE.columns
    if isinstance(column.type, String) and column.type.length is not None
}
"""Column name → maximum length; longer strings are cut so a row always fits (PostgreSQL enforces it)."""


def event_row(event: AuditEvent) -> dict[str, Any]:
    """The ``audit_logs`` row of ``event`` (strings cut to their column's length)."""
    row: dict[str, Any] = {
        "timestamp": event.timestamp,
        "level": event.level,
        "logger": event.logger,
        "event_type": event.event_type,
        "user": event.user,
        "action": event.action,
        "mcp_server": event.mcp_server,
        "tool_name": event.tool_name,
        "parameters": event.parameters,
        "status": event.status,
        "duration_ms": event.duration_ms,
        "response_status": event.response_status,
        "request_id": event.request_id,
        "trace_id": event.trace_id,
        "client_address": event.client,
        "error": event.error,
    }
    for name, limit in _LIMITS.items():
        value = row[name]
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


def _unreachable(exc: Exception) -> bool:
    """Whether ``exc`` means "the database cannot be used now" (retry) rather than "this row is wrong"."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class DatabaseSink:
    """Inserts audit events into ``audit_logs``."""

    __slots__ = ("_engine", "_file", "_file_identity", "_owns_engine", "name")

    def __init__(self, engine: AsyncEngine, *, owns_engine: bool = True) -> None:
        self.name = "database"
        self._engine = engine
        self._owns_engine = owns_engine
        self._file = sqlite_file(engine)
        self._file_identity: tuple[int, int] | None = None

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        """Insert the batch in one statement.

        Raises:
            RowsRejected: some rows were refused for their content (the others are stored).
            PartlyWritten: the database went away during a row-by-row retry (``remaining`` not stored).
            Exception: the database is unreachable; nothing of the batch was stored.
        """
        rows = [event_row(event) for event in batch]
        if self._file is not None:
            await self._follow_file(self._file)
        # A failure to connect is always "unreachable", whatever the driver calls it (refused, not
        # accepting connections, authentication): only a failing statement can mean "bad rows".
        async with self._engine.connect() as connection:
            try:
                async with connection.begin():
                    await connection.execute(insert(_TABLE), rows)
            except Exception as exc:
                if _unreachable(exc):
                    raise
                await self._one_by_one(connection, batch, rows, exc)

    async def _follow_file(self, path: Path) -> None:
        """Drop the kept SQLite connection if the path now names another file, or none (the next connection
        is opened on whatever is there, and fails while nothing is)."""
        try:
            stat = os.stat(path)
            identity: tuple[int, int] | None = (stat.st_dev, stat.st_ino)
        except OSError:
            identity = None
        if identity is None or identity != self._file_identity:
            await self._engine.dispose()
        self._file_identity = identity

    async def _one_by_one(
        self, connection: AsyncConnection, batch: Sequence[AuditEvent], rows: list[dict[str, Any]], first: Exception
    ) -> None:
        rejected = 0
        for index, row in enumerate(rows):
            try:
                async with connection.begin():
                    await connection.execute(insert(_TABLE), [row])
            except Exception as exc:
                if _unreachable(exc):
                    raise PartlyWritten(batch[index:], exc) from exc
                rejected += 1
        if rejected:
            raise RowsRejected(rejected, type(first).__name__)

    async def aclose(self) -> None:
        if self._owns_engine:
            await self._engine.dispose()
