"""MCP protocol constants and the small wire helpers both transports share."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx

from app import __version__
from app.adapters.mcp_client.jsonrpc import Message, decode_message
from app.adapters.outbound_auth import Injection
from app.errors import BackendError, BackendProtocolError, BackendTimeout, BackendUnreachable

__all__ = (
    "CLIENT_INFO",
    "HANDSHAKE_VERSIONS",
    "LATEST_HANDSHAKE_VERSION",
    "META_CLIENT_CAPABILITIES",
    "META_CLIENT_INFO",
    "META_PROTOCOL_VERSION",
    "META_SERVER_INFO",
    "MODERN_VERSIONS",
    "NAME_BEARING_METHODS",
    "NO_INJECTION",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "decode_or_fail",
    "encode_header_value",
    "read_limited",
    "transport_error",
    "with_query",
)

HANDSHAKE_VERSIONS: Final = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Revisions negotiated with ``initialize`` (sessions, ``Mcp-Session-Id``)."""
LATEST_HANDSHAKE_VERSION: Final = HANDSHAKE_VERSIONS[-1]
MODERN_VERSIONS: Final = ("2026-07-28",)
"""Revisions of the stateless per-request envelope (``server/discover``)."""
UNSUPPORTED_PROTOCOL_VERSION: Final = -32022

META_PROTOCOL_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO: Final = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO: Final = "io.modelcontextprotocol/serverInfo"
NAME_BEARING_METHODS: Final = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
"""Methods whose target travels in ``Mcp-Name`` too (2026-07-28), and the params key holding it."""

CLIENT_INFO: Final = {"name": "mcp-gateway", "version": __version__}

_PLAIN_HEADER = re.compile(r"^[\x20-\x7E]*$")


def encode_header_value(value: str) -> str:
    """``Mcp-Name`` / ``Mcp-Param-*`` encoding: plain visible ASCII as is, anything else ``=?base64?…?=``."""
    plain = (
        _PLAIN_HEADER.match(value) is not None
        and value == value.strip()
        and not (value.startswith("=?base64?") and value.endswith("?="))
    )
    if plain:
        return value
    return "=?base64?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


async def read_limited(chunks: AsyncIterator[bytes], server: str, max_bytes: int) -> AsyncIterator[bytes]:
    """Pass ``chunks`` through, failing once more than ``max_bytes`` have arrived."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            msg = f"response larger than {max_bytes} bytes; refused"
            raise BackendProtocolError(server, msg)
        yield chunk


def with_query(url: str, query: dict[str, str]) -> httpx.URL:
    """``url`` with ``query`` added to (not replacing) its own query string."""
    parsed = _parsed(url)
    return parsed.copy_merge_params(query) if query else parsed


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    # Backend URLs are few and fixed; parsing one costs more than a small cache look-up on every request.
    return httpx.URL(url)


def transport_error(server: str, exc: Exception) -> BackendError:
    """Map an httpx failure to the gateway's backend errors (the message says what happened)."""
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(server, f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return BackendUnreachable(server, f"cannot connect: {_reason(exc)}")
    if isinstance(exc, httpx.TransportError):
        return BackendUnreachable(server, f"connection failed: {_reason(exc)}")
    return BackendProtocolError(server, f"{type(exc).__name__}: {exc}")


def _reason(exc: Exception) -> str:
    text: Any = str(exc) or type(exc).__name__
    return str(text)


NO_INJECTION = Injection()
"""What an unauthenticated backend gets: nothing added to its requests."""


def decode_or_fail(server: str, data: bytes | str) -> Message:
    """Decode a JSON-RPC message from ``server``, or fail with a protocol error naming it."""
    try:
        return decode_message(data)
    except ValueError as exc:
        raise BackendProtocolError(server, str(exc)) from None
