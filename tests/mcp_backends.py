"""Real MCP backends for the tests, built with the official SDK (``MCPServer``) on 127.0.0.1.

Kinds:
- ``dual``: Streamable HTTP as the SDK serves it by default — the handshake era (sessions) and the
  stateless 2026-07-28 era on one endpoint.
- ``legacy``: the same server behind a filter that refuses the 2026-07-28 envelope the way a server
  built on an older SDK does (400 for an unknown ``MCP-Protocol-Version``, -32601/404 for
  ``server/discover``), so clients must fall back to ``initialize``.
- ``stateless``: ``stateless_http=True, json_response=True`` (no sessions, JSON answers).
- ``sse``: the legacy HTTP+SSE transport (protocol 2024-11-05 style).

Every backend records what it received (method, path, query, headers, body) in ``.requests``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations

from tests.servers import read_body, serve_asgi

__all__ = ("BASE_TOOLS", "Backend", "BackendKind", "Recorded", "start_backend")

BASE_TOOLS = frozenset({"echo", "search_logs", "sleep", "fail", "add_tool_now", "count_with_progress"})
"""The tools every test backend offers."""

BackendKind = Literal["dual", "legacy", "stateless", "sse"]
_HANDSHAKE = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Backend:
    name: str
    kind: BackendKind
    url: str
    requests: list[Recorded] = field(default_factory=list)

    def calls(self, method: str) -> list[Recorded]:
        """Recorded POSTs whose JSON-RPC method is ``method``."""
        return [r for r in self.requests if r.method == "POST" and (r.json() or {}).get("method") == method]


def build_server(name: str, extra_tools: dict[str, Callable[..., Any]] | None = None) -> MCPServer:
    server = MCPServer(name)

    @server.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(
        title="Search logs",
        description="Search this cluster's logs.",
        annotations=ToolAnnotations(readOnlyHint=True),
    )
    def search_logs(query: str, timeframe: str = "1h") -> dict[str, Any]:
        return {"server": name, "logs": [{"message": f"{query} on {name}", "timeframe": timeframe}]}

    @server.tool(description="Sleep, then answer.")
    async def sleep(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @server.tool(description="Always fails.")
    def fail(message: str) -> str:
        raise ToolError(message)

    @server.tool(description="Adds a tool named `name` at run time and announces the change.")
    async def add_tool_now(name: str, ctx: Context) -> str:
        def added() -> str:
            return f"{name} is here"

        server.add_tool(added, name=name)
        await ctx.notify_tools_changed()  # 2026-07-28 subscriptions/listen streams
        await ctx.session.send_tool_list_changed()  # handshake-era sessions
        return "added"

    @server.tool(description="Counts to `steps`, reporting progress after each step.")
    async def count_with_progress(steps: int, ctx: Context) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await asyncio.sleep(0.01)
        return f"counted to {steps}"

    @server.resource(f"logs://{name}/recent", description=f"Recent log lines of {name}.")
    def recent_logs() -> str:
        return f"recent lines of {name}"

    @server.resource(f"logs://{name}/item/{{item_id}}", description="One log line by id.")
    def log_item(item_id: str) -> str:
        return f"line {item_id} of {name}"

    @server.resource("config://shared", description="A URI every backend offers (clash rule test).")
    def shared_config() -> str:
        return f"config of {name}"

    @server.prompt(description="Ask for a summary of a topic.")
    def summarize(topic: str) -> str:
        return f"Summarize {topic} using {name}'s logs."

    for tool_name, function in (extra_tools or {}).items():
        server.add_tool(function, name=tool_name)
    return server


class _Recorder:
    """ASGI middleware: copies each HTTP request into ``sink`` and passes it on untouched."""

    def __init__(self, app: Any, sink: list[Recorded], reject_modern: bool) -> None:
        self.app, self.sink, self.reject_modern = app, sink, reject_modern
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if "=" in pair)
        with self.lock:
            self.sink.append(Recorded(scope["method"], scope["path"], query, headers, body))
        if self.reject_modern and await self._refused(headers, body, send):
            return
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refused(self, headers: dict[str, str], body: bytes, send: Any) -> bool:
        version = headers.get("mcp-protocol-version")
        try:
            method = json.loads(body).get("method") if body else None
        except (ValueError, AttributeError):
            method = None
        if version is not None and version not in _HANDSHAKE:
            await _reply(
                send,
                400,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": f"Unsupported protocol version: {version}"},
                },
            )
            return True
        if method == "server/discover":
            await _reply(
                send,
                404,
                {
                    "jsonrpc": "2.0",
                    "id": json.loads(body).get("id"),
                    "error": {"code": -32601, "message": "Method not found"},
                },
            )
            return True
        return False


async def _reply(send: Any, status: int, document: dict[str, Any]) -> None:
    payload = json.dumps(document).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


@contextmanager
def start_backend(
    name: str = "alpha", kind: BackendKind = "dual", extra_tools: dict[str, Callable[..., Any]] | None = None
) -> Iterator[Backend]:
    """Run one SDK backend; yields its handle (``.url`` is the MCP endpoint, or the SSE URL)."""
    server = build_server(name, extra_tools)
    open_security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if kind == "sse":
        app, path = server.sse_app(), "/sse"
    else:
        stateless = kind == "stateless"
        app = server.streamable_http_app(
            stateless_http=stateless, json_response=stateless, transport_security=open_security
        )
        path = "/mcp"
    sink: list[Recorded] = []
    with serve_asgi(_Recorder(app, sink, reject_modern=kind == "legacy"), path=path) as url:
        yield Backend(name=name, kind=kind, url=url, requests=sink)


@pytest.fixture
def backends() -> Iterator[Callable[..., Backend]]:
    """Start any number of backends in a test: ``backends("elk-1", kind="legacy")``; all stop at teardown."""
    with ExitStack() as stack:

        def start(name: str = "alpha", kind: BackendKind = "dual", **options: Any) -> Backend:
            return stack.enter_context(start_backend(name, kind, **options))

        yield start


def paginated_app(total: int = 120, page_size: int = 50) -> Any:
    """A low-level SDK ``Server`` whose ``tools/list`` spreads ``total`` tools over pages with opaque cursors."""
    import mcp_types as types
    from mcp.server.lowlevel import Server

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        start = int(params.cursor.removeprefix("page-")) if params is not None and params.cursor else 0
        tools = [
            types.Tool(name=f"tool_{i:03d}", input_schema={"type": "object", "properties": {}})
            for i in range(start, min(start + page_size, total))
        ]
        following = start + page_size
        return types.ListToolsResult(tools=tools, next_cursor=f"page-{following}" if following < total else None)

    server: Server[Any] = Server("paginated", on_list_tools=list_tools)
    return server.streamable_http_app(
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
