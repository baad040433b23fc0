"""A tiny, correct MCP server for the demo: Streamable HTTP at ``POST /mcp``, handshake era, stateless, JSON only.

Written with Litestar and msgspec (the ``mcp`` SDK is only a test dependency). It mints no sessions and opens no
server stream, which the handshake-era transport allows: ``GET``/``DELETE`` answer 405 and every ``POST`` gets one
JSON answer. Methods: ``initialize``, ``ping``, ``tools/list``, ``tools/call``; notifications and client responses
get 202. Anything else is -32601 with HTTP 404 (``server/discover`` included), which dual-era clients read as "a
handshake-era server" and fall back to ``initialize``.

Checks, first failure wins: a foreign ``Origin`` (403), a missing or wrong bearer token when one is required
(401), a method other than POST (405), unparseable JSON (-32700, 400), not a JSON-RPC message (-32600, 400),
unknown method (-32601, 404), an ``MCP-Protocol-Version`` header naming no handshake-era version (-32600, 400),
bad params (-32602, 200).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import Litestar, Request, Response, route
from msgspec import UNSET, UnsetType

from app import __version__
from app.demo.tools import DemoTools, UnknownToolError

__all__ = ("SUPPORTED_VERSIONS", "TOKEN_VARIABLE", "create_demo_backend")

SUPPORTED_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Handshake-era protocol versions the demo speaks, oldest first; the newest is offered to anyone else."""

TOKEN_VARIABLE = "DEMO_LOGS_EU_TOKEN"  # noqa: S105 - the variable's name, not a secret
"""Where the gateway (``env://DEMO_LOGS_EU_TOKEN``) and the demo runner find the EU cluster's token."""

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_Result = dict[str, Any]


class _Message(msgspec.Struct, forbid_unknown_fields=True):
    """One JSON-RPC 2.0 message; ``params`` is decoded once the method picks its type."""

    jsonrpc: Literal["2.0"]
    method: str | UnsetType = UNSET
    id: int | str | UnsetType = UNSET
    params: msgspec.Raw = msgspec.Raw()
    result: msgspec.Raw = msgspec.Raw()
    error: msgspec.Raw = msgspec.Raw()


class _InitializeParams(msgspec.Struct, rename="camel"):
    protocol_version: str


class _CallToolParams(msgspec.Struct):
    name: str
    arguments: msgspec.Raw = msgspec.Raw()


class _RpcError(Exception):
    """Answer the request with this JSON-RPC error."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        """JSON-RPC error code."""
        self.message = message
        """Human-readable reason."""
        self.status = status
        """HTTP status of the answer."""


def _error(request_id: int | str | None, code: int, message: str, status: int, **headers: str) -> Response[Any]:
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return Response(body, status_code=status, headers=headers or None)


def _params(raw: msgspec.Raw, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.DecodeError as exc:
        raise _RpcError(-32602, f"Invalid params: {exc}") from None


def _well_formed(message: _Message) -> bool:
    """A request or notification (a method, no result or error), or a response (an id and one of them)."""
    answers = bool(message.result) + bool(message.error)
    if isinstance(message.method, UnsetType):
        return answers == 1 and not isinstance(message.id, UnsetType)
    return answers == 0


def _foreign_origin(origin: str | None) -> bool:
    """A browser page from another site (DNS rebinding): only local origins may call a 127.0.0.1 server."""
    if origin is None:
        return False
    try:
        return urlsplit(origin).hostname not in _LOCAL_HOSTS
    except ValueError:  # not even a URL
        return True


def create_demo_backend(cluster: str, *, region: str, required_token: str | None) -> Litestar:
    """The demo MCP server of one log cluster, at ``POST /mcp``.

    Args:
        cluster: Server name (``serverInfo.name``) and the ``cluster`` of every result, e.g. ``demo-logs-us``.
        region: Picks the sample log lines and names the cluster-only tool ``cluster_health_<region>``.
        required_token: When set, every request must carry ``Authorization: Bearer <required_token>``.
    """
    tools = DemoTools(cluster, region)
    expected_authorization = f"Bearer {required_token}".encode() if required_token is not None else None

    def initialize(params: msgspec.Raw) -> _Result:
        requested = _params(params, _InitializeParams).protocol_version
        return {
            "protocolVersion": requested if requested in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[-1],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": cluster, "version": __version__},
            "instructions": (
                f"Example log cluster {cluster} ({region.upper()}). Call search_logs with a few words, e.g. "
                f"'timeout' or 'campaign failed'; cluster_health_{region} reports its status."
            ),
        }

    def call_tool(params: msgspec.Raw) -> _Result:
        call = _params(params, _CallToolParams)
        try:
            return tools.call(call.name, call.arguments)
        except UnknownToolError:
            raise _RpcError(-32602, f"Unknown tool: {call.name!r} (this cluster has no tool of that name)") from None

    methods: dict[str, Callable[[msgspec.Raw], _Result]] = {
        "initialize": initialize,
        "ping": lambda _: {},
        "tools/list": lambda _: {"tools": tools.definitions},
        "tools/call": call_tool,
    }

    def answer(message: _Message, version_header: str | None) -> Response[Any]:
        if isinstance(message.method, UnsetType) or isinstance(message.id, UnsetType):
            return Response(
                b"", status_code=202, media_type="text/plain"
            )  # a notification, or a response to a request we never send
        handler = methods.get(message.method)
        if handler is None:
            return _error(message.id, -32601, f"Method not found: {message.method}", 404)
        if message.method != "initialize" and version_header is not None and version_header not in SUPPORTED_VERSIONS:
            supported = ", ".join(SUPPORTED_VERSIONS)
            text = f"Unsupported MCP-Protocol-Version {version_header!r}; this server speaks {supported}"
            return _error(message.id, -32600, text, 400)
        try:
            result = handler(message.params)
        except _RpcError as exc:
            return _error(message.id, exc.code, exc.message, exc.status)
        return Response({"jsonrpc": "2.0", "id": message.id, "result": result})

    def refusal(request: Request[Any, Any, Any]) -> Response[Any] | None:
        """The answer to a request that never reaches JSON-RPC: foreign origin, bad token, not a POST."""
        if _foreign_origin(request.headers.get("origin")):
            return Response(b"Forbidden: cross-origin request", status_code=403, media_type="text/plain")
        if expected_authorization is not None:
            sent = request.headers.get("authorization")
            if sent is None or not hmac.compare_digest(sent.encode(), expected_authorization):
                challenge = f'Bearer realm="{cluster}"' + (', error="invalid_token"' if sent is not None else "")
                text = f"demo cluster {cluster} requires the bearer token from {TOKEN_VARIABLE}"
                return _error(None, -32000, text, 401, **{"WWW-Authenticate": challenge})
        if request.method != "POST":
            return Response(b"", status_code=405, headers={"Allow": "POST"}, media_type="text/plain")
        return None

    @route("/mcp", http_method=["GET", "POST", "DELETE"], status_code=200)
    async def mcp_endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
        refused = refusal(request)
        if refused is not None:
            return refused
        try:
            message = msgspec.json.decode(await request.body(), type=_Message)
        except msgspec.ValidationError as exc:
            return _error(None, -32600, f"Invalid Request: {exc}", 400)
        except msgspec.DecodeError:
            return _error(None, -32700, "Parse error", 400)
        if not _well_formed(message):
            return _error(None, -32600, "Invalid Request: not a JSON-RPC request, notification or response", 400)
        return answer(message, request.headers.get("mcp-protocol-version"))

    return Litestar([mcp_endpoint], openapi_config=None)
