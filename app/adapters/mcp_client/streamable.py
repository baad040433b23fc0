"""One backend over Streamable HTTP, in whichever protocol era it speaks.

The era is negotiated once per backend and cached (mcp-protocol-notes §1): a ``server/discover``
probe at 2026-07-28 first; a backend that answers it is used statelessly (full ``_meta`` and
routing headers on every request); anything that is not positive evidence of a modern server falls
back to the ``initialize`` handshake (``Mcp-Session-Id``, ``MCP-Protocol-Version``). A handshake
session the backend forgets (404) is re-established transparently and the request sent again — the
backend never saw it, so that is safe even for ``tools/call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec

from app.adapters.mcp_client.exchange import SessionExpired
from app.adapters.mcp_client.jsonrpc import encode_notification, encode_request
from app.adapters.mcp_client.notification_streams import NotificationStreams
from app.adapters.mcp_client.protocol import (
    CLIENT_INFO,
    HANDSHAKE_VERSIONS,
    LATEST_HANDSHAKE_VERSION,
    META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO,
    META_PROTOCOL_VERSION,
    META_SERVER_INFO,
    MODERN_VERSIONS,
    UNSUPPORTED_PROTOCOL_VERSION,
    with_query,
)
from app.adapters.mcp_client.replies import as_object
from app.adapters.mcp_client.session_base import CLIENT_CAPABILITIES, ProgressHandler
from app.adapters.outbound_auth import Injection
from app.errors import BackendError, BackendProtocolError, BackendRpcError, BackendTimeout

__all__ = ("StreamableHttpSession",)

logger = logging.getLogger("mcp_gateway.backend")

_PROBE_TIMEOUT = 10.0
_JSON_AND_SSE = "application/json, text/event-stream"


class StreamableHttpSession(NotificationStreams):
    """MCP over Streamable HTTP to one backend, both eras; safe for concurrent use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._generation = 0
        """Bumped on every (re)negotiation, so concurrent callers re-negotiate once."""

    async def connect(self) -> None:
        """Negotiate the era (once; later calls return at once)."""
        if self.era is None:
            await self._reconnect(self._generation)

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        routing: Mapping[str, str] | None = None,
        on_progress: ProgressHandler | None = None,
    ) -> msgspec.Raw:
        """Send one request and return its raw ``result``; bounded by the server's timeout.

        ``routing`` adds ``Mcp-Param-*`` headers (sent to 2026-07-28 backends only).

        Raises:
            BackendError: unreachable, timed out, not MCP, or a JSON-RPC error answer.
        """
        try:
            async with asyncio.timeout(self._timeout):
                return await self._request_with_recovery(method, params, routing, on_progress)
        except TimeoutError:
            raise BackendTimeout(self.name, f"no answer within {self._timeout:g}s") from None

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send a notification (no answer expected)."""
        await self.connect()
        injection = await self._injection()
        body = self._with_meta(params, injection, method)
        await self._exchange(encode_notification(method, body), self._headers(method, body, injection), None, injection)

    async def aclose(self) -> None:
        """End the handshake session politely (DELETE) and forget the negotiated state."""
        self._cancel_helpers()
        if self.era == "handshake" and self.session_id:
            with contextlib.suppress(httpx.HTTPError, BackendError):
                injection = await self._injection()
                headers = {"mcp-session-id": self.session_id, **injection.headers}
                await self._http.delete(with_query(self.url, injection.query), headers=headers, timeout=2.0)
        self.era = None
        self.session_id = None

    # --- negotiation ---------------------------------------------------------------------------

    async def _reconnect(self, seen_generation: int) -> None:
        async with self._lock:
            if self._generation != seen_generation and self.era is not None:
                return  # another caller already reconnected
            self.era, self.session_id, self.protocol_version = None, None, None
            await self._negotiate()
            self._generation += 1

    async def _negotiate(self) -> None:
        try:
            async with asyncio.timeout(min(_PROBE_TIMEOUT, self._timeout)):
                discovered = await self._discover(MODERN_VERSIONS[-1])
        except BackendRpcError as exc:
            if exc.rpc_code == UNSUPPORTED_PROTOCOL_VERSION:
                self._check_not_disjoint(exc.data)
            discovered = None
        except BackendProtocolError:
            discovered = None  # an HTTP-level refusal of the probe: a handshake-era server
        except TimeoutError:
            raise BackendTimeout(self.name, "no answer to server/discover") from None
        if discovered is not None:
            mutual = [v for v in MODERN_VERSIONS if v in discovered.get("supportedVersions", ())]
            if mutual:
                self.era = "modern"
                self.protocol_version = mutual[-1]
                self.capabilities = dict(discovered.get("capabilities") or {})
                self.instructions = discovered.get("instructions")
                self.server_info = (discovered.get("_meta") or {}).get(META_SERVER_INFO)
                return
        await self._initialize()

    def _check_not_disjoint(self, data: Any) -> None:
        supported = data.get("supported") if isinstance(data, dict) else None
        if isinstance(supported, list) and not any(v in HANDSHAKE_VERSIONS + MODERN_VERSIONS for v in supported):
            msg = f"speaks only protocol versions {', '.join(map(str, supported))}, none of which the gateway speaks"
            raise BackendProtocolError(self.name, msg)

    async def _discover(self, version: str) -> dict[str, Any]:
        injection = await self._injection()
        meta = {
            META_PROTOCOL_VERSION: version,
            META_CLIENT_CAPABILITIES: {},
            META_CLIENT_INFO: CLIENT_INFO,
            **injection.meta,
        }
        headers = self._base_headers(injection)
        headers.update({"mcp-protocol-version": version, "mcp-method": "server/discover"})
        request_id = next(self._ids)
        reply = await self._exchange(
            encode_request(request_id, "server/discover", {"_meta": meta}), headers, request_id, injection
        )
        return as_object(self.name, reply.result, "server/discover")

    async def _initialize(self) -> None:
        injection = await self._injection()
        params = self._with_meta(
            {
                "protocolVersion": LATEST_HANDSHAKE_VERSION,
                "capabilities": CLIENT_CAPABILITIES,
                "clientInfo": CLIENT_INFO,
            },
            injection,
            "initialize",
        )
        request_id = next(self._ids)
        reply = await self._exchange(
            encode_request(request_id, "initialize", params), self._base_headers(injection), request_id, injection
        )
        result = as_object(self.name, reply.result, "initialize")
        version = result.get("protocolVersion")
        if version not in HANDSHAKE_VERSIONS:
            msg = f"negotiated unsupported protocol version {version!r}"
            raise BackendProtocolError(self.name, msg)
        self.era = "handshake"
        self.protocol_version = version
        self.session_id = reply.headers.get("mcp-session-id")
        self.capabilities = dict(result.get("capabilities") or {})
        self.server_info = result.get("serverInfo")
        self.instructions = result.get("instructions")
        initialized = self._with_meta(None, injection, "notifications/initialized")
        await self._exchange(
            encode_notification("notifications/initialized", initialized),
            self._headers("notifications/initialized", initialized, injection),
            None,
            injection,
        )

    # --- requests ------------------------------------------------------------------------------

    async def _request_with_recovery(
        self,
        method: str,
        params: dict[str, Any] | None,
        routing: Mapping[str, str] | None,
        on_progress: ProgressHandler | None,
    ) -> msgspec.Raw:
        await self.connect()
        generation = self._generation
        try:
            return await self._request_once(method, params, routing, on_progress)
        except SessionExpired:
            logger.info("MCP server '%s' dropped session %s; re-initializing", self.name, self.session_id)
        except BackendRpcError as exc:
            if not (self.era == "modern" and exc.rpc_code == UNSUPPORTED_PROTOCOL_VERSION):
                raise
            logger.info("MCP server '%s' no longer accepts %s; negotiating again", self.name, self.protocol_version)
        await self._reconnect(generation)
        try:
            return await self._request_once(method, params, routing, on_progress)
        except SessionExpired:
            raise BackendProtocolError(self.name, "rejected a freshly initialized session (404)") from None

    async def _request_once(
        self,
        method: str,
        params: dict[str, Any] | None,
        routing: Mapping[str, str] | None,
        on_progress: ProgressHandler | None,
    ) -> msgspec.Raw:
        injection = await self._injection()
        body = self._with_meta(params, injection, method)
        headers = self._headers(method, body, injection)
        if routing and self.era == "modern":
            headers.update(routing)
        request_id = next(self._ids)
        payload = encode_request(request_id, method, body)
        try:
            reply = await self._exchange(payload, headers, request_id, injection, on_progress)
        except asyncio.CancelledError:
            if self.era == "handshake":  # closing the stream is not cancellation before 2026-07-28
                self._spawn(self._send_cancelled(request_id, injection))
            raise
        if reply.result is None:
            raise BackendProtocolError(self.name, f"answered {method} with no result")
        return reply.result

    async def _send_cancelled(self, request_id: int, injection: Injection) -> None:
        params = self._with_meta({"requestId": request_id, "reason": "cancelled by the gateway"}, injection, "")
        with contextlib.suppress(BackendError, SessionExpired):
            await self._exchange(
                encode_notification("notifications/cancelled", params),
                self._headers("notifications/cancelled", params, injection),
                None,
                injection,
            )
