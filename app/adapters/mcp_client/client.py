"""BackendClient: the gateway's MCP client for one registered backend server."""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import httpx
import msgspec
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from app.adapters.mcp_client.guard import BackendGuard
from app.adapters.mcp_client.jsonrpc import Message
from app.adapters.mcp_client.legacy_sse import LegacySseSession
from app.adapters.mcp_client.param_headers import ParamHeaders, param_header_values, param_headers_of
from app.adapters.mcp_client.session_base import (
    CredentialsProvider,
    NotificationHandler,
    ProgressHandler,
    ServerRequestHandler,
    server_request_handler,
)
from app.adapters.mcp_client.streamable import StreamableHttpSession
from app.adapters.mcp_client.transport import BackendHttpClient
from app.errors import BackendProtocolError, BackendUnreachable
from app.telemetry import span_when_exported

__all__ = ("BackendClient", "BackendObserver", "BackendTarget", "CallResult")

logger = logging.getLogger("mcp_gateway.backend")
_tracer = trace.get_tracer("mcp_gateway.backend")
_MAX_PAGES = 100
_progress_tokens = itertools.count(1)
T = TypeVar("T")
BackendObserver = Callable[[str, str, str | None, str, float], None]
"""Told of every request that ended: (server, method, tool for ``tools/call`` else None, outcome, seconds).

``outcome`` is ``success``, ``error`` (failed, or a tool result with ``isError``) or ``cancelled``.
"""


class BackendTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to reach one backend (the adapter's view of a registered server)."""

    name: str
    url: str
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    timeout: float = 30.0


class _Page(msgspec.Struct):
    """One page of a list method; items stay plain dicts so every field a backend sends is preserved."""

    nextCursor: str | None = None  # noqa: N815 - the wire name
    tools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    resources: list[dict[str, Any]] = msgspec.field(default_factory=list)
    resourceTemplates: list[dict[str, Any]] = msgspec.field(default_factory=list)  # noqa: N815
    prompts: list[dict[str, Any]] = msgspec.field(default_factory=list)


_RETRY_DELAY = 0.05
_LIST_KEYS = {
    "tools/list": "tools",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
    "prompts/list": "prompts",
}
_RETRY_SAFE = frozenset({"ping", "resources/read", "prompts/get", *_LIST_KEYS})
"""Requests without side effects, repeated once after a failed connection (``tools/call`` never is)."""


class CallResult(msgspec.Struct, omit_defaults=True):
    """A ``tools/call`` result (the fields the gateway reads; the raw result is kept alongside)."""

    content: list[dict[str, Any]] = msgspec.field(default_factory=list)
    structuredContent: Any = None  # noqa: N815
    isError: bool = False  # noqa: N815


class BackendClient:
    """One pooled keep-alive connection set and one negotiated MCP session per backend, reused by all calls."""

    __slots__ = ("_http", "_observer", "_param_headers", "guard", "session", "target")

    def __init__(
        self,
        target: BackendTarget,
        *,
        ssl_context: ssl.SSLContext,
        max_response_bytes: int,
        credentials: CredentialsProvider | None = None,
        on_notification: NotificationHandler | None = None,
        max_connections: int = 100,
        keepalive_seconds: float = 4.0,
        observer: BackendObserver | None = None,
        guard: BackendGuard | None = None,
        http2: bool = False,
    ) -> None:
        self.target = target
        self._observer = observer
        self.guard = guard or BackendGuard(target.name)
        """Circuit breaker and concurrency bound for every request to this backend."""
        self._param_headers: dict[str, ParamHeaders] = {}
        """Per tool, the arguments that travel as ``Mcp-Param-*`` headers (learnt from ``tools/list``)."""
        self._http = BackendHttpClient(
            ssl_context=ssl_context,
            timeout=httpx.Timeout(target.timeout, connect=min(10.0, target.timeout)),
            max_connections=max_connections,
            keepalive_seconds=keepalive_seconds,
            http2=http2 and target.url.lower().startswith("https://"),
        )
        session_type = LegacySseSession if target.transport == "sse" else StreamableHttpSession
        self.session: StreamableHttpSession | LegacySseSession = session_type(
            name=target.name,
            url=target.url,
            http=self._http,
            timeout=target.timeout,
            max_response_bytes=max_response_bytes,
            credentials=credentials,
            on_notification=on_notification,
        )

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        routing: dict[str, str] | None = None,
        on_progress: ProgressHandler | None = None,
    ) -> msgspec.Raw:
        """Any MCP request, in a client span whose context travels to the backend as ``traceparent``."""
        raw, _ = await self._request(method, params, routing, on_progress, None)
        return raw

    async def _request(
        self,
        method: str,
        params: dict[str, Any] | None,
        routing: dict[str, str] | None,
        on_progress: ProgressHandler | None,
        tool: str | None,
    ) -> tuple[msgspec.Raw, CallResult | None]:
        """The request in its span (server, method, tool, status, duration, session id); a tool call is decoded."""
        name = self.target.name
        attributes = {"mcp.server": name, "mcp.method": method}
        if tool is not None:
            attributes["mcp.tool"] = tool
        outcome = "error"
        started = time.perf_counter()
        with span_when_exported(_tracer, f"{method} {name}", kind=trace.SpanKind.CLIENT, attributes=attributes) as span:
            try:
                raw = await self._guarded(method, params, routing, on_progress)
                result = self._decode(raw, CallResult) if tool is not None else None
                if result is not None and result.isError:
                    span.set_status(StatusCode.ERROR, "the tool reported an error")
                else:
                    outcome = "success"
                return raw, result
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                elapsed = time.perf_counter() - started
                span.set_attribute("mcp.status", outcome)
                span.set_attribute("mcp.duration_ms", round(elapsed * 1000, 3))
                if self.session.session_id:
                    span.set_attribute("mcp.session.id", self.session.session_id)
                if self._observer is not None:
                    self._observer(name, method, tool, outcome, elapsed)

    async def _guarded(
        self,
        method: str,
        params: dict[str, Any] | None,
        routing: dict[str, str] | None,
        on_progress: ProgressHandler | None,
    ) -> msgspec.Raw:
        """Through the guard; a request that is safe to repeat (never ``tools/call``) gets one retry when the
        connection failed, so a backend restart or a stale keep-alive connection does not fail a listing."""
        retries = 1 if method in _RETRY_SAFE else 0
        while True:
            try:
                async with self.guard.call():
                    return await self.session.request(method, params, routing, on_progress)
            except BackendUnreachable:
                if retries == 0 or self.guard.state != "closed":
                    raise
            retries -= 1
            await asyncio.sleep(_RETRY_DELAY)

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool the backend offers, following ``nextCursor`` across pages.

        Tools with invalid ``x-mcp-header`` annotations are dropped (and logged), as the spec requires.
        """
        return self._checked(await self.list_all("tools/list"))

    async def list_all(self, method: str) -> list[dict[str, Any]]:
        """Every item of a list method (``tools/list``, ``resources/list``, ``resources/templates/list``,
        ``prompts/list``), following ``nextCursor`` across pages."""
        key = _LIST_KEYS[method]
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = self._decode(await self.request(method, {"cursor": cursor} if cursor else None), _Page)
            items.extend(getattr(page, key))
            cursor = page.nextCursor
            if not cursor:
                return items
            if cursor in seen:
                raise BackendProtocolError(self.target.name, f"{method} repeated cursor {cursor!r}")
            seen.add(cursor)
        raise BackendProtocolError(self.target.name, f"{method} did not end within {_MAX_PAGES} pages")

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        meta: dict[str, Any] | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_request: ServerRequestHandler | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[CallResult, msgspec.Raw]:
        """``tools/call``; the decoded essentials and the raw result (for lossless forwarding).

        With ``on_progress``, the backend is asked for progress (a token of the gateway's own) and each
        ``notifications/progress`` params object is handed over as it arrives. ``on_request`` answers the
        requests the backend sends while working on this call (elicitation); without it they are declined.
        ``extra`` adds params (``inputResponses`` and ``requestState`` of a multi-round-trip retry).
        """
        params: dict[str, Any] = {**(extra or {}), "name": name, "arguments": arguments or {}}
        if meta:
            params["_meta"] = dict(meta)
        relay: ProgressHandler | None = None
        if on_progress is not None:
            token = f"gateway-{next(_progress_tokens)}"
            params["_meta"] = {**params.get("_meta", {}), "progressToken": token}

            def relay_progress(message: Message) -> None:
                update = msgspec.json.decode(message.params) if len(message.params) else {}
                if isinstance(update, dict) and update.get("progressToken") == token:
                    on_progress(update)

            relay = relay_progress

        routing = param_header_values(self._param_headers.get(name, ()), arguments)
        handler = server_request_handler.set(on_request)
        try:
            raw, result = await self._request("tools/call", params, routing, relay, name)
        finally:
            server_request_handler.reset(handler)
        assert result is not None
        return result, raw

    def _checked(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for tool in tools:
            try:
                headers = param_headers_of(tool.get("inputSchema"))
            except ValueError as exc:
                logger.warning("MCP server '%s': dropping tool %r: %s", self.target.name, tool.get("name"), exc)
                continue
            if headers:
                self._param_headers[str(tool.get("name"))] = headers
            kept.append(tool)
        return kept

    async def listen(self) -> None:
        """Hold the backend's notification stream open until cancelled (see the sessions' ``listen``)."""
        await self.session.listen()

    async def aclose(self) -> None:
        """End the session and close the connections."""
        try:
            await self.session.aclose()
        finally:
            await self._http.aclose()

    def _decode(self, raw: msgspec.Raw, kind: type[T]) -> T:
        try:
            return msgspec.json.decode(raw, type=kind)
        except msgspec.ValidationError as exc:
            raise BackendProtocolError(self.target.name, f"unexpected result shape: {exc}") from None
        except msgspec.DecodeError as exc:
            raise BackendProtocolError(self.target.name, f"result is not JSON: {exc}") from None
