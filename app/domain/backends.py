"""BackendPool: one long-lived BackendClient per registered server, rebuilt when its config changes.

Shared by the tool catalog (listing) and the invoker (calling), so both reuse the same sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import TYPE_CHECKING

from app.adapters.mcp_client import BackendClient, BackendObserver, BackendTarget, NotificationHandler
from app.adapters.mcp_client.guard import BackendGuard
from app.domain.registry.config import ServerConfig
from app.domain.registry.directory import ServerDirectory
from app.domain.registry.service import RegisteredServer

if TYPE_CHECKING:
    from app.adapters.outbound_auth import Injection, OutboundAuth

__all__ = ("BackendPool",)

logger = logging.getLogger("mcp_gateway.backend")


class BackendPool:
    """Creates clients lazily, reuses them for every call, closes them when a server changes or goes."""

    __slots__ = (
        "_breaker",
        "_clients",
        "_closing",
        "_http2",
        "_keepalive",
        "_listeners",
        "_max_response_bytes",
        "_observer",
        "_on_notification",
        "_outbound_auth",
        "_ssl",
    )

    def __init__(
        self,
        directory: ServerDirectory,
        outbound_auth: OutboundAuth,
        *,
        ssl_context: ssl.SSLContext,
        max_response_bytes: int,
        on_notification: NotificationHandler | None = None,
        observer: BackendObserver | None = None,
        breaker_failures: int = 5,
        breaker_open_seconds: float = 10.0,
        max_in_flight: int = 100,
        max_queued: int = 1000,
        keepalive_seconds: float = 4.0,
        http2: bool = False,
    ) -> None:
        self._outbound_auth = outbound_auth
        self._http2 = http2
        self._breaker = (breaker_failures, breaker_open_seconds, max_in_flight, max_queued)
        self._keepalive = keepalive_seconds
        self._observer = observer
        """Told of every backend request's outcome and duration (metrics)."""
        self._ssl = ssl_context
        self._max_response_bytes = max_response_bytes
        self._on_notification = on_notification
        self._clients: dict[str, tuple[ServerConfig, BackendClient]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._listeners: dict[str, asyncio.Task[None]] = {}
        directory.subscribe(self._server_changed)

    def set_notification_handler(self, handler: NotificationHandler) -> None:
        """Where backend notifications go (the catalog, for ``tools/list_changed``); applies to new clients."""
        self._on_notification = handler

    def client(self, server: RegisteredServer) -> BackendClient:
        """The client for ``server``'s current configuration."""
        known = self._clients.get(server.name)
        if known is not None and known[0] == server.config:
            return known[1]
        if known is not None:
            self._forget(server.name)
        client = self._build(server)
        self._clients[server.name] = (server.config, client)
        if self._on_notification is not None:
            # Hear tools/list_changed (and other notifications) without waiting for the next call.
            self._listeners[server.name] = asyncio.create_task(client.listen(), name=f"listen:{server.name}")
        return client

    def existing(self, name: str) -> BackendClient | None:
        """The client already built for ``name``, if any (for status reports)."""
        known = self._clients.get(name)
        return known[1] if known else None

    async def aclose(self) -> None:
        for listener in self._listeners.values():
            listener.cancel()
        self._listeners.clear()
        clients = [client for _, client in self._clients.values()]
        self._clients.clear()
        await asyncio.gather(*(self._close(c) for c in clients), *self._closing, return_exceptions=True)

    def _build(self, server: RegisteredServer) -> BackendClient:
        config = server.config
        target = BackendTarget(name=server.name, url=config.url, transport=config.transport, timeout=config.timeout)
        auth = config.auth
        outbound_auth = self._outbound_auth

        async def credentials() -> Injection:
            return await outbound_auth.injection(server.name, auth, config.url)

        return BackendClient(
            target,
            ssl_context=self._ssl,
            max_response_bytes=self._max_response_bytes,
            credentials=credentials if auth is not None and auth.method != "none" else None,
            on_notification=self._on_notification,
            observer=self._observer,
            guard=self._guard(server.name),
            max_connections=self._breaker[2],  # one keep-alive connection per call allowed in flight
            keepalive_seconds=self._keepalive,
            http2=self._http2,
        )

    def _guard(self, name: str) -> BackendGuard:
        failures, open_seconds, in_flight, queued = self._breaker
        return BackendGuard(
            name,
            failure_threshold=failures,
            open_seconds=open_seconds,
            max_in_flight=in_flight,
            max_waiting=queued,
        )

    def guards(self) -> dict[str, BackendGuard]:
        """The guard of every backend this process has talked to (circuit state for health and metrics)."""
        return {name: client.guard for name, (_, client) in self._clients.items()}

    def _server_changed(self, name: str, server: RegisteredServer | None) -> None:
        known = self._clients.get(name)
        if known is None or (server is not None and known[0] == server.config):
            return
        self._forget(name)

    def _forget(self, name: str) -> None:
        listener = self._listeners.pop(name, None)
        if listener is not None:
            listener.cancel()
        known = self._clients.pop(name, None)
        if known is not None:
            self._close_later(known[1])

    def _close_later(self, client: BackendClient) -> None:
        task = asyncio.ensure_future(self._close(client))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close(client: BackendClient) -> None:
        with contextlib.suppress(Exception):
            await client.aclose()
