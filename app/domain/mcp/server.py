"""GatewayMcpServer: the MCP methods the gateway answers, over the aggregated catalog.

Transport rules (eras, headers, sessions, status codes) live in the HTTP controller; this class
turns one validated request into a result or an :class:`RpcFailure`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import msgspec

from app import __version__
from app.adapters.mcp_client.param_headers import ParamHeaders
from app.adapters.mcp_client.protocol import HANDSHAKE_VERSIONS, META_SERVER_INFO, MODERN_VERSIONS
from app.adapters.mcp_client.session_base import Era, ServerRequestHandler
from app.audit import audited, current_operation
from app.domain.backends import BackendPool
from app.domain.catalog import ToolCatalog
from app.domain.invocation import ToolRouter
from app.domain.mcp.cursors import cursor_at, offset_of
from app.domain.mcp.errors import FORBIDDEN, INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, RpcFailure
from app.domain.mcp.input_rounds import InputRounds
from app.domain.mcp.sessions import SessionCodec
from app.domain.registry.directory import ServerDirectory
from app.errors import AccessDenied, BackendRpcError, GatewayError, InvalidRequest, ToolNotFound

__all__ = ("SERVER_INFO", "Era", "GatewayMcpServer")

SERVER_INFO = {"name": "mcp-gateway", "title": "MCP Gateway", "version": __version__}
_CONTENT_LISTS = {
    "resources/list": ("resources", "resources"),
    "resources/templates/list": ("templates", "resourceTemplates"),
    "prompts/list": ("prompts", "prompts"),
}
"""List method → (attribute of the content catalog, result key)."""
_AUDITED = {
    "tools/list": "list_tools",
    "tools/call": "invoke_tool",
    "resources/list": "list_resources",
    "resources/templates/list": "list_resource_templates",
    "resources/read": "read_resource",
    "prompts/list": "list_prompts",
    "prompts/get": "get_prompt",
}
"""Methods recorded in the audit trail, with their action (ping, discovery and the handshake are not)."""
_INSTRUCTIONS = (
    "Tools of every backend MCP server behind this gateway. A tool offered by several servers runs on all of "
    "them and returns their results keyed by server; broadcast__<tool> and broadcast__by_tag__<tag> do so explicitly."
)


class GatewayMcpServer:
    """Answers ``ping``, ``tools/list``, ``tools/call`` (and the handshake / discovery results)."""

    __slots__ = (
        "_cache_scope",
        "_catalog",
        "_challenge",
        "_directory",
        "_page_size",
        "_pool",
        "_rounds",
        "_router",
        "_ttl_ms",
    )

    def __init__(
        self,
        catalog: ToolCatalog,
        router: ToolRouter,
        directory: ServerDirectory,
        pool: BackendPool,
        *,
        page_size: int = 100,
        ttl_ms: int = 0,
        per_caller: bool = False,
        challenge: Callable[[tuple[str, ...]], str] | None = None,
        sessions: SessionCodec | None = None,
    ) -> None:
        """``per_caller``: listings depend on who asks (authentication on), so results are ``private``.
        ``challenge`` builds the ``WWW-Authenticate`` value of a 403 from the scopes that would allow the call.
        ``sessions`` signs the ``requestState`` of multi-round-trip calls (see ``input_rounds``).
        """
        self._rounds = InputRounds(router, sessions or SessionCodec(secrets.token_urlsafe(32)))
        self._cache_scope = "private" if per_caller else "public"
        self._challenge = challenge
        self._catalog = catalog
        self._router = router
        self._directory = directory
        self._pool = pool
        self._page_size = page_size
        self._ttl_ms = ttl_ms

    @property
    def capabilities(self) -> dict[str, Any]:
        return {
            "tools": {"listChanged": True},
            "resources": {"subscribe": False, "listChanged": False},
            "prompts": {"listChanged": False},
        }

    async def param_header_rules(self, tool: str) -> ParamHeaders:
        """The ``x-mcp-header`` annotations of a listed tool's input schema (as advertised by the gateway)."""
        route = (await self._catalog.view()).route(tool)
        return () if route is None else route.param_headers

    def watch_tools(self) -> asyncio.Queue[None]:
        """A queue signalled whenever the listed tools may have changed (``unwatch_tools`` when done)."""
        return self._catalog.watch()

    def unwatch_tools(self, queue: asyncio.Queue[None]) -> None:
        self._catalog.unwatch(queue)

    def initialize(self, requested: Any) -> dict[str, Any]:
        """The ``initialize`` result: the client's version if the gateway speaks it, else its newest."""
        version = requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1]
        return {
            "protocolVersion": version,
            "capabilities": self.capabilities,
            "serverInfo": SERVER_INFO,
            "instructions": _INSTRUCTIONS,
        }

    def discover(self) -> dict[str, Any]:
        """The 2026-07-28 ``server/discover`` result."""
        return {
            "supportedVersions": list(MODERN_VERSIONS),
            "capabilities": self.capabilities,
            "instructions": _INSTRUCTIONS,
            "ttlMs": self._ttl_ms,
            "cacheScope": "public",
        }

    async def handle(
        self,
        method: str,
        params: dict[str, Any],
        era: Era,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_request: ServerRequestHandler | None = None,
    ) -> dict[str, Any]:
        """Run ``method`` (see :meth:`_handle`), recording it in the audit trail when it is an operation.

        Raises:
            RpcFailure: unknown method, unknown tool, bad cursor or arguments.
        """
        action = _AUDITED.get(method)
        if action is None:
            return await self._handle(method, params, era, on_progress, on_request)
        tool = params.get("name") if method == "tools/call" and isinstance(params.get("name"), str) else None
        arguments = params.get("arguments")
        if method == "tools/call":
            parameters = arguments if isinstance(arguments, dict) else None
        elif method == "resources/read":
            parameters = {"uri": params.get("uri")}
        elif method == "prompts/get":
            parameters = {"name": params.get("name"), "arguments": arguments}
        else:
            parameters = None
        async with audited(action, tool_name=tool, parameters=parameters) as operation:
            result = await self._handle(method, params, era, on_progress, on_request)
            if method == "tools/call":
                operation.note_tool_result(result)
            return result

    async def _handle(
        self,
        method: str,
        params: dict[str, Any],
        era: Era,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_request: ServerRequestHandler | None = None,
    ) -> dict[str, Any]:
        """Run ``method``; modern results get ``resultType`` and the gateway's ``serverInfo``.

        Raises:
            RpcFailure: unknown method, unknown tool, bad cursor or arguments.
        """
        if method == "ping":
            result: dict[str, Any] = {}
        elif method == "tools/list":
            result = await self._list_tools(params, era)
        elif method == "tools/call":
            result = await self._call_tool(params, era, on_progress, on_request)
        elif method in _CONTENT_LISTS:
            content = await self._catalog.content()
            result = self._page(getattr(content, _CONTENT_LISTS[method][0]), _CONTENT_LISTS[method][1], params, era)
        elif method == "resources/read":
            result = await self._read_resource(params, era)
        elif method == "prompts/get":
            result = await self._get_prompt(params, era)
        elif method == "server/discover" and era == "modern":
            result = self.discover()
        else:
            raise RpcFailure(
                METHOD_NOT_FOUND, f"Method not found: {method}", http_status=404 if era == "modern" else 200
            )
        if era == "modern":
            result.setdefault("resultType", "complete")
            result["_meta"] = {**(result.get("_meta") or {}), META_SERVER_INFO: SERVER_INFO}
        return result

    async def _list_tools(self, params: dict[str, Any], era: Era) -> dict[str, Any]:
        return self._page((await self._catalog.view()).tools(), "tools", params, era)

    def _page(self, items: list[dict[str, Any]], key: str, params: dict[str, Any], era: Era) -> dict[str, Any]:
        start = offset_of(params.get("cursor"))
        if start is None:
            raise _invalid("invalid cursor", era)
        result: dict[str, Any] = {key: items[start : start + self._page_size]}
        if start + self._page_size < len(items):
            result["nextCursor"] = cursor_at(start + self._page_size)
        if era == "modern":
            result.update({"ttlMs": self._ttl_ms, "cacheScope": self._cache_scope})
        return result

    async def _read_resource(self, params: dict[str, Any], era: Era) -> dict[str, Any]:
        uri = params.get("uri")
        if not isinstance(uri, str) or not uri:
            raise _invalid("resources/read needs params.uri (a string)", era)
        server = (await self._catalog.content()).server_for_uri(uri)
        if server is None:
            raise _invalid(f"Resource not found: {uri}", era)
        result = await self._forward(server, "resources/read", {"uri": uri}, era)
        if era == "modern":
            result.update({"ttlMs": 0, "cacheScope": "private"})
        return result

    async def _get_prompt(self, params: dict[str, Any], era: Era) -> dict[str, Any]:
        name = params.get("name")
        route = (await self._catalog.content()).prompt_routes.get(name) if isinstance(name, str) else None
        if route is None:
            raise _invalid(f"Unknown prompt: {name}", era)
        server, backend_name = route
        forwarded: dict[str, Any] = {"name": backend_name}
        if isinstance(params.get("arguments"), dict):
            forwarded["arguments"] = params["arguments"]
        return await self._forward(server, "prompts/get", forwarded, era)

    async def _forward(self, server: str, method: str, params: dict[str, Any], era: Era) -> dict[str, Any]:
        """Send a request to one backend and hand back its result (errors become JSON-RPC errors)."""
        try:
            raw = await self._pool.client(self._directory.get_enabled(server)).request(method, params)
            result: dict[str, Any] = msgspec.json.decode(raw)
        except BackendRpcError as exc:
            if exc.rpc_code in {INVALID_PARAMS, -32002}:
                raise _invalid(exc.message, era) from None
            raise RpcFailure(INTERNAL_ERROR, exc.message) from None
        except GatewayError as exc:
            raise RpcFailure(INTERNAL_ERROR, exc.message) from None
        return result

    async def _call_tool(
        self,
        params: dict[str, Any],
        era: Era,
        on_progress: Callable[[dict[str, Any]], None] | None,
        on_request: ServerRequestHandler | None,
    ) -> dict[str, Any]:
        name, arguments = params.get("name"), params.get("arguments")
        if not isinstance(name, str) or not name:
            raise _invalid("tools/call needs params.name (a string)", era)
        if arguments is not None and not isinstance(arguments, dict):
            raise _invalid("tools/call params.arguments must be an object", era)
        try:
            return await self._rounds.call(name, arguments, params, era, on_progress, on_request)
        except ToolNotFound:
            raise _invalid(f"Unknown tool: {name}", era) from None
        except AccessDenied as exc:
            data = {"server": exc.server, "requiredScopes": list(exc.scopes)}
            challenge = {"WWW-Authenticate": self._challenge(exc.scopes)} if self._challenge is not None else None
            raise RpcFailure(FORBIDDEN, exc.message, data, http_status=403, headers=challenge) from None
        except InvalidRequest as exc:
            raise _invalid(exc.message, era) from None
        except BackendRpcError as exc:
            if exc.rpc_code == INVALID_PARAMS:
                raise _invalid(exc.message, era) from None
            return _tool_failure(exc)
        except GatewayError as exc:  # unreachable, timed out, credential missing: the tool failed, say why
            return _tool_failure(exc)


def _tool_failure(exc: GatewayError) -> dict[str, Any]:
    operation = current_operation()
    if operation is not None:
        operation.fail_with(exc)  # the audit record keeps the real cause (e.g. 504), not just isError
    return {"content": [{"type": "text", "text": exc.message}], "isError": True}


def _invalid(message: str, era: Era) -> RpcFailure:
    return RpcFailure(INVALID_PARAMS, message, http_status=400 if era == "modern" else 200)
