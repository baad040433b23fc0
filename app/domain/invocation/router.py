"""ToolRouter: a call by the name agents see (aggregated or synthesised) → one server or a broadcast."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from app.adapters.mcp_client.session_base import ServerRequestHandler
from app.domain.access import AccessPolicy, denied
from app.domain.catalog.aggregate import Catalog, ToolRoute
from app.domain.catalog.catalog import ToolCatalog
from app.domain.invocation.invoker import Broadcaster, Invoker
from app.domain.invocation.results import BroadcastOutcome, payload_of
from app.domain.registry.directory import ServerDirectory
from app.errors import BackendError, InvalidRequest, ToolNotFound

__all__ = ("ToolRouter", "broadcast_tool_result", "results_uri")


def results_uri(tool: str) -> str:
    return f"gateway://results/{tool}"


class ToolRouter:
    """Resolves exposed tool names through the caller's view of the catalog and runs them.

    A name the caller cannot see but that exists for others is a 403 (``AccessDenied``), not a 404;
    broadcasts silently leave out servers the caller may not use and report how many were left out.
    """

    __slots__ = ("_access", "_broadcaster", "_catalog", "_directory", "_invoker")

    def __init__(
        self,
        directory: ServerDirectory,
        catalog: ToolCatalog,
        invoker: Invoker,
        broadcaster: Broadcaster,
        access: AccessPolicy | None = None,
    ) -> None:
        self._directory = directory
        self._catalog = catalog
        self._invoker = invoker
        self._broadcaster = broadcaster
        self._access = access or AccessPolicy()

    async def server_tools(self, name: str) -> tuple[str, list[dict[str, Any]]]:
        """The tools enabled server ``name`` lists (within its ``tools`` allow-list), for a caller allowed to
        use it; its canonical name alongside. A server never listed successfully is fetched now, and its
        failure raised (``BackendError``) rather than shown as a server without tools."""
        server = self._directory.get_enabled(name)
        self._access.check(server)
        entry = (await self._catalog.server_tools([server]))[server.name]
        if entry.tools is None:
            await self._catalog.refresh_server(server.name)
            if entry.tools is None:
                raise BackendError(server.name, entry.error or "tools/list did not answer yet")
        allowed = server.config.tools
        return server.name, [t for t in entry.tools if allowed is None or t.get("name") in allowed]

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_request: ServerRequestHandler | None = None,
    ) -> dict[str, Any]:
        """Run exposed tool ``name``; returns an MCP ``CallToolResult`` object.

        One provider: that server's own result, unchanged. Several providers, ``broadcast__…`` or
        ``broadcast__by_tag__…``: a summary text plus a ``gateway://results/<tool>`` resource.
        ``on_progress`` receives the backend's progress updates of a one-server call, ``on_request`` answers
        its requests to the caller (elicitation); broadcast legs cannot ask the caller anything.

        Raises:
            ToolNotFound: no such tool in the catalog.
            AccessDenied: the tool exists only on servers the caller may not use.
            InvalidRequest: a tag broadcast without a valid ``tool_name``.
        """
        view = await self._catalog.view()
        route = view.route(name)
        if route is None:
            route = await self._hidden_route(name)
        if route.kind == "tool" and len(route.servers) == 1:
            assert route.tool is not None
            outcome = await self._invoker.call(route.servers[0], route.tool, arguments, on_progress, on_request)
            assert outcome.raw is not None
            result: dict[str, Any] = msgspec.json.decode(outcome.raw)
            return result
        tool, servers, args = self._fan_out(view, route, arguments)
        full = await self._catalog.full_view()
        offering = set(full.servers_with(tool))
        if route.kind == "tag":
            everyone_route = full.route(name)
            offering &= set(everyone_route.servers) if everyone_route is not None else set()
        excluded = len(offering - set(servers))
        return broadcast_tool_result(await self._broadcaster.call_all(tool, args, servers, excluded=excluded))

    async def single_target(self, name: str) -> tuple[str, str] | None:
        """``(server, backend tool)`` when exposed tool ``name`` is served by exactly one server, else ``None``."""
        route = (await self._catalog.view()).route(name)
        if route is None or route.kind != "tool" or len(route.servers) != 1 or route.tool is None:
            return None
        return route.servers[0], route.tool

    async def call_on(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None,
        extra: dict[str, Any] | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Backend tool ``tool`` on ``server`` with extra ``tools/call`` params (a multi-round-trip retry)."""
        outcome = await self._invoker.call(server, tool, arguments, on_progress, extra=extra)
        assert outcome.raw is not None
        result: dict[str, Any] = msgspec.json.decode(outcome.raw)
        return result

    async def broadcast(
        self,
        tool: str,
        arguments: dict[str, Any] | None,
        *,
        tags: Sequence[str] | None = None,
        servers: Sequence[str] | None = None,
    ) -> BroadcastOutcome:
        """Broadcast backend tool ``tool``: to the named servers, else to every server offering it,
        narrowed to those carrying any of ``tags``.

        Servers the caller may not use are left out (counted in ``excluded``).

        Raises:
            ToolNotFound: no server (after filtering) offers the tool.
            AccessDenied: servers offer it, but the caller may use none of them.
        """
        if servers:
            targets = list(dict.fromkeys(servers))
        else:
            targets = list((await self._catalog.full_view()).servers_with(tool))
        if tags:
            wanted = set(tags)
            targets = [s for s in targets if (r := self._directory.find(s)) is None or wanted & set(r.config.tags)]
        # Unknown names stay in: their leg reports "not registered", as the caller asked for them by name.
        hidden = [r for s in targets if (r := self._directory.find(s)) is not None and not self._access.may_use(r)]
        allowed = [s for s in targets if s not in {r.name for r in hidden}]
        if not allowed:
            if hidden:
                raise denied(hidden[0])
            raise ToolNotFound(tool)
        return await self._broadcaster.call_all(tool, arguments, allowed, excluded=len(hidden))

    async def _hidden_route(self, name: str) -> ToolRoute:
        """A name missing from the caller's view: a broadcast the caller can run on a subset keeps its usable
        servers (the rest are excluded); anything else is 403 if it exists for others, else unknown.
        """
        route = (await self._catalog.full_view()).route(name)
        if route is None or not route.servers:
            raise ToolNotFound(name)
        usable = {server.name for server in self._catalog.usable()}
        kept = tuple(server for server in route.servers if server in usable)
        if route.kind == "tool" or not kept:
            raise denied(self._directory.get_enabled(next(s for s in route.servers if s not in usable)))
        return msgspec.structs.replace(route, servers=kept)

    def _fan_out(
        self, view: Catalog, route: ToolRoute, arguments: dict[str, Any] | None
    ) -> tuple[str, tuple[str, ...], dict[str, Any] | None]:
        if route.kind != "tag":
            assert route.tool is not None
            return route.tool, route.servers, arguments
        arguments = arguments or {}
        tool = arguments.get("tool_name")
        if not isinstance(tool, str) or not tool:
            msg = f"'{route.name}' needs 'tool_name' (the tool to run) and optionally 'arguments'"
            raise InvalidRequest(msg)
        inner = arguments.get("arguments") or {}
        if not isinstance(inner, dict):
            raise InvalidRequest("'arguments' must be an object")
        offering = set(view.servers_with(tool))
        servers = tuple(s for s in route.servers if s in offering)
        if not servers:
            raise ToolNotFound(tool)
        return tool, servers, inner


def broadcast_tool_result(outcome: BroadcastOutcome) -> dict[str, Any]:
    """An MCP ``CallToolResult`` for a fan-out: summary text plus the per-server results as a resource."""
    total = len(outcome.legs)
    results = {s: payload_of(leg.result) for s, leg in outcome.legs.items() if leg.ok and leg.result is not None}
    errors = {s: leg.failure for s, leg in outcome.legs.items() if not leg.ok}
    summary = f"Successfully executed '{outcome.tool}' on {outcome.successful}/{total} servers"
    if errors:
        summary += "; failed: " + ", ".join(sorted(errors))
    document = {
        "results": results,
        "errors": errors,
        "metadata": {
            "tool_name": outcome.tool,
            "total_servers": total,
            "successful": outcome.successful,
            "failed": outcome.failed,
            "excluded_servers": outcome.excluded,
            "execution_time_ms": outcome.duration_ms,
        },
    }
    return {
        "content": [
            {"type": "text", "text": summary},
            {
                "type": "resource",
                "resource": {
                    "uri": results_uri(outcome.tool),
                    "mimeType": "application/json",
                    "text": json.dumps(document, default=str),
                },
            },
        ],
        "structuredContent": document,
        "isError": outcome.successful == 0,
    }
