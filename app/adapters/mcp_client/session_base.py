"""What both backend transports share: identity, negotiated state, credentials and helper tasks."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Literal

from app.adapters.mcp_client.jsonrpc import Message
from app.adapters.mcp_client.protocol import NO_INJECTION
from app.adapters.mcp_client.transport import BackendHttpClient
from app.adapters.outbound_auth import Injection

__all__ = (
    "CLIENT_CAPABILITIES",
    "BackendSession",
    "CredentialsProvider",
    "Era",
    "NotificationHandler",
    "ProgressHandler",
    "ServerRequestDeclined",
    "ServerRequestHandler",
    "server_request_handler",
)

Era = Literal["modern", "handshake"]
CredentialsProvider = Callable[[], Awaitable[Injection]]
NotificationHandler = Callable[[str, Message], None]
"""Called with (server name, notification) for every notification a backend sends."""
ProgressHandler = Callable[[Message], None]
"""Called with each ``notifications/progress`` a backend sends about one request."""
ServerRequestHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Answers a request a backend sends while serving one call (method, params → result), e.g. ``elicitation/create``
relayed to the agent; raises :class:`ServerRequestDeclined` to answer with a JSON-RPC error instead."""

server_request_handler: ContextVar[ServerRequestHandler | None] = ContextVar(
    "mcp_gateway_server_request_handler", default=None
)
"""Set by ``BackendClient.call_tool`` for the duration of one call; read where the call's stream is parsed."""

CLIENT_CAPABILITIES: dict[str, Any] = {"elicitation": {"form": {}}}
"""What the gateway declares to handshake-era backends: it relays form elicitation to agents that declared it
(and declines for the others)."""


class ServerRequestDeclined(Exception):
    """A backend's request that will not be answered with a result; ``code`` and ``message`` go back to it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BackendSession:
    """One MCP session to one backend; subclasses speak a transport."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        http: BackendHttpClient,
        timeout: float,
        max_response_bytes: int,
        credentials: CredentialsProvider | None = None,
        on_notification: NotificationHandler | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._http = http
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._credentials = credentials
        self._on_notification = on_notification
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._helpers: set[asyncio.Task[None]] = set()
        self.era: Era | None = None
        """Negotiated protocol era (``None`` until connected)."""
        self.protocol_version: str | None = None
        self.session_id: str | None = None
        self.server_info: dict[str, Any] | None = None
        self.capabilities: dict[str, Any] = {}
        self.instructions: str | None = None

    async def _injection(self) -> Injection:
        """The backend's credential for the next request (cached by the credential layer)."""
        if self._credentials is None:
            return NO_INJECTION
        return await self._credentials()

    def _notified(self, message: Message) -> None:
        if self._on_notification is not None:
            self._on_notification(self.name, message)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a fire-and-forget helper (cancel notices, refusals) that ``_cancel_helpers`` can stop."""
        task = asyncio.ensure_future(coroutine)
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    def _cancel_helpers(self) -> None:
        for task in list(self._helpers):
            task.cancel()
