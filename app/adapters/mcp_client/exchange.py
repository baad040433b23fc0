"""How one JSON-RPC message travels to a backend over Streamable HTTP, and how its answer is read.

The envelope (headers, ``_meta``) depends on the negotiated era; the answer is ``202``, one JSON object,
or an event stream carrying notifications (and server requests, which are refused) before the response.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec
from opentelemetry import propagate

from app.adapters.mcp_client.jsonrpc import Message, RpcError, encode_response
from app.adapters.mcp_client.protocol import (
    CLIENT_INFO,
    META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO,
    META_PROTOCOL_VERSION,
    NAME_BEARING_METHODS,
    decode_or_fail,
    encode_header_value,
    read_limited,
    transport_error,
    with_query,
)
from app.adapters.mcp_client.replies import http_failure, read_event_stream, result_of
from app.adapters.mcp_client.session_base import (
    BackendSession,
    ProgressHandler,
    ServerRequestDeclined,
    ServerRequestHandler,
    server_request_handler,
)
from app.adapters.mcp_client.transport import body_chunks
from app.adapters.outbound_auth import Injection
from app.errors import BackendError, BackendProtocolError

__all__ = ("SessionExpired", "StreamableExchange")

logger = logging.getLogger("mcp_gateway.backend")
_JSON_AND_SSE = "application/json, text/event-stream"


class SessionExpired(Exception):
    """The backend answered 404 for our ``Mcp-Session-Id``: it no longer knows the session."""


class _Reply(msgspec.Struct):
    result: msgspec.Raw | None
    headers: httpx.Headers


class StreamableExchange(BackendSession):
    """Sending messages and reading answers; the session classes build on it."""

    async def _exchange(
        self,
        payload: bytes,
        headers: Mapping[str, str],
        request_id: int | None,
        injection: Injection,
        on_progress: ProgressHandler | None = None,
    ) -> _Reply:
        try:
            response = await self._http.open("POST", with_query(self.url, injection.query), payload, headers)
            try:
                return await self._read_reply(response, request_id, headers, on_progress)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc) from None

    async def _read_reply(
        self,
        response: httpx.Response,
        request_id: int | None,
        sent: Mapping[str, str],
        on_progress: ProgressHandler | None = None,
    ) -> _Reply:
        status = response.status_code
        if status == 202:
            return _Reply(result=None, headers=response.headers)
        if status == 404 and "mcp-session-id" in sent:
            raise SessionExpired
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if status == 200 and content_type == "text/event-stream":
            result = await self._read_event_stream(response, request_id, on_progress)
            return _Reply(result=result, headers=response.headers)
        body = b"".join([chunk async for chunk in read_limited(body_chunks(response), self.name, self._max_bytes)])
        if status != 200:
            raise http_failure(self.name, status, body)
        if content_type != "application/json":
            msg = f"answered with content type {content_type or 'none'!r}, expected JSON or an event stream"
            raise BackendProtocolError(self.name, msg)
        if request_id is None:
            return _Reply(result=None, headers=response.headers)
        return _Reply(
            result=result_of(self.name, decode_or_fail(self.name, body), request_id), headers=response.headers
        )

    async def _read_event_stream(
        self, response: httpx.Response, request_id: int | None, on_progress: ProgressHandler | None = None
    ) -> msgspec.Raw | None:
        chunks = read_limited(body_chunks(response), self.name, self._max_bytes)

        def on_message(message: Message) -> None:
            if on_progress is not None and message.method == "notifications/progress":
                on_progress(message)
            else:
                self._on_stream_message(message)

        return await read_event_stream(chunks, self.name, request_id, on_message)

    def _on_stream_message(self, message: Message) -> None:
        if message.method is not None and message.id is not None:
            self._spawn(self._answer_server_request(message, server_request_handler.get()))
        elif message.method is not None:
            self._notified(message)

    async def _answer_server_request(self, message: Message, handler: ServerRequestHandler | None) -> None:
        """Relay a backend's request (elicitation) to whoever the current call serves; without one, or when the
        agent cannot answer, reply with an error rather than leave the backend waiting."""
        assert message.id is not None
        assert message.method is not None
        reply: bytes
        if handler is None:
            why = "this call has no channel to the agent (a fan-out, or a caller without a stream or at 2026-07-28)"
            error = RpcError(code=-32601, message=f"the gateway cannot relay {message.method}: {why}")
            reply = encode_response(message.id, error=error)
        else:
            try:
                params = msgspec.json.decode(message.params) if len(message.params) else {}
                result = await handler(message.method, params if isinstance(params, dict) else {})
                reply = encode_response(message.id, result=result)
            except ServerRequestDeclined as declined:
                reply = encode_response(message.id, error=RpcError(code=declined.code, message=declined.message))
            except Exception:
                logger.exception("relaying %s from MCP server '%s' failed", message.method, self.name)
                reply = encode_response(message.id, error=RpcError(code=-32603, message="the gateway failed to relay"))
        injection = await self._injection()
        # Server requests exist in the handshake era only: the answer carries the session id and version.
        with contextlib.suppress(BackendError, SessionExpired):
            await self._exchange(reply, self._headers("", None, injection), None, injection)

    # --- envelope ------------------------------------------------------------------------------

    def _base_headers(self, injection: Injection) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": _JSON_AND_SSE}
        headers.update(injection.headers)
        propagate.inject(headers)
        return headers

    def _headers(self, method: str, params: dict[str, Any] | None, injection: Injection) -> dict[str, str]:
        headers = self._base_headers(injection)
        if self.protocol_version:
            headers["mcp-protocol-version"] = self.protocol_version
        if self.era == "handshake":
            if self.session_id:
                headers["mcp-session-id"] = self.session_id
            return headers
        headers["mcp-method"] = method
        key = NAME_BEARING_METHODS.get(method)
        if key is not None and params is not None and isinstance(params.get(key), str):
            headers["mcp-name"] = encode_header_value(params[key])
        return headers

    def _with_meta(self, params: dict[str, Any] | None, injection: Injection, method: str) -> dict[str, Any] | None:
        if self.era != "modern" and not injection.meta:
            return params
        body = dict(params or {})
        meta = dict(body.get("_meta") or {})
        if self.era == "modern" and method != "initialize":
            meta.update(
                {
                    META_PROTOCOL_VERSION: self.protocol_version,
                    META_CLIENT_CAPABILITIES: {},
                    META_CLIENT_INFO: CLIENT_INFO,
                }
            )
        meta.update(injection.meta)
        body["_meta"] = meta
        return body
