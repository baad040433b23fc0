"""Aggregation: many servers' tool lists → one catalog, plus the synthesised broadcast tools.

- A tool name offered by one server routes to it; offered by several, a call broadcasts to all of
  them (the product's "automatic broadcast"). The exposed definition is the backend's own — input
  and output schema, title, annotations, icons, ``_meta`` — taken from the first server by name,
  and its ``_meta`` names every providing server.
- ``broadcast__<tool>`` exists for every tool on two or more servers.
- ``broadcast__by_tag__<tag>`` exists for every tag; its input names the tool and its arguments.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from app.adapters.mcp_client.param_headers import ParamHeaders, param_headers_of
from app.domain.registry.config import ServerConfig

__all__ = ("BROADCAST_PREFIX", "SERVERS_META_KEY", "TAG_PREFIX", "Catalog", "ToolRoute", "aggregate", "tag_tool_name")

logger = logging.getLogger("mcp_gateway.catalog")

BROADCAST_PREFIX = "broadcast__"
TAG_PREFIX = "broadcast__by_tag__"
SERVERS_META_KEY = "dev.mcp-gateway/servers"
"""``_meta`` key (the gateway's own prefix) listing the servers behind an aggregated tool."""
BROADCAST_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "results": {"type": "object", "description": "Each successful server's result, keyed by server name."},
        "errors": {"type": "object", "description": "Why each failed server failed, keyed by server name."},
        "metadata": {"type": "object", "description": "Counts and timing of the fan-out."},
    },
    "required": ["results", "errors", "metadata"],
}
"""What every fan-out returns as ``structuredContent`` (the backends' own output schemas no longer apply)."""
_VALID_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class ToolRoute(msgspec.Struct, frozen=True, kw_only=True):
    """Where a listed tool name leads."""

    name: str
    """The name agents see."""
    kind: Literal["tool", "broadcast", "tag"]
    """``tool``: the backend tool itself (one server, or automatic broadcast over several);
    ``broadcast``: ``broadcast__<tool>``; ``tag``: ``broadcast__by_tag__<tag>``."""
    servers: tuple[str, ...]
    """The servers a call goes to, by name."""
    tool: str | None
    """The backend tool name (``None`` for a tag broadcast, where the caller names it)."""
    definition: dict[str, Any]
    """The MCP ``Tool`` object shown to agents."""
    tag: str | None = None
    param_headers: ParamHeaders = ()
    """The ``x-mcp-header`` annotations of the definition's input schema, read once here (not per call)."""

    def __post_init__(self) -> None:
        try:
            headers = param_headers_of(self.definition.get("inputSchema"))
        except ValueError:  # backends' tools with broken annotations are dropped before aggregation
            headers = ()
        msgspec.structs.force_setattr(self, "param_headers", headers)


class Catalog(msgspec.Struct, frozen=True):
    """The aggregated view: routes by exposed name, in name order."""

    routes: dict[str, ToolRoute]

    def tools(self) -> list[dict[str, Any]]:
        return [route.definition for route in self.routes.values()]

    def route(self, name: str) -> ToolRoute | None:
        return self.routes.get(name)

    def servers_with(self, tool: str) -> tuple[str, ...]:
        """The servers offering backend tool ``tool``."""
        route = self.routes.get(tool)
        return route.servers if route is not None and route.kind == "tool" else ()


def tag_tool_name(tag: str) -> str:
    """``broadcast__by_tag__<tag>`` with every character outside ``[A-Za-z0-9_]`` turned into ``_``."""
    return TAG_PREFIX + _TAG_UNSAFE.sub("_", tag)


def aggregate(
    listed: Mapping[str, list[dict[str, Any]]], configs: Mapping[str, ServerConfig], *, server_names: bool = False
) -> Catalog:
    """Build the catalog from each server's tools (already fetched) and the servers' configs.

    With ``server_names``, a tool offered by several servers is also listed once per server as
    ``<server>__<tool>``, for agents that must target one server.
    """
    providers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for server in sorted(listed):
        allowed = configs[server].tools
        for tool in listed[server]:
            name = tool.get("name")
            if not isinstance(name, str) or (allowed is not None and name not in allowed):
                continue
            providers.setdefault(name, []).append((server, tool))

    routes: dict[str, ToolRoute] = {}
    for name, offers in providers.items():
        servers = tuple(server for server, _ in offers)
        routes[name] = ToolRoute(name=name, kind="tool", servers=servers, tool=name, definition=_shared(offers))
        if len(servers) >= 2:
            _add(routes, _broadcast_route(name, offers))
            if server_names:
                for server, tool in offers:
                    definition = copy.deepcopy(tool) | {"name": f"{server}__{name}"}
                    definition["_meta"] = {**(definition.get("_meta") or {}), SERVERS_META_KEY: [server]}
                    route = ToolRoute(
                        name=definition["name"], kind="tool", servers=(server,), tool=name, definition=definition
                    )
                    _add(routes, route)

    tagged: dict[str, list[str]] = {}
    for server in sorted(listed):
        for tag in configs[server].tags:
            tagged.setdefault(tag, []).append(server)
    for tag, members in sorted(tagged.items()):
        tools = sorted({name for name, offers in providers.items() for s, _ in offers if s in members})
        _add(routes, _tag_route(tag, tuple(members), tools))
    return Catalog(routes=dict(sorted(routes.items())))


def _add(routes: dict[str, ToolRoute], route: ToolRoute) -> None:
    if not _VALID_NAME.match(route.name):
        logger.warning("not listing %r: longer than 128 characters or not a valid tool name", route.name)
    elif route.name in routes:
        logger.warning("not listing synthesised %r: a backend tool already has that name", route.name)
    else:
        routes[route.name] = route


def _shared(offers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    definition = copy.deepcopy(offers[0][1])
    if len(offers) > 1:  # a call fans out, so the result is the broadcast document
        meta = dict(definition.get("_meta") or {})
        meta[SERVERS_META_KEY] = [server for server, _ in offers]
        definition["_meta"] = meta
        definition["outputSchema"] = copy.deepcopy(BROADCAST_OUTPUT_SCHEMA)
    return definition


def _broadcast_route(name: str, offers: list[tuple[str, dict[str, Any]]]) -> ToolRoute:
    servers = tuple(server for server, _ in offers)
    base = offers[0][1]
    definition: dict[str, Any] = {
        "name": BROADCAST_PREFIX + name,
        "title": f"Broadcast: {base.get('title') or name}",
        "description": (
            f"Runs '{name}' on every server that provides it ({', '.join(servers)}) at once and returns each "
            f"server's result keyed by server name. {base.get('description') or ''}"
        ).strip(),
        "inputSchema": copy.deepcopy(base.get("inputSchema") or {"type": "object"}),
        "outputSchema": copy.deepcopy(BROADCAST_OUTPUT_SCHEMA),
        "_meta": {SERVERS_META_KEY: list(servers)},
    }
    if isinstance(base.get("annotations"), dict):
        definition["annotations"] = copy.deepcopy(base["annotations"])
    return ToolRoute(name=definition["name"], kind="broadcast", servers=servers, tool=name, definition=definition)


def _tag_route(tag: str, servers: tuple[str, ...], tools: list[str]) -> ToolRoute:
    name = tag_tool_name(tag)
    tool_name: dict[str, Any] = {"type": "string", "description": "The tool to run on every tagged server."}
    if tools:
        tool_name["enum"] = tools
    definition = {
        "name": name,
        "title": f"Broadcast to servers tagged '{tag}'",
        "description": (
            f"Runs the named tool on every server tagged '{tag}' ({', '.join(servers)}) at once; "
            "results are keyed by server name."
        ),
        "inputSchema": {
            "type": "object",
            "properties": {
                "tool_name": tool_name,
                "arguments": {"type": "object", "description": "Arguments for the tool.", "additionalProperties": True},
            },
            "required": ["tool_name"],
        },
        "outputSchema": copy.deepcopy(BROADCAST_OUTPUT_SCHEMA),
        "_meta": {SERVERS_META_KEY: list(servers)},
    }
    return ToolRoute(name=name, kind="tag", servers=servers, tool=None, definition=definition, tag=tag)
