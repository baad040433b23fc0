"""A tiny, correct MCP server for the demo: Streamable HTTP, handshake era, stateless, JSON answers.

Written with Litestar and msgspec (not the ``mcp`` SDK, which is only a test dependency), it speaks
just enough MCP to show the gateway working: ``initialize``, ``ping``, ``tools/list``, ``tools/call``.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, route

from app import __version__
from app.demo.data import SAMPLE_LOGS

__all__ = ("create_demo_backend",)

_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
_LEVELS = ("error", "warning", "info")


def _tools(cluster: str, region: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "search_logs",
            "title": "Search logs",
            "description": f"Search the {region} log cluster ({cluster}) for lines containing every query word.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Words that must all appear in the line."},
                    "timeframe": {"type": "string", "description": "How far back, e.g. 15m, 1h.", "default": "1h"},
                    "level": {"type": "string", "enum": list(_LEVELS)},
                },
                "required": ["query"],
            },
            "outputSchema": {
                "type": "object",
                "properties": {
                    "cluster": {"type": "string"},
                    "region": {"type": "string"},
                    "logs": {"type": "array", "items": {"type": "object"}},
                    "count": {"type": "integer"},
                },
                "required": ["cluster", "logs", "count"],
            },
            "annotations": {"readOnlyHint": True, "openWorldHint": False},
        },
        {
            "name": f"cluster_health_{region}",
            "title": f"Cluster health ({region})",
            "description": f"Health of the {region} log cluster.",
            "inputSchema": {"type": "object", "properties": {}},
            "annotations": {"readOnlyHint": True},
        },
    ]


def _minutes(timeframe: str) -> int | None:
    units = {"m": 1, "h": 60, "d": 1440}
    number, unit = timeframe[:-1], timeframe[-1:]
    return int(number) * units[unit] if number.isdigit() and unit in units else None


def _search(cluster: str, region: str, arguments: dict[str, Any]) -> dict[str, Any]:
    query = arguments.get("query")
    if not isinstance(query, str):
        return _tool_error("argument 'query' (a string) is required")
    timeframe = arguments.get("timeframe", "1h")
    window = _minutes(timeframe) if isinstance(timeframe, str) else None
    if window is None:
        return _tool_error("argument 'timeframe' must look like 15m, 1h or 2d")
    level = arguments.get("level")
    if level is not None and level not in _LEVELS:
        return _tool_error(f"argument 'level' must be one of {', '.join(_LEVELS)}")
    words = query.lower().split()
    now = datetime.now(UTC)
    logs = [
        {
            "timestamp": (now - timedelta(minutes=ago)).isoformat(timespec="seconds"),
            "level": lvl,
            "service": service,
            "message": message,
        }
        for ago, lvl, service, message in SAMPLE_LOGS.get(cluster, [])
        if ago <= window and (level is None or lvl == level) and all(w in f"{service} {message}".lower() for w in words)
    ]
    document = {"cluster": cluster, "region": region, "logs": logs, "count": len(logs)}
    return {
        "content": [{"type": "text", "text": json.dumps(document)}],
        "structuredContent": document,
        "isError": False,
    }


def _tool_error(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _rpc_error(request_id: Any, code: int, message: str, status: int) -> Response[dict[str, Any]]:
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return Response(body, status_code=status)


def create_demo_backend(cluster: str, *, region: str, required_token: str | None = None) -> Litestar:
    """The demo MCP server for ``cluster`` at ``POST /mcp`` (``GET``/``DELETE`` answer 405)."""
    tools = _tools(cluster, region)

    def handle(message: dict[str, Any]) -> Response[Any]:
        request_id, method = message.get("id"), message.get("method")
        raw_params = message.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        if "id" not in message:
            return Response(b"", status_code=202)  # a notification
        if method == "initialize":
            requested = params.get("protocolVersion")
            result: dict[str, Any] = {
                "protocolVersion": requested if requested in _VERSIONS else _VERSIONS[-1],
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": cluster, "version": __version__},
                "instructions": f"Demo log cluster for {region}: try search_logs with query 'campaign' or 'timeout'.",
            }
        elif method == "ping":
            result = {}
        elif method == "tools/list":
            result = {"tools": tools}
        elif method == "tools/call":
            name, arguments = params.get("name"), params.get("arguments") or {}
            if name == "search_logs":
                result = _search(cluster, region, arguments if isinstance(arguments, dict) else {})
            elif name == f"cluster_health_{region}":
                health = {"cluster": cluster, "region": region, "status": "green", "nodes": 3}
                result = {"content": [{"type": "text", "text": json.dumps(health)}], "structuredContent": health}
            else:
                return _rpc_error(request_id, -32602, f"Unknown tool: {name}", 200)
        else:
            return _rpc_error(request_id, -32601, f"Method not found: {method}", 404)
        return Response({"jsonrpc": "2.0", "id": request_id, "result": result})

    @route("/mcp", http_method=["GET", "POST", "DELETE"], status_code=200)
    async def mcp(request: Request[Any, Any, Any]) -> Response[Any]:
        if request.method != "POST":
            return Response(b"", status_code=405, headers={"Allow": "POST"})
        if required_token is not None:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {required_token}".encode()):
                message = f"demo cluster {cluster} requires the bearer token from DEMO_LOGS_EU_TOKEN"
                return _rpc_error(None, -32001, message, 401)
        try:
            message = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            return _rpc_error(None, -32700, "Parse error", 400)
        if (
            not isinstance(message, dict)
            or message.get("jsonrpc") != "2.0"
            or not isinstance(message.get("method"), str)
        ):
            return _rpc_error(None, -32600, "Invalid Request", 400)
        return handle(message)

    return Litestar([mcp], openapi_config=None)
