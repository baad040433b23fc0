"""System endpoints: ``/``, ``/health``, ``/health/live`` and ``/config``."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.api.guards import require_admin
from app.settings import Settings

__all__ = ("SystemController",)

_DB_CHECK_TIMEOUT = 2.0


class SystemController(Controller):
    tags = ["system"]

    @get("/", summary="API information")
    async def index(self) -> dict[str, Any]:
        return {
            "name": "mcp-gateway",
            "version": __version__,
            "links": {
                "health": "/health",
                "config": "/config",
                "servers": "/mcp/servers",
                "openapi": "/schema/openapi.json",
                "docs": "/schema/swagger",
            },
        }

    @get("/health/live", summary="Liveness: the process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/health", summary="Readiness: the gateway and its database can serve requests")
    async def health(self, db_engine: NamedDependency[AsyncEngine], state: State) -> Response[dict[str, Any]]:
        database = await _database_status(db_engine)
        ready = database == "ok"
        # Backend circuits are reported, by count only (names need authorization: /mcp/server/{name}/info,
        # /metrics); a sick backend never makes the gateway unready.
        circuits = Counter(guard.state for guard in state.services.pool.guards().values())
        body = {
            "status": "ok" if ready else "unavailable",
            "version": __version__,
            "database": database,
            "backend_circuits": {key: circuits.get(key, 0) for key in ("closed", "open", "half_open")},
        }
        return Response(body, status_code=200 if ready else 503)

    @get("/config", summary="Effective settings; secrets shown only as set/unset", guards=[require_admin])
    async def config(
        self, settings: NamedDependency[Settings], file_server_count: NamedDependency[int]
    ) -> dict[str, Any]:
        return {"settings": settings.public_view(), "servers_file": {"servers": file_server_count}}


async def _database_status(engine: AsyncEngine) -> str:
    try:
        async with asyncio.timeout(_DB_CHECK_TIMEOUT):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"error: no answer within {_DB_CHECK_TIMEOUT:g}s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
