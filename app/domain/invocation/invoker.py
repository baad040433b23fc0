"""Invoker (one server) and Broadcaster (the same call on many servers, concurrently)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from app.domain.access import AccessPolicy
from app.domain.backends import BackendPool
from app.domain.catalog.catalog import ToolCatalog
from app.domain.invocation.results import BroadcastOutcome, CallOutcome
from app.domain.registry.directory import ServerDirectory
from app.errors import GatewayError, ToolNotFound

__all__ = ("Broadcaster", "Invoker")


class Invoker:
    """Runs one ``tools/call`` on one named server."""

    __slots__ = ("_access", "_catalog", "_directory", "_pool")

    def __init__(
        self, directory: ServerDirectory, pool: BackendPool, catalog: ToolCatalog, access: AccessPolicy | None = None
    ) -> None:
        self._directory = directory
        self._pool = pool
        self._catalog = catalog
        self._access = access or AccessPolicy()

    async def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> CallOutcome:
        """Call ``tool`` on ``server``.

        Raises:
            ServerNotFound, ServerDisabled: the server cannot take calls.
            AccessDenied: the current caller may not use the server.
            ToolNotFound: the server is known not to offer ``tool`` (or its allow-list hides it).
            BackendError, CredentialUnavailable: the call itself failed.
        """
        registered = self._directory.get_enabled(server)
        self._access.check(registered)
        allowed = registered.config.tools
        entry = self._catalog.entry(server)
        known = {t.get("name") for t in entry.tools} if entry is not None and entry.tools is not None else None
        if (allowed is not None and tool not in allowed) or (known is not None and tool not in known):
            raise ToolNotFound(tool, server)
        started = time.perf_counter()
        result, raw = await self._pool.client(registered).call_tool(tool, arguments, on_progress=on_progress)
        return CallOutcome(server=server, tool=tool, duration_ms=_ms(started), result=result, raw=raw)

    async def try_call(self, server: str, tool: str, arguments: dict[str, Any] | None) -> CallOutcome:
        """Like :meth:`call`, but a failure is returned in the outcome instead of raised."""
        started = time.perf_counter()
        try:
            return await self.call(server, tool, arguments)
        except GatewayError as exc:
            return CallOutcome(server=server, tool=tool, duration_ms=_ms(started), error=exc)


class Broadcaster:
    """The same call on N servers: all legs start together, each bounded by its own server's timeout."""

    __slots__ = ("_invoker",)

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    async def call_all(
        self, tool: str, arguments: dict[str, Any] | None, servers: Sequence[str], *, excluded: int = 0
    ) -> BroadcastOutcome:
        """Call ``tool`` on every server in ``servers``; one leg's failure never affects the others.

        Cancelling the caller cancels every leg still running.
        """
        started = time.perf_counter()
        legs: dict[str, asyncio.Task[CallOutcome]] = {}
        async with asyncio.TaskGroup() as group:
            for server in dict.fromkeys(servers):
                legs[server] = group.create_task(self._invoker.try_call(server, tool, arguments))
        return BroadcastOutcome(
            tool=tool,
            legs={server: task.result() for server, task in legs.items()},
            duration_ms=_ms(started),
            excluded=excluded,
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
