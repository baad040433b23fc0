"""One backend over the legacy HTTP+SSE transport (protocol 2024-11-05, servers with ``type: sse``).

A GET opens an event stream whose first ``endpoint`` event names the URL to POST messages to;
every answer arrives on that stream and is matched to its request by JSON-RPC id. A broken stream
fails the requests waiting on it; the next request opens a new stream and initializes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx
import msgspec
from opentelemetry import propagate

from app.adapters.mcp_client.jsonrpc import Message, RpcError, encode_notification, encode_request, encode_response
from app.adapters.mcp_client.protocol import (
    CLIENT_INFO,
    HANDSHAKE_VERSIONS,
    LATEST_HANDSHAKE_VERSION,
    decode_or_fail,
    transport_error,
    with_query,
)
from app.adapters.mcp_client.session_base import BackendSession, ProgressHandler
from app.adapters.mcp_client.sse import iter_events
from app.errors import BackendError, BackendProtocolError, BackendRpcError, BackendTimeout, BackendUnreachable

__all__ = ("LegacySseSession",)

logger = logging.getLogger("mcp_gateway.backend")


class LegacySseSession(BackendSession):
    """MCP over HTTP+SSE to one backend; safe for concurrent use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[int | str, asyncio.Future[Message]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._endpoint: asyncio.Future[str] | None = None
        self._progress: dict[Any, ProgressHandler] = {}

    async def connect(self) -> None:
        """Open the event stream and initialize, unless a live stream exists."""
        if self._reader is not None and not self._reader.done() and self.era is not None:
            return
        async with self._lock:
            if self._reader is not None and not self._reader.done() and self.era is not None:
                return
            await self._open()

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        routing: Mapping[str, str] | None = None,
        on_progress: ProgressHandler | None = None,
    ) -> msgspec.Raw:
        """Send one request and wait for its answer on the stream, within the server's timeout.

        ``routing`` is accepted for symmetry and ignored: routing headers are a 2026-07-28 feature.
        """
        try:
            async with asyncio.timeout(self._timeout):
                await self.connect()
                token = ((params or {}).get("_meta") or {}).get("progressToken")
                if on_progress is None or token is None:
                    return await self._roundtrip(method, params)
                self._progress[token] = on_progress  # progress arrives on the shared stream, keyed by token
                try:
                    return await self._roundtrip(method, params)
                finally:
                    self._progress.pop(token, None)
        except TimeoutError:
            raise BackendTimeout(self.name, f"no answer within {self._timeout:g}s") from None

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.connect()
        await self._post(encode_notification(method, await self._params(params)))

    async def listen(self) -> None:
        """Notifications already arrive on this transport's one stream; keep it open so they can."""
        delay = 1.0
        while True:
            try:
                await self.connect()
                if self._reader is not None:
                    await asyncio.shield(self._reader)
                delay = 1.0
            except BackendError as exc:
                logger.debug("SSE stream of '%s' failed: %s", self.name, exc.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def aclose(self) -> None:
        self._cancel_helpers()
        if self._reader is not None:
            self._reader.cancel()
        self._reader = None
        self.era = None

    async def _open(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self.era = None
        loop = asyncio.get_running_loop()
        self._endpoint = loop.create_future()
        self._reader = asyncio.create_task(self._read_stream(self._endpoint), name=f"sse:{self.name}")
        try:
            await asyncio.shield(self._endpoint)
        except BackendError:
            raise
        result = await self._roundtrip(
            "initialize", {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
        )
        info = msgspec.json.decode(result)
        if not isinstance(info, dict) or info.get("protocolVersion") not in HANDSHAKE_VERSIONS:
            raise BackendProtocolError(self.name, "initialize answered with an unsupported protocol version")
        self.era = "handshake"
        self.protocol_version = info["protocolVersion"]
        self.capabilities = dict(info.get("capabilities") or {})
        self.server_info = info.get("serverInfo")
        self.instructions = info.get("instructions")
        await self._post(encode_notification("notifications/initialized", await self._params(None)))

    async def _roundtrip(self, method: str, params: dict[str, Any] | None) -> msgspec.Raw:
        request_id = next(self._ids)
        answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        try:
            await self._post(encode_request(request_id, method, await self._params(params)))
            message = await answer
        except asyncio.CancelledError:
            self._spawn(self._notify_quietly("notifications/cancelled", {"requestId": request_id}))
            raise
        finally:
            self._pending.pop(request_id, None)
        if message.error is not None:
            raise BackendRpcError(self.name, message.error.code, message.error.message, message.error.data)
        if not message.has_result:
            raise BackendProtocolError(self.name, f"answered {method} with no result")
        return message.result

    async def _post(self, payload: bytes) -> None:
        if self._endpoint is None or not self._endpoint.done():
            raise BackendUnreachable(self.name, "no SSE session")
        injection = await self._injection()
        headers = {"content-type": "application/json", **injection.headers}
        propagate.inject(headers)
        try:
            response = await self._http.post(
                with_query(self._endpoint.result(), injection.query), content=payload, headers=headers
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc) from None
        if response.status_code >= 300:
            raise BackendProtocolError(self.name, f"message endpoint answered HTTP {response.status_code}")

    async def _notify_quietly(self, method: str, params: dict[str, Any]) -> None:
        with contextlib.suppress(BackendError):
            await self._post(encode_notification(method, await self._params(params)))

    async def _post_quietly(self, payload: bytes) -> None:
        with contextlib.suppress(BackendError):
            await self._post(payload)

    async def _read_stream(self, endpoint: asyncio.Future[str]) -> None:
        failure: BackendError = BackendUnreachable(self.name, "the SSE stream closed")
        try:
            injection = await self._injection()
            headers = {"accept": "text/event-stream", "cache-control": "no-store", **injection.headers}
            propagate.inject(headers)
            async with self._http.stream(
                "GET", with_query(self.url, injection.query), headers=headers, timeout=httpx.Timeout(None)
            ) as response:
                if response.status_code != 200:
                    failure = BackendProtocolError(self.name, f"SSE endpoint answered HTTP {response.status_code}")
                    return
                async for event in iter_events(response.aiter_bytes()):
                    if len(event.data) > self._max_bytes:
                        failure = BackendProtocolError(self.name, f"message larger than {self._max_bytes} bytes")
                        return
                    self._dispatch(event.event, event.data, endpoint)
        except httpx.HTTPError as exc:
            failure = transport_error(self.name, exc)
        except BackendError as exc:
            failure = exc
        finally:
            self.era = None
            if not endpoint.done():
                endpoint.set_exception(failure)
                endpoint.exception()  # mark retrieved: the waiter may already be gone
            for waiter in self._pending.values():
                if not waiter.done():
                    waiter.set_exception(failure)

    def _dispatch(self, kind: str, data: str, endpoint: asyncio.Future[str]) -> None:
        if kind == "endpoint":
            if not endpoint.done():
                endpoint.set_result(urljoin(self.url, data.strip()))
            return
        if kind != "message":
            return
        message = decode_or_fail(self.name, data)
        if message.is_response:
            waiter = self._pending.get(message.id) if message.id is not None else None
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
        elif message.method is not None and message.id is not None:
            error = RpcError(code=-32601, message=f"the gateway does not support {message.method} requests")
            self._spawn(self._post_quietly(encode_response(message.id, error=error)))
        elif message.method == "notifications/progress" and self._progress_handler(message) is not None:
            self._progress_handler(message)(message)  # type: ignore[misc]
        elif message.method is not None:
            self._notified(message)

    def _progress_handler(self, message: Message) -> ProgressHandler | None:
        try:
            token = msgspec.json.decode(message.params).get("progressToken") if len(message.params) else None
        except (msgspec.DecodeError, AttributeError):
            return None
        return self._progress.get(token)

    async def _params(self, params: dict[str, Any] | None) -> dict[str, Any] | None:
        injection = await self._injection()
        if not injection.meta:
            return params
        body = dict(params or {})
        body["_meta"] = {**(body.get("_meta") or {}), **injection.meta}
        return body
