"""Many MCP servers in one process: ``/s{i}/mcp`` for i in 0..N-1, each its own SDK low-level server.

Every endpoint is a separate ``Server`` with its own stateless JSON session manager, so the gateway sees
N distinct backends without N processes. Each offers ``echo``, ``work`` (sleeps this server's delay:
0 except for the slow server) and ``tools - 2`` more tools named ``s{i}_tool_{j}`` to fill a catalog.

Run: ``python -m tests.benchmarks.fleet_backend PORT --servers N [--tools M] [--slow-server I --slow-seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

__all__ = ("build_fleet",)

_TEXT_SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
_FILLER_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to look for."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
    },
    "required": ["query"],
}


def _server(index: int, tools: int, delay: float) -> Server[Any]:
    listing = [
        types.Tool(name="echo", description="Echo the text back.", inputSchema=_TEXT_SCHEMA),
        types.Tool(name="work", description="Wait for this server's delay, then answer.", inputSchema=_TEXT_SCHEMA),
        *(
            types.Tool(
                name=f"s{index}_tool_{j}",
                description=f"Filler tool {j} of server s{index}: searches something and returns matches.",
                inputSchema=_FILLER_SCHEMA,
            )
            for j in range(max(0, tools - 2))
        ),
    ]
    result = types.ListToolsResult(tools=listing)

    async def list_tools(_ctx: Any, _params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return result

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name == "work" and delay:
            await asyncio.sleep(delay)
        text = str((params.arguments or {}).get("text", ""))
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    return Server(f"s{index}", on_list_tools=list_tools, on_call_tool=call_tool)


def build_fleet(servers: int, tools: int = 2, slow_server: int | None = None, slow_seconds: float = 2.0) -> Starlette:
    """A Starlette app serving ``servers`` independent MCP endpoints under ``/s{i}/mcp``."""
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    managers = [
        StreamableHTTPSessionManager(
            app=_server(i, tools, slow_seconds if i == slow_server else 0.0),
            json_response=True,
            stateless=True,
            security_settings=security,
        )
        for i in range(servers)
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for manager in managers:
                await stack.enter_async_context(manager.run())
            yield

    async def health(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route("/", health), *(Route(f"/s{i}/mcp", StreamableHTTPASGIApp(m)) for i, m in enumerate(managers))]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--servers", type=int, required=True)
    parser.add_argument("--tools", type=int, default=2, help="tools per server, echo and work included")
    parser.add_argument("--slow-server", type=int, default=None, help="index of the server whose `work` is slow")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    args = parser.parse_args()
    app = build_fleet(args.servers, args.tools, args.slow_server, args.slow_seconds)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
